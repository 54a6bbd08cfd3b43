// The audit page (/audit): check an audited ballot (Benaloh's challenge) on the voter's own
// device. The election, the ballot and the audit data are pasted or loaded from files (the
// booth's audit file holds all three); nothing is sent anywhere. Also exports the rendering
// of an audit's result and of a ballot's choices, which the booth uses.

import { ballotTracker, checkAudit, hasWebCrypto } from "./belenios/booth-core.js";
import { parseElectionSync } from "./belenios/election.js";
import { textOf } from "./booth-forms.js";
import { say } from "./common.js";
import { $, el, replace } from "./dom.js";
import { initI18n, t } from "./i18n.js";

// The label of the answer of an audit problem (a blank slot, an answer, a list, a candidate),
// as its question names it.
function answerLabel(question, p) {
  if (question) return textOf(question.auditLabel(p));
  return p.answer === 0 ? t("audit.blank-slot") : String(p.answer);
}

// One problem of checkAudit as a translated sentence (the English detail where useful).
export function problemText(election, p) {
  const q = election?.questions?.[p.question - 1];
  const where = {
    question: p.question ?? "",
    answer: p.answer === null || p.answer === undefined ? "" : answerLabel(q, p),
  };
  switch (p.code) {
    case "election":
      return t("audit.problem.election", { detail: p.message });
    case "audit_format":
      return t("audit.problem.audit-format", { detail: p.message });
    case "tracker":
      return t("audit.problem.tracker");
    case "election_mismatch":
      return t("audit.problem.election-mismatch");
    case "ballot":
      return t("audit.problem.ballot", { detail: p.message });
    case "choices":
      return t("audit.problem.choices", where);
    case "randomness":
      return p.answer === null
        ? t("audit.problem.randomness-question", where)
        : t("audit.problem.randomness", where);
    case "plaintext":
      return p.answer === null
        ? t("audit.problem.plaintext-question", where)
        : t("audit.problem.plaintext", where);
    case "proof":
      return t("audit.problem.proof", { detail: p.message });
    default:
      return p.message;
  }
}

// The choices of a ballot (belenios-tool's shape) as a list of questions with their answers,
// as each question tells them (review).
export function choicesList(election, choices) {
  const list = el("ol", { class: "choices" });
  election.questions.forEach((q, i) => {
    const picked = q.review(choices[i] ?? []).map(textOf);
    list.append(
      el(
        "li",
        {},
        el("span", { text: q.question }),
        el("ul", {}, ...picked.map((p) => el("li", { text: p }))),
      ),
    );
  });
  return list;
}

// Show the result of checkAudit in `parts` {status, tracker, problems, choices, section}.
export function showAuditResult(parts, election, report, tracker, choices) {
  const { status, problems, section } = parts;
  if (parts.tracker) replace(parts.tracker, tracker ?? "");
  replace(problems, ...report.problems.map((p) => el("li", { text: problemText(election, p) })));
  if (parts.choices) {
    replace(parts.choices, election && choices ? choicesList(election, choices) : "");
  }
  section.hidden = false;
  if (report.ok) say(status, t("audit.ok"), "ok");
  else say(status, t("audit.failed", { count: report.problems.length }), "error");
}

// -- the page -------------------------------------------------------------------------------

function readFile(input, target) {
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    if (file) target.value = (await file.text()).trim();
  });
}

async function page() {
  await initI18n();
  const form = $("#audit-form");
  const status = $("#status");
  const fields = { election: $("#election"), ballot: $("#ballot"), audit: $("#audit") };
  const parts = {
    status,
    tracker: $("#tracker"),
    problems: $("#problems"),
    choices: $("#choices"),
    section: $("#result"),
  };
  if (!hasWebCrypto()) say(status, t("booth.no-webcrypto"), "error");
  readFile($("#election-file"), fields.election);
  readFile($("#ballot-file"), fields.ballot);
  readFile($("#audit-file"), fields.audit);
  $("#bundle").addEventListener("change", async (e) => {
    const file = e.target.files?.[0];
    if (!file) return;
    try {
      const b = JSON.parse(await file.text());
      fields.election.value = b.election;
      fields.ballot.value = b.ballot;
      fields.audit.value = JSON.stringify(b.audit, null, 1);
      say(status, t("audit.loaded"));
    } catch {
      say(status, t("audit.bad-file"), "error");
    }
  });
  let last = null;
  const render = () => {
    if (last) showAuditResult(parts, last.election, last.report, last.tracker, last.choices);
  };
  document.addEventListener("i18n:changed", render);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const f of Object.values(fields)) f.removeAttribute("aria-invalid");
    const empty = Object.values(fields).filter((f) => !f.value.trim());
    if (empty.length) {
      for (const f of empty) f.setAttribute("aria-invalid", "true");
      say(status, t("audit.missing"), "error");
      empty[0].focus();
      return;
    }
    let audit;
    try {
      audit = JSON.parse(fields.audit.value);
    } catch {
      fields.audit.setAttribute("aria-invalid", "true");
      say(status, t("audit.bad-json"), "error");
      fields.audit.focus();
      return;
    }
    say(status, t("audit.checking"));
    let election = null;
    try {
      election = parseElectionSync(fields.election.value);
    } catch {
      /* reported by checkAudit */
    }
    const report = await checkAudit(fields.election.value, fields.ballot.value, audit);
    // the choices are shown only once the ballot is known to encrypt them
    const choices = report.ok ? audit.answers.map((a) => a.choices) : null;
    last = { election, report, tracker: await ballotTracker(fields.ballot.value), choices };
    render();
    $("#result-heading").focus();
  });
}

if (document.getElementById("audit-form")) page();
