// /admin/new: create a poll (one list of voters) or a referendum (several regions): the
// questions, the voters of each region (CSV), the trustees, the decision rule. The answer's
// link tokens (trustees, independent credential authorities) are shown once, with the
// commands each of them runs.

import { api, ApiError } from "./api.js";
import {
  authorityCommands,
  commands,
  downloadLink,
  hasRanking,
  renderSession,
  trusteeCommands,
  whoAmI,
} from "./admin-common.js";
import { say } from "./common.js";
import { $, $all, el, replace } from "./dom.js";
import { initI18n, t } from "./i18n.js";

let counter = 0;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FRACTION = /^(0|[1-9][0-9]{0,17})(\/[1-9][0-9]{0,17})?$/;
// what the server takes for an e-mail address (plebiscite.server.voterauth)
const EMAIL = /^[^@\s,;<>"()[\]\\:]+@[^@\s,;<>"()[\]\\:]+\.[^@\s,;<>"()[\]\\:]+$/;

class FormError extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

function kind() {
  return $("#kind-referendum").checked ? "referendum" : "poll";
}

// -- questions ---------------------------------------------------------------------------------

function field(id, labelKey, input, hintKey) {
  const children = [el("label", { for: id, i18n: labelKey }, t(labelKey))];
  if (hintKey) {
    children.push(el("span", { id: `${id}-hint`, class: "hint", i18n: hintKey }, t(hintKey)));
    input.setAttribute("aria-describedby", `${id}-hint`);
  }
  input.id = id;
  return el("div", { class: "field" }, ...children, input);
}

function checkbox(id, labelKey, checked) {
  return el(
    "div",
    { class: "field inline" },
    el("input", { type: "checkbox", id, checked }),
    el("label", { for: id, i18n: labelKey }, t(labelKey)),
  );
}

// The type of a question: "choose" (homomorphic: tick between min and max answers, counted
// by adding the encrypted votes), "rank" (non-homomorphic: each ballot a ranking, shuffled
// then decrypted one by one) or "lists" (a Lists question: one list, then at least one of its
// candidates, counted per list and candidate; its answers one list a line, "name: candidate,
// candidate").
function questionType(box) {
  return box.querySelector(".q-type").value;
}

function anyRanking() {
  return $all("#questions .question").some((b) => questionType(b) === "rank");
}

function addQuestion(values = {}) {
  const n = ++counter;
  const remove = el("button", { type: "button", class: "secondary remove" }, t("new.remove-question"));
  const type = el(
    "select",
    { class: "q-type" },
    el("option", { value: "choose", i18n: "new.q-type-choose" }, t("new.q-type-choose")),
    el("option", { value: "rank", i18n: "new.q-type-rank" }, t("new.q-type-rank")),
    el("option", { value: "lists", i18n: "new.q-type-lists" }, t("new.q-type-lists")),
  );
  type.value = values.type ?? "choose";
  const box = el(
    "fieldset",
    { class: "question", dataset: { n } },
    el("legend", {}),
    field(`q${n}-text`, "new.question-text", el("input", { class: "q-text", required: true, value: values.question ?? "" })),
    field(`q${n}-type`, "new.q-type", type, "new.q-type-hint"),
    field(
      `q${n}-answers`,
      "new.answers",
      el("textarea", { class: "q-answers", rows: 3, required: true }, values.answers ?? ""),
      "new.answers-hint",
    ),
    el(
      "div",
      { class: "choose-only" },
      el(
        "div",
        { class: "row" },
        field(`q${n}-min`, "new.min", el("input", { class: "q-min", type: "number", min: 0, value: values.min ?? 1 })),
        field(`q${n}-max`, "new.max", el("input", { class: "q-max", type: "number", min: 1, value: values.max ?? 1 })),
      ),
      checkbox(`q${n}-blank`, "new.blank", values.blank ?? true),
    ),
    el("p", { class: "hint rank-only", i18n: "new.rank-hint" }, t("new.rank-hint")),
    el("p", { class: "hint lists-only", i18n: "new.lists-hint" }, t("new.lists-hint")),
    el("div", { class: "actions" }, remove),
  );
  const setType = () => {
    box.querySelector(".choose-only").hidden = type.value !== "choose";
    box.querySelector(".rank-only").hidden = type.value !== "rank";
    box.querySelector(".lists-only").hidden = type.value !== "lists";
  };
  setType();
  type.addEventListener("change", () => {
    setType();
    recountVoters();
  });
  remove.addEventListener("click", () => {
    box.remove();
    renumber();
    $("#add-question").focus();
  });
  box.addEventListener("input", updateRuleChoices);
  $("#questions").append(box);
  renumber();
  return box;
}

function renumber() {
  const boxes = $all("#questions .question");
  boxes.forEach((b, i) => {
    const legend = b.querySelector("legend");
    legend.dataset.i18n = "new.question-n";
    legend.dataset.i18nArgs = JSON.stringify({ n: i + 1 });
    legend.textContent = t("new.question-n", { n: i + 1 });
    const remove = b.querySelector(".remove");
    remove.hidden = boxes.length === 1;
    remove.textContent = t("new.remove-question-n", { n: i + 1 });
  });
  updateRuleChoices();
}

function readQuestions() {
  return $all("#questions .question").map((b, i) => {
    const text = b.querySelector(".q-text").value.trim();
    const answers = b
      .querySelector(".q-answers")
      .value.split("\n")
      .map((a) => a.trim())
      .filter(Boolean);
    if (!text) throw new FormError(t("new.err-question", { n: i + 1 }), b.querySelector(".q-text"));
    if (answers.length < 1) throw new FormError(t("new.err-answers", { n: i + 1 }), b.querySelector(".q-answers"));
    if (questionType(b) === "lists") {
      const lists = answers.map((line) => {
        const colon = line.indexOf(":");
        const name = colon < 0 ? "" : line.slice(0, colon).trim();
        const candidates = colon < 0 ? [] : line.slice(colon + 1).split(",").map((c) => c.trim()).filter(Boolean);
        if (!name || !candidates.length) {
          throw new FormError(t("new.err-list", { n: i + 1, line }), b.querySelector(".q-answers"));
        }
        return [name, ...candidates];
      });
      return { type: "Lists", value: { answers: lists, question: text } };
    }
    if (questionType(b) === "rank") {
      if (answers.length < 2) throw new FormError(t("new.err-rank-answers", { n: i + 1 }), b.querySelector(".q-answers"));
      return { type: "NonHomomorphic", value: { answers, question: text } };
    }
    const min = Number(b.querySelector(".q-min").value);
    const max = Number(b.querySelector(".q-max").value);
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < 1 || min > max || max > answers.length) {
      throw new FormError(t("new.err-min-max", { n: i + 1, count: answers.length }), b.querySelector(".q-max"));
    }
    const q = { question: text, answers, min, max };
    if (b.querySelector(`#q${b.dataset.n}-blank`).checked) q.blank = true;
    return q;
  });
}

function updateRuleChoices() {
  const qSelect = $("#rule-question");
  const aSelect = $("#rule-answer");
  const keepQ = qSelect.value;
  const keepA = aSelect.value;
  const options = [];
  $all("#questions .question").forEach((b, i) => {
    if (questionType(b) === "choose" && Number(b.querySelector(".q-max").value) === 1) {
      const text = b.querySelector(".q-text").value.trim() || t("new.question-n", { n: i + 1 });
      options.push(el("option", { value: String(i) }, `${i + 1}. ${text}`));
    }
  });
  replace(qSelect, options);
  if ([...qSelect.options].some((o) => o.value === keepQ)) qSelect.value = keepQ;
  const box = $all("#questions .question")[Number(qSelect.value)];
  const answers = box
    ? box.querySelector(".q-answers").value.split("\n").map((a) => a.trim()).filter(Boolean)
    : [];
  replace(aSelect, answers.map((a, i) => el("option", { value: String(i) }, a)));
  if ([...aSelect.options].some((o) => o.value === keepA)) aSelect.value = keepA;
}

// -- regions and voter lists ------------------------------------------------------------------------

// A CSV voter list: "login" or "login,weight" per line (a header line "login[,weight]" is
// skipped). Returns the API's list: logins, or {login, weight}. Options: `emails` (voters log
// in by e-mail code: every login an e-mail address), `unitWeights` (a ranking question: every
// voter weighs 1, so a weight other than 1 is refused).
export function parseVoters(text, region, { emails = false, unitWeights = false } = {}) {
  const out = [];
  const seen = new Set();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const parts = line.split(",").map((p) => p.trim().replace(/^"(.*)"$/, "$1"));
    if (i === 0 && parts[0].toLowerCase() === "login") return;
    const where = { region, line: i + 1 };
    if (parts.length > 2 || !parts[0]) throw new FormError(t("new.err-csv-line", where));
    const login = parts[0];
    if (login.length > 256) throw new FormError(t("new.err-csv-login", where));
    if (emails && (login.length > 254 || !EMAIL.test(login))) {
      throw new FormError(t("new.err-csv-email", { ...where, login }));
    }
    if (seen.has(login)) throw new FormError(t("new.err-csv-twice", { ...where, login }));
    seen.add(login);
    if (parts.length === 2 && parts[1] !== "") {
      const w = Number(parts[1]);
      if (!/^[0-9]+$/.test(parts[1]) || !Number.isSafeInteger(w) || w < 1) {
        throw new FormError(t("new.err-csv-weight", where));
      }
      if (unitWeights && w !== 1) throw new FormError(t("new.err-csv-ranking-weight", where));
      out.push({ login, weight: w });
    } else {
      out.push(login);
    }
  });
  if (out.length === 0) throw new FormError(t("new.err-no-voters", { region }));
  return out;
}

function addRegion(name = "") {
  const n = ++counter;
  const voters = el("textarea", { class: "r-voters", rows: 4, spellcheck: "false" });
  const file = el("input", { class: "r-file", type: "file", accept: ".csv,text/csv,text/plain" });
  const count = el("p", { class: "hint r-count", id: `r${n}-count`, "aria-live": "polite" });
  const remove = el("button", { type: "button", class: "secondary remove" });
  const authority = el(
    "select",
    { class: "r-authority" },
    el("option", { value: "server", i18n: "new.authority-server" }, t("new.authority-server")),
    el("option", { value: "external", i18n: "new.authority-external" }, t("new.authority-external")),
  );
  const box = el(
    "fieldset",
    { class: "region", dataset: { n } },
    el("legend", {}),
    field(`r${n}-name`, "new.region-name", el("input", { class: "r-name", required: true, value: name, maxlength: 200 })),
    el(
      "div",
      { class: "row referendum-only" },
      field(`r${n}-weight`, "new.region-weight", el("input", { class: "r-weight", placeholder: "1", autocomplete: "off" })),
      field(`r${n}-population`, "new.region-population", el("input", { class: "r-population", type: "number", min: 0 })),
    ),
    field(`r${n}-file`, "new.voters-file", file),
    field(`r${n}-voters`, "new.voters-text", voters, "new.voters-text-hint"),
    count,
    field(`r${n}-authority`, "new.authority", authority, "new.authority-hint"),
    el("div", { class: "actions" }, remove),
  );
  const recount = () => {
    try {
      const list = parseVoters(voters.value, box.querySelector(".r-name").value || "?", voterOptions());
      voters.removeAttribute("aria-invalid");
      count.classList.remove("error-text");
      count.textContent = t("new.voter-count", { count: list.length });
    } catch (e) {
      const wrong = Boolean(voters.value.trim());
      count.classList.toggle("error-text", wrong);
      count.textContent = wrong ? e.message : "";
    }
  };
  box.recount = recount;
  // the count line says what is wrong with the list: read with the field
  voters.setAttribute("aria-describedby", `${voters.getAttribute("aria-describedby")} ${count.id}`);
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (!f) return;
    voters.value = await f.text();
    recount();
  });
  voters.addEventListener("input", recount);
  remove.addEventListener("click", () => {
    box.remove();
    renumberRegions();
    $("#add-region").focus();
  });
  $("#regions").append(box);
  renumberRegions();
  return box;
}

function voterOptions() {
  return { emails: $("#voter-authentication").checked, unitWeights: anyRanking() };
}

// Check every voter list again (the voters' login or a question's type changed).
function recountVoters() {
  for (const b of $all("#regions .region")) b.recount?.();
}

function renumberRegions() {
  const boxes = $all("#regions .region");
  const referendum = kind() === "referendum";
  boxes.forEach((b, i) => {
    const legend = b.querySelector("legend");
    const key = referendum ? "new.region-n" : "new.voter-list";
    legend.dataset.i18n = key;
    legend.dataset.i18nArgs = JSON.stringify({ n: i + 1 });
    legend.textContent = t(key, { n: i + 1 });
    const remove = b.querySelector(".remove");
    remove.hidden = !referendum || boxes.length === 1;
    remove.textContent = t("new.remove-region-n", { n: i + 1 });
    for (const x of b.querySelectorAll(".referendum-only")) x.hidden = !referendum;
  });
  $("#add-region").hidden = !referendum;
}

function setKind() {
  const referendum = kind() === "referendum";
  const boxes = $all("#regions .region");
  if (!referendum) boxes.slice(1).forEach((b) => b.remove());
  if (referendum && boxes.length === 1) addRegion(t("new.default-region-2"));
  renumberRegions();
  for (const o of $("#rule-type").options) if (o.value === "double-majority") o.hidden = !referendum;
  if (!referendum && $("#rule-type").value === "double-majority") $("#rule-type").value = "majority";
  updateRuleFields();
}

function readRegions() {
  const referendum = kind() === "referendum";
  const regions = [];
  const voters = {};
  const authority = {};
  for (const b of $all("#regions .region")) {
    const name = b.querySelector(".r-name").value.trim();
    if (!name) throw new FormError(t("new.err-region-name"), b.querySelector(".r-name"));
    if (name in voters) throw new FormError(t("new.err-region-twice", { region: name }), b.querySelector(".r-name"));
    const region = { name };
    if (referendum) {
      const weight = b.querySelector(".r-weight").value.trim();
      if (weight) {
        if (!FRACTION.test(weight)) throw new FormError(t("new.err-fraction", { value: weight }), b.querySelector(".r-weight"));
        region.weight = weight;
      }
      const population = b.querySelector(".r-population").value.trim();
      if (population) region.population = Number(population);
    }
    try {
      voters[name] = parseVoters(b.querySelector(".r-voters").value, name, voterOptions());
    } catch (e) {
      e.field = b.querySelector(".r-voters");
      throw e;
    }
    authority[name] = b.querySelector(".r-authority").value;
    regions.push(region);
  }
  return { regions, voters, authority };
}

// -- the rule ------------------------------------------------------------------------------------

function updateRuleFields() {
  const type = $("#rule-type").value;
  const threshold = $("#rule-threshold");
  if (type === "majority") {
    threshold.value = "1/2";
    threshold.readOnly = true;
  } else {
    threshold.readOnly = false;
    if (type === "supermajority" && threshold.value === "1/2") threshold.value = "2/3";
  }
  $("#scope-field").hidden = type === "double-majority" || kind() === "poll";
  $("#double-fields").hidden = type !== "double-majority";
}

function fractionField(id, optional) {
  const input = $(id);
  const v = input.value.trim();
  if (!v && optional) return undefined;
  if (!FRACTION.test(v)) throw new FormError(t("new.err-fraction", { value: v }), input);
  return v;
}

function readRule() {
  const type = $("#rule-type").value;
  if ($("#rule-question").value === "") throw new FormError(t("new.err-rule-question"), $("#rule-question"));
  const rule = {
    type,
    question: Number($("#rule-question").value),
    answer: Number($("#rule-answer").value || 0),
    strict: $("#rule-strict").checked,
  };
  if (type !== "majority") rule.threshold = fractionField("#rule-threshold", false);
  const quorum = {};
  const turnout = fractionField("#rule-quorum-turnout", true);
  const approval = fractionField("#rule-quorum-approval", true);
  if (turnout) quorum.turnout = turnout;
  if (approval) quorum.approval = approval;
  if (turnout || approval) rule.quorum = quorum;
  if (type === "double-majority") {
    const value = $("#rule-regions-value").value.trim();
    if ($("#rule-regions-mode").value === "count") {
      if (!/^[1-9][0-9]*$/.test(value)) throw new FormError(t("new.err-count"), $("#rule-regions-value"));
      rule.regions = { count: Number(value) };
    } else {
      rule.regions = { share: fractionField("#rule-regions-value", false) };
    }
  } else {
    rule.scope = $("#rule-scope").value;
  }
  return rule;
}

// -- times and the whole request ----------------------------------------------------------------

function localInput(date) {
  const pad = (x) => String(x).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function utc(input) {
  const d = new Date(input.value);
  if (Number.isNaN(d.getTime())) throw new FormError(t("new.err-time"), input);
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function readRequest() {
  const title = $("#title").value.trim();
  if (!title) throw new FormError(t("new.err-title"), $("#title"));
  const id = $("#rid").value.trim();
  if (!ID.test(id)) throw new FormError(t("new.err-id"), $("#rid"));
  const opening = utc($("#opening"));
  const closing = utc($("#closing"));
  if (closing <= opening) throw new FormError(t("new.err-closing"), $("#closing"));
  const questions = readQuestions();
  const { regions, voters, authority } = readRegions();
  const names = $("#trustees").value.split("\n").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new FormError(t("new.err-trustees"), $("#trustees"));
  const threshold = Number($("#threshold").value);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > names.length) {
    throw new FormError(t("new.err-threshold", { count: names.length }), $("#threshold"));
  }
  const record = {
    version: 1,
    id,
    title,
    questions,
    regions,
    trustees: { names, threshold },
    opening,
    closing,
    rule: readRule(),
  };
  const request = { referendum: record, voters, credential_authority: authority };
  if ($("#voter-authentication").checked) request.voter_authentication = true;
  return request;
}

function slug(text) {
  const s = text
    .normalize("NFKD")
    .replace(/[^\x00-\x7f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${s || kind()}-${suffix}`;
}

// -- after creation: the links, shown once -------------------------------------------------------

function showCreated(answer) {
  const origin = location.origin;
  const regions = answer.regions.map((r) => ({ name: r.name, election: r.election }));
  const body = [];
  const all = [];
  for (const tr of answer.trustees) {
    const steps = trusteeCommands({
      origin,
      rid: answer.id,
      index: tr.index,
      token: tr.token,
      threshold: answer.threshold,
      group: answer.group,
      regions,
      shuffle: hasRanking(answer.record.questions),
    });
    const page = `${origin}/trustee/${encodeURIComponent(answer.id)}/${tr.index}#token=${encodeURIComponent(tr.token)}`;
    const text = [
      t("new.file-trustee", { name: tr.name, index: tr.index, title: answer.record.title }),
      `${t("new.trustee-page")} ${page}`,
      `TOKEN=${tr.token}`,
      "",
      ...steps.flatMap((s) => [`# ${s.label}`, s.text, ""]),
    ].join("\n");
    all.push(text);
    body.push(
      el(
        "section",
        { class: "card trustee", "aria-labelledby": `trustee-${tr.index}`, dataset: { index: tr.index } },
        el("h3", { id: `trustee-${tr.index}` }, t("new.trustee-n", { index: tr.index, name: tr.name })),
        el("p", {}, t("new.trustee-page"), " ", el("a", { href: page }, t("new.trustee-page-link"))),
        el("p", {}, t("new.link-token"), " ", el("code", { class: "hash token" }, tr.token)),
        el("p", {}, downloadLink(`trustee-${tr.index}.txt`, text, t("new.download-trustee", { name: tr.name }))),
        el(
          "details",
          {},
          el("summary", {}, t("new.trustee-commands")),
          el("p", { class: "hint" }, t("new.trustee-intro")),
          steps.flatMap((s) => [
            el("p", { class: "hint" }, s.label),
            ...commands(s.text, { trustee: tr.index, step: s.step, region: s.region ?? "" }),
          ]),
        ),
      ),
    );
  }
  for (const r of answer.regions) {
    if (r.authority !== "external") continue;
    const text = authorityCommands({
      origin,
      rid: answer.id,
      region: r.name,
      election: r.election,
      token: r.authority_token,
      group: answer.group,
    });
    all.push([t("new.file-authority", { region: r.name, title: answer.record.title }), text, ""].join("\n"));
    body.push(
      el(
        "section",
        { class: "card authority", "aria-labelledby": `authority-${r.election}`, dataset: { region: r.name } },
        el("h3", { id: `authority-${r.election}` }, t("new.authority-of", { region: r.name })),
        el("p", {}, t("new.link-token"), " ", el("code", { class: "hash token" }, r.authority_token)),
        el("p", { class: "hint" }, t("new.authority-intro")),
        ...commands(text, { authority: r.name }),
      ),
    );
  }
  replace(
    $("#created-body"),
    el("p", {}, downloadLink(`${answer.id}-links.txt`, all.join("\n\n"), t("new.download-all"))),
    el("div", { class: "cards wide" }, body),
    el(
      "p",
      { class: "actions" },
      el("a", { class: "button", id: "continue", href: `/admin/referendum/${encodeURIComponent(answer.id)}` }, t("new.continue")),
    ),
  );
  $("#create-form").hidden = true;
  $("#created").hidden = false;
  $("#created").focus();
}

// -- the page ------------------------------------------------------------------------------------

async function submit(ev) {
  ev.preventDefault();
  const errors = $("#form-errors");
  errors.hidden = true;
  for (const x of $all("[aria-invalid]")) x.removeAttribute("aria-invalid");
  let request;
  try {
    request = readRequest();
  } catch (e) {
    if (!(e instanceof FormError)) throw e;
    errors.hidden = false;
    replace(errors, e.message);
    if (e.field) {
      e.field.setAttribute("aria-invalid", "true");
      e.field.focus();
    } else {
      errors.focus();
    }
    return;
  }
  const button = $("#create");
  button.disabled = true;
  say($("#status"), t("new.creating"));
  try {
    const answer = await api("/api/referendums", { json: request, admin: true });
    say($("#status"), t("new.created-ok", { title: answer.record.title }), "ok");
    showCreated(answer);
  } catch (e) {
    errors.hidden = false;
    const message = e instanceof ApiError && e.status === 401 ? t("admin.token-refused") : e.message;
    replace(errors, t("new.refused", { message }));
    say($("#status"), "");
    errors.focus();
  } finally {
    button.disabled = false;
  }
}

async function main() {
  await initI18n();
  let name = null;
  try {
    name = await whoAmI();
  } catch (e) {
    say($("#status"), t("error.load", { message: e.message }), "error");
  }
  renderSession(name, () => location.assign("/admin/"));
  if (name === null) {
    $("#need-sign-in").hidden = false;
    return;
  }
  const form = $("#create-form");
  form.hidden = false;
  const now = new Date();
  now.setSeconds(0, 0);
  $("#opening").value = localInput(now);
  $("#closing").value = localInput(new Date(now.getTime() + 7 * 86400 * 1000));
  $("#trustees").value = "";
  addQuestion({ answers: `${t("new.default-yes")}\n${t("new.default-no")}` });
  addRegion(t("new.default-region"));
  let ridTouched = false;
  $("#rid").addEventListener("input", () => {
    ridTouched = true;
  });
  $("#title").addEventListener("change", () => {
    if (!ridTouched) $("#rid").value = slug($("#title").value);
  });
  $("#add-question").addEventListener("click", () => addQuestion().querySelector(".q-text").focus());
  $("#add-region").addEventListener("click", () => addRegion().querySelector(".r-name").focus());
  for (const r of form.querySelectorAll("[name=kind]")) r.addEventListener("change", setKind);
  $("#rule-type").addEventListener("change", updateRuleFields);
  $("#rule-question").addEventListener("change", updateRuleChoices);
  $("#voter-authentication").addEventListener("change", recountVoters);
  form.addEventListener("submit", submit);
  setKind();
  document.addEventListener("i18n:changed", () => {
    renumber();
    renumberRegions();
    recountVoters();
  });
}

main();
