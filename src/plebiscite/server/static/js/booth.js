// The voting booth (/booth/UUID): the voter's browser encrypts the ballot (static/js/belenios/),
// shows its smart ballot tracker before it is cast, casts it (POST /api/elections/UUID/ballots)
// and confirms the tracker the server answers. "Audit this ballot" (Benaloh's challenge)
// reveals the randomness of a ballot that is then not cast, checks it here, offers it for an
// independent check (the audit page, plebiscite voter-audit) and encrypts the choices again.
// The secret credential stays in this page's memory: only the signed ballot leaves it.
// An election requiring voters to log in: a one-time code (or the link's #login=TOKEN).
//
// The voter's link may carry the credential in its fragment (/booth/UUID#credential=CRED,
// never sent to the server): the booth takes it out of the address bar at once and fills the
// credential step, so one "Vote" leads to the questions. At the credential step the booth
// derives the public credential (for this election's uuid) and asks the server whether it is
// on this board's list (GET /api/elections/UUID/credentials/PUBLIC, public data); if not, it
// derives it for the other regions of the referendum and names the one it belongs to. A
// board that takes no ballot now (GET .../voting) is said at once, with the opening or
// closing time, and links to the dashboard and the ballot box; once a ballot is cast the
// done step links to it in the ballot box (/ballots/UUID?tracker=T).
//
// The questions, their answers and the title are shown in the page's language when the poll's
// or referendum's record has them (the voting answer's referendum: its language and
// translations; texts.js), following a change of language; the election itself keeps the
// original texts, and the ballot is made from it: an answer is its position, whatever text
// shows it.

import { api, seg } from "./api.js";
import { showAuditResult, choicesList } from "./audit.js";
import {
  checkAudit,
  checkChoices,
  credentialLooksValid,
  hasWebCrypto,
  loadElection,
  makeBallot,
  publicCredential,
} from "./belenios/booth-core.js";
import { textOf, widgetOf } from "./booth-forms.js";
import { say } from "./common.js";
import { $, el, pathParams, replace } from "./dom.js";
import { formatTime, initI18n, language, t } from "./i18n.js";
import { localElectionQuestions, textsOf } from "./texts.js";

const STEPS = ["login", "credential", "closed", "questions", "review", "audit", "done"];

// The link's fragment (#credential=..., #login=...): read, then out of the address bar at once
// (and so out of the history); a fragment is never sent to the server, and nothing of it is
// stored.
const fragment = new URLSearchParams(location.hash.slice(1));
if (location.hash) history.replaceState(null, "", location.pathname + location.search);

const state = {
  uuid: null,
  electionText: null,
  election: null,
  session: null, // the voter session token, when the election requires logging in
  credential: null,
  linked: fragment.get("credential"), // the credential of the link, until it fills the step
  voting: null, // GET /api/elections/UUID/voting, when the server answers it
  choices: null,
  made: null, // {ballot, tracker, audit} of the ballot on show
  problems: null, // the last problems found with the choices
  auditUrl: null,
  voted: false, // the credential has a ballot on the board already
  credentialProblem: null, // what is wrong with the credential typed, as shown
};

function show(step, focus = true) {
  for (const s of STEPS) $(`#step-${s}`).hidden = s !== step;
  if (focus) $(`#step-${step} h2`).focus();
}

const status = () => $("#status");

// The page's status line, kept as (key, params, kind) so that it follows a change of language.
let notice = null;
function tell(key, params = {}, kind = "") {
  notice = key ? { key, params, kind } : null;
  say(status(), key ? t(key, params) : "", kind);
}

// -- the election: the exact text of its Setup ------------------------------------------------

// The election JSON of the board's Setup, byte for byte (its SHA-256 is the fingerprint every
// ballot carries), without the credential list that precedes the Setup event in the archive.
async function fetchElectionText(uuid) {
  const response = await api(`/api/elections/${seg(uuid)}/election`, { raw: true });
  return new TextDecoder("utf-8", { fatal: true }).decode(await response.arrayBuffer());
}

// -- the texts in the page's language -----------------------------------------------------------

// The record's texts (the voting answer's referendum), or null: the election's own texts.
const texts = () => state.voting?.referendum ?? null;

// The election's questions as the voter sees them: in the page's language when the record has
// it (views of the election's questions, texts.js), else the election's.
function shownQuestions() {
  const source = texts();
  return source ? localElectionQuestions(state.election.questions, source, language()) : state.election.questions;
}

// The election with its questions as shown: what the review and the audit's labels name.
function shownElection() {
  return Object.create(state.election, { questions: { value: shownQuestions() } });
}

// The election's name and description, the record's title in the page's language where the
// election's are made of it (a region's election: "TITLE (REGION)", its description TITLE).
function renderTitle() {
  const { name, description } = state.election;
  const source = texts();
  let shownName = name;
  let shownDescription = description;
  if (source && typeof source.title === "string") {
    const title = textsOf(source, language()).title;
    if (name === `${source.title} (${source.region})`) shownName = `${title} (${source.region})`;
    else if (name === source.title) shownName = title;
    if (description === source.title) shownDescription = title;
  }
  const node = $("#election-name");
  delete node.dataset.i18n;
  replace(node, shownName);
  replace($("#election-description"), shownDescription);
  document.title = t("booth.page-title", { name: shownName });
}

// The name of a board not made yet (the voting answer's: the record's title), in the page's
// language when the record has it.
function renderScheduledName() {
  const v = state.voting;
  const source = texts();
  const name = source && v.name === source.title ? textsOf(source, language()).title : (v.name ?? "");
  const node = $("#election-name");
  delete node.dataset.i18n;
  replace(node, name);
}

// -- questions --------------------------------------------------------------------------------

// Each question describes its form (form(): the widget, the hint, the texts) and the booth
// draws it with the widget's rendering (booth-forms.js); what is wrong with the choices is the
// question's (choiceProblem, voterMessage).

function renderQuestions() {
  const box = $("#questions");
  const previous = state.choices;
  replace(box);
  shownQuestions().forEach((q, i) => {
    const id = `q${i + 1}`;
    const form = q.form();
    const fs = el("fieldset", { id, "aria-describedby": `${id}-hint ${id}-error` });
    fs.append(
      el("legend", { text: q.question }),
      el("p", { class: "hint", id: `${id}-hint`, text: form.hint.map(textOf).join(" ") }),
      el("p", { class: "hint", id: `${id}-error`, role: "alert" }),
    );
    widgetOf(form).render(fs, form, { id, index: i, old: previous?.[i] });
    box.append(fs);
  });
}

function readChoices() {
  return state.election.questions.map((q, i) => {
    const form = q.form();
    return widgetOf(form).read($(`#q${i + 1}`), form);
  });
}

function problemMessage(p) {
  const q = p.question ? shownQuestions()[p.question - 1] : null;
  const text = q?.voterMessage(p);
  return text ? textOf(text) : p.message;
}

function showChoiceProblems(problems, focus = true) {
  state.problems = problems;
  state.election.questions.forEach((_, i) => {
    const fs = $(`#q${i + 1}`);
    const mine = problems.filter((p) => p.question === i + 1);
    replace($(`#q${i + 1}-error`), mine.map(problemMessage).join(" "));
    if (mine.length) fs.setAttribute("aria-invalid", "true");
    else fs.removeAttribute("aria-invalid");
  });
  if (problems.length && focus) {
    const first = problems.find((p) => p.question) ?? problems[0];
    let input = null;
    if (first.question) {
      const fs = $(`#q${first.question}`);
      const widget = widgetOf(state.election.questions[first.question - 1].form());
      input = widget.focus(fs, first) ?? $("input", fs);
    }
    tell("booth.fix-choices", { count: problems.length }, "error");
    input?.focus();
  }
}

// -- encrypting, casting, auditing -----------------------------------------------------------

async function encrypt() {
  tell("booth.encrypting");
  $("#encrypt").disabled = true;
  try {
    state.made = await makeBallot(state.electionText, state.credential, state.choices);
  } finally {
    $("#encrypt").disabled = false;
  }
  replace($("#review-tracker"), state.made.tracker);
  replace($("#review-choices"), choicesList(shownElection(), state.choices));
  tell("booth.encrypted", {}, "ok");
  show("review");
}

async function cast() {
  const made = state.made;
  $("#cast").disabled = true;
  tell("booth.casting");
  try {
    const answer = await api(`/api/elections/${seg(state.uuid)}/ballots`, {
      body: made.ballot,
      token: state.session ?? undefined,
    });
    if (answer.tracker !== made.tracker) {
      tell("booth.tracker-mismatch", { tracker: answer.tracker }, "error");
      return;
    }
    state.made = null;
    $("#done-ballot-box").href = `/ballots/${seg(state.uuid)}?tracker=${encodeURIComponent(answer.tracker)}`;
    replace($("#done-tracker"), answer.tracker);
    replace($("#done-height"), String(answer.height));
    tell("booth.cast-ok", {}, "ok");
    show("done");
  } catch (e) {
    tell("booth.cast-failed", { message: e.message }, "error");
  } finally {
    $("#cast").disabled = false;
  }
}

async function audit() {
  const made = state.made;
  state.made = null; // an audited ballot is never cast
  const bundle = {
    election: state.electionText,
    ballot: made.ballot,
    audit: made.audit,
  };
  if (state.auditUrl) URL.revokeObjectURL(state.auditUrl);
  state.auditUrl = URL.createObjectURL(
    new Blob([JSON.stringify(bundle, null, 1)], { type: "application/json" }),
  );
  const save = $("#audit-save");
  save.href = state.auditUrl;
  save.download = `audit-${made.tracker.slice(0, 8).replace(/[^A-Za-z0-9]/g, "_")}.json`;
  $("#audit-json").value = JSON.stringify(made.audit, null, 1);
  $("#audit-ballot-json").value = made.ballot;
  replace($("#audit-tracker"), made.tracker);
  replace($("#audit-problems"));
  show("audit");
  say($("#audit-status"), t("audit.checking"));
  const report = await checkAudit(state.electionText, made.ballot, made.audit);
  showAuditResult(
    { status: $("#audit-status"), problems: $("#audit-problems"), section: $("#step-audit") },
    shownElection(),
    report,
  );
  tell("booth.audited", {}, "warn");
}

// -- logging in -------------------------------------------------------------------------------

async function logIn(body) {
  const answer = await api(`/api/elections/${seg(state.uuid)}/login`, { json: body });
  state.session = answer.token;
}

async function setUpLogin() {
  const token = fragment.get("login"); // out of the address bar already
  if (token) {
    try {
      await logIn({ token });
      return true;
    } catch {
      tell("booth.login-link-failed", {}, "error");
    }
  }
  show("login");
  $("#login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const login = $("#login").value.trim();
    if (!login) {
      $("#login").setAttribute("aria-invalid", "true");
      $("#login").focus();
      return;
    }
    $("#login").removeAttribute("aria-invalid");
    try {
      await api(`/api/elections/${seg(state.uuid)}/login-code`, { json: { login } });
      $("#code-form").hidden = false;
      tell("booth.code-sent", {}, "ok");
      $("#code").focus();
    } catch (err) {
      tell("booth.login-failed", { message: err.message }, "error");
    }
  });
  $("#code-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await logIn({ login: $("#login").value.trim(), code: $("#code").value.trim() });
      tell("booth.logged-in", {}, "ok");
      showCredentialStep();
    } catch (err) {
      $("#code").setAttribute("aria-invalid", "true");
      tell("booth.login-failed", { message: err.message }, "error");
      $("#code").focus();
    }
  });
  return false;
}

// -- the credential: on this board's list? ----------------------------------------------------

// Whether the public credential `pub` is on this board's list: {ok: true, voted}, or
// {ok: false, election: {uuid, name} | null} (on another board of the server, or on none), or
// null when the server cannot say (then the ballot's own check decides).
async function lookUp(pub) {
  try {
    const a = await api(`/api/elections/${seg(state.uuid)}/credentials/${seg(pub)}`);
    return { ok: true, voted: Boolean(a.voted) };
  } catch (e) {
    if (e.status === 404 && e.code === "unknown_credential") {
      const other = e.detail?.election;
      return { ok: false, election: other?.uuid ? { uuid: String(other.uuid), name: String(other.name) } : null };
    }
    return null;
  }
}

// What is wrong with `credential` for this election: null if nothing (or nothing known), else
// {key, params, election?}: the election it belongs to, when the server knows it.
async function credentialProblem(credential) {
  const group = state.election.group;
  let found;
  try {
    found = await lookUp(await publicCredential(credential, state.uuid, group));
  } catch {
    return null;
  }
  if (found === null) return null;
  if (found.ok) {
    state.voted = found.voted;
    return null;
  }
  let home = found.election;
  // a credential is derived with its own election's uuid: try the referendum's other regions
  const others = (state.voting?.referendum?.regions ?? []).filter((r) => r.election !== state.uuid);
  for (const r of others.slice(0, 32)) {
    if (home) break;
    try {
      const f = await lookUp(await publicCredential(credential, String(r.election), group));
      if (f && !f.ok && f.election) home = f.election;
    } catch {
      /* not a credential of that election's form */
    }
  }
  if (home) return { key: "booth.credential-elsewhere", params: { name: home.name }, election: home };
  return { key: "booth.credential-unknown", params: { name: state.election.name } };
}

function showCredentialProblem(problem, focus = true) {
  state.credentialProblem = problem;
  const input = $("#credential");
  const link = $("#credential-elsewhere");
  if (!problem) {
    input.removeAttribute("aria-invalid");
    replace($("#credential-error"));
    link.hidden = true;
    return;
  }
  input.setAttribute("aria-invalid", "true");
  replace($("#credential-error"), t(problem.key, problem.params));
  if (problem.election) {
    link.href = `/booth/${seg(problem.election.uuid)}`;
    replace(link, t("booth.go-to-booth", { name: problem.election.name }));
    link.hidden = false;
  } else {
    link.hidden = true;
  }
  if (focus) input.focus();
}

async function submitCredential() {
  const input = $("#credential");
  if (!credentialLooksValid(input.value)) {
    tell(null);
    showCredentialProblem({ key: "booth.credential-invalid", params: {} });
    return;
  }
  const credential = input.value.trim();
  const next = $("#credential-next");
  next.disabled = true;
  tell("booth.checking-credential");
  let problem;
  try {
    problem = await credentialProblem(credential);
  } finally {
    next.disabled = false;
  }
  tell(null);
  showCredentialProblem(problem);
  if (problem) return;
  state.credential = credential;
  input.value = ""; // kept in memory only, not in the form
  $("#credential-from-link").hidden = true;
  renderQuestions();
  tell(state.voted ? "booth.already-voted" : null, {}, "warn");
  show("questions");
}

function showCredentialStep() {
  show("credential", false);
  if (state.linked) {
    $("#credential").value = state.linked;
    state.linked = null;
    $("#credential-from-link").hidden = false;
    const next = $("#credential-next");
    next.dataset.i18n = "booth.vote";
    replace(next, t("booth.vote"));
    next.focus();
  } else {
    $("#credential").focus();
  }
}

// -- voting hours -------------------------------------------------------------------------------

function showClosed() {
  const v = state.voting;
  const refusal = v.refusal ?? { code: "voting_closed" };
  let key = "booth.closed";
  let time = null;
  if (refusal.code === "not_yet_open" && v.opening && v.now && v.now >= v.opening && v.status === "scheduled") {
    key = "booth.opening-soon"; // its time has come, its boards are being made
  } else if (refusal.code === "not_yet_open" && v.opening) {
    key = "booth.opens-at";
    time = v.opening;
  } else if (v.closed_at || (v.closing && v.now >= v.closing)) {
    key = "booth.closed-at";
    time = v.closed_at ?? v.closing;
  }
  tell(key, time ? { time: formatTime(time) } : {}, "warn");
  const rid = v.referendum?.id;
  $("#closed-dashboard-item").hidden = !rid;
  if (rid) $("#closed-dashboard").href = v.referendum.kind === "poll" ? `/poll/${seg(rid)}` : `/observe/${seg(rid)}`;
  // a board not made yet (a poll opening later) has no ballot box to show
  $("#closed-ballots").parentElement.hidden = v.status === "scheduled";
  $("#closed-ballots").href = `/ballots/${seg(state.uuid)}`;
  show("closed", false);
}

// -- the page ---------------------------------------------------------------------------------

function wire() {
  $("#credential-form").addEventListener("submit", (e) => {
    e.preventDefault();
    submitCredential().catch((err) => tell("booth.load-failed", { message: err.message }, "error"));
  });
  $("#questions-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const choices = readChoices();
    const problems = checkChoices(state.election, choices);
    showChoiceProblems(problems);
    if (problems.length) return;
    state.choices = choices;
    try {
      await encrypt();
    } catch (err) {
      tell("booth.encrypt-failed", { message: err.message }, "error");
    }
  });
  $("#cast").addEventListener("click", cast);
  $("#audit-ballot").addEventListener("click", audit);
  $("#change").addEventListener("click", () => {
    state.made = null;
    renderQuestions();
    tell(null);
    show("questions");
  });
  $("#reencrypt").addEventListener("click", () =>
    encrypt().catch((err) => tell("booth.encrypt-failed", { message: err.message }, "error")),
  );
  $("#vote-again").addEventListener("click", () => {
    renderQuestions();
    tell(null);
    show("questions");
  });
  document.addEventListener("i18n:changed", () => {
    if (state.election && !$("#step-questions").hidden) {
      state.choices = readChoices();
      renderQuestions();
      if (state.problems) showChoiceProblems(state.problems, false);
    }
    if (notice) tell(notice.key, notice.params, notice.kind);
    if (state.voting && !$("#step-closed").hidden) showClosed();
    if (state.credentialProblem) showCredentialProblem(state.credentialProblem, false);
    if (state.made && !$("#step-review").hidden) {
      replace($("#review-choices"), choicesList(shownElection(), state.choices));
    }
    if (state.election) renderTitle();
    else if (state.voting?.status === "scheduled") renderScheduledName();
  });
}

async function main() {
  await initI18n();
  wire();
  const [uuid] = pathParams(location.pathname.startsWith("/vote/") ? "/vote/" : "/booth/");
  if (!uuid) {
    tell("booth.no-election", {}, "error");
    return;
  }
  state.uuid = uuid;
  if (!hasWebCrypto()) {
    tell("booth.no-webcrypto", {}, "error");
    return;
  }
  tell("common.loading");
  try {
    // a poll or referendum not open yet may have no board: the voting hours say so first
    const early = await api(`/api/elections/${seg(uuid)}/voting`).catch(() => null);
    if (early && early.status === "scheduled") {
      state.voting = early;
      renderScheduledName();
      showClosed();
      return;
    }
    const summary = await api(`/api/elections/${seg(uuid)}`);
    state.electionText = await fetchElectionText(uuid);
    state.election = await loadElection(state.electionText);
    if (state.election.uuid !== uuid) throw new Error("the archive holds another election");
    renderTitle();
    try {
      state.voting = await api(`/api/elections/${seg(uuid)}/voting`);
    } catch {
      state.voting = null; // a server without it: the board's status decides
    }
    renderTitle(); // in the page's language, when the record has it
    if (state.voting && !state.voting.accepting) {
      showClosed();
      return;
    }
    if (!state.voting && summary.status !== "open" && summary.status !== "setup") {
      tell("booth.not-open", {}, "warn");
      return;
    }
    tell(null);
    let auth = { required: false };
    try {
      auth = await api(`/api/elections/${seg(uuid)}/voter-authentication`);
    } catch {
      /* a server without voter authentication */
    }
    if (auth.required && !(await setUpLogin())) return;
    showCredentialStep();
  } catch (e) {
    tell("booth.load-failed", { message: e.message }, "error");
  }
}

main();
