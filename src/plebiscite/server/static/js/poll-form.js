// The home page's "Create a poll" form: a question, its answers (add, remove), the opening
// and closing times (now and a day later by default), the voters' e-mail addresses pasted,
// optional trustees. One submit creates the poll (POST /api/polls) and lands on its page;
// the answer (the voters' credentials, the trustees' link tokens: shown once) goes to this
// tab's sessionStorage for the poll page to show once, then forget.

import { adminToken, api, setAdminToken } from "./api.js";
import { say } from "./common.js";
import { $, $all, el } from "./dom.js";
import { t } from "./i18n.js";

// the most credentials of an open poll (the server's MAX_VOTERS, service/poll.py)
const MAX_POOL = 4194304;

export const CREATED_KEY = "plebiscite.poll-created.";
// what the server takes for an e-mail address (plebiscite.service.voters)
const EMAIL = /^[^@\s,;<>"()[\]\\:]+@[^@\s,;<>"()[\]\\:]+\.[^@\s,;<>"()[\]\\:]+$/;

class FormError extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

let answerCount = 0;

function renumber() {
  const items = $all("#poll-answers li");
  items.forEach((li, i) => {
    const n = i + 1;
    li.querySelector("label").textContent = t("poll.answer-n", { n });
    const remove = li.querySelector("button");
    remove.textContent = t("poll.remove-answer");
    remove.setAttribute("aria-label", t("poll.remove-answer-n", { n }));
    remove.disabled = items.length <= 2;
  });
}

function addAnswer(value = "") {
  answerCount += 1;
  const id = `poll-answer-${answerCount}`;
  const input = el("input", { id, class: "poll-answer", maxlength: "10000", autocomplete: "off" });
  input.value = value;
  const remove = el("button", { type: "button", class: "secondary" });
  const li = el("li", { class: "field" }, el("label", { for: id }), input, remove);
  remove.addEventListener("click", () => {
    li.remove();
    renumber();
    $("#poll-answers input")?.focus();
  });
  $("#poll-answers").append(li);
  renumber();
  return input;
}

function localInput(date) {
  const pad = (x) => String(x).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function utc(input) {
  const d = new Date(input.value);
  if (Number.isNaN(d.getTime())) throw new FormError(t("poll.err-time"), input);
  return d;
}

function iso(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// The request of the form, or a FormError naming the field.
function readRequest() {
  const question = $("#poll-question").value.trim();
  if (!question) throw new FormError(t("poll.err-question"), $("#poll-question"));
  const inputs = $all("#poll-answers input");
  const answers = inputs.map((i) => i.value.trim());
  const empty = inputs.find((i) => !i.value.trim());
  if (empty) throw new FormError(t("poll.err-answer"), empty);
  if (answers.length < 2) throw new FormError(t("poll.err-answers"), inputs[0] ?? $("#poll-add-answer"));
  const opening = utc($("#poll-opening"));
  const closing = utc($("#poll-closing"));
  if (closing <= opening) throw new FormError(t("poll.err-closing"), $("#poll-closing"));
  if (closing <= new Date()) throw new FormError(t("poll.err-closing-past"), $("#poll-closing"));
  const base = {
    question,
    answers,
    opening: opening <= new Date() ? "now" : iso(opening),
    closing: iso(closing),
  };
  if (openMode()) {
    // more credentials than a shard takes make several shards: the server splits them
    const pool = Number($("#poll-pool").value.trim());
    if (!Number.isInteger(pool) || pool < 1 || pool > MAX_POOL) {
      throw new FormError(t("poll.err-pool", { most: MAX_POOL }), $("#poll-pool"));
    }
    return withTrustees({ ...base, voters: { open: { pool } } });
  }
  const emails = $("#poll-voters")
    .value.split(/[\n,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (emails.length === 0) throw new FormError(t("poll.err-voters"), $("#poll-voters"));
  const bad = emails.find((e) => !EMAIL.test(e));
  if (bad) throw new FormError(t("poll.err-email", { email: bad }), $("#poll-voters"));
  const voters = { emails };
  // a server that says whether it can mail (GET /api/polls/options) is told how to deliver
  if (options.mail !== undefined) voters.delivery = options.mail ? "mail" : "organiser";
  return withTrustees({ ...base, voters });
}

function withTrustees(body) {
  const names = $("#poll-trustees")
    .value.split("\n")
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length > 0) {
    body.trustees = { names };
    const k = $("#poll-threshold").value.trim();
    if (k) {
      const n = Number(k);
      if (!Number.isInteger(n) || n < 1 || n > names.length) {
        throw new FormError(t("poll.err-threshold", { count: names.length }), $("#poll-threshold"));
      }
      body.trustees.threshold = n;
    }
  }
  return body;
}

function markInvalid(field) {
  for (const node of $all("#poll-form [aria-invalid]")) node.removeAttribute("aria-invalid");
  if (field && field.tagName !== "BUTTON") field.setAttribute("aria-invalid", "true");
  field?.focus();
}

async function submit(event) {
  event.preventDefault();
  const status = $("#poll-form-status");
  let body;
  try {
    body = readRequest();
  } catch (e) {
    if (!(e instanceof FormError)) throw e;
    say(status, e.message, "error");
    markInvalid(e.field);
    return;
  }
  markInvalid(null);
  const token = $("#poll-token").value.trim();
  if (token) setAdminToken(token);
  if (!adminToken()) {
    say(status, t("poll.err-token"), "error");
    markInvalid($("#poll-token"));
    return;
  }
  const button = $("#poll-create");
  button.disabled = true;
  say(status, t("poll.creating"));
  try {
    const created = await api("/api/polls", { json: body, admin: true });
    sessionStorage.setItem(
      CREATED_KEY + created.id,
      JSON.stringify({ trustees: created.trustees, credentials: created.credentials }),
    );
    location.assign(`/poll/${encodeURIComponent(created.id)}`);
  } catch (e) {
    if (e.status === 401) setAdminToken(null);
    say(status, t("poll.err-create", { message: e.message }), "error");
    button.disabled = false;
  }
}

// What the server offers (GET /api/polls/options): {mail, sign_in, max_shard_size}; {} from
// a server that does not say (the list of addresses, as it takes it).
let options = {};

function openMode() {
  return $("#poll-mode input[value=open]").checked && !$("#poll-mode").hidden;
}

function showMode() {
  const open = openMode();
  $("#poll-pool-field").hidden = !open;
  $("#poll-voters-field").hidden = open;
  $("#poll-voters").required = !open;
  const key = options.mail === undefined ? null : options.mail ? "poll.delivery-mail" : "poll.delivery-organiser";
  $("#poll-delivery").textContent = key ? t(key) : "";
}

async function loadOptions() {
  try {
    options = await api("/api/polls/options");
  } catch {
    options = {};
  }
  $("#poll-mode").hidden = !(options.sign_in ?? []).length;
  showMode();
}

export function setUpPollForm() {
  const now = new Date();
  now.setSeconds(0, 0);
  $("#poll-opening").value = localInput(now);
  $("#poll-closing").value = localInput(new Date(now.getTime() + 86400 * 1000));
  addAnswer(t("poll.default-yes"));
  addAnswer(t("poll.default-no"));
  $("#poll-token-field").hidden = Boolean(adminToken());
  $("#poll-add-answer").addEventListener("click", () => addAnswer().focus());
  $("#poll-form").addEventListener("submit", submit);
  document.addEventListener("i18n:changed", () => {
    renumber();
    showMode();
  });
  for (const radio of $all("#poll-mode input")) radio.addEventListener("change", showMode);
  loadOptions();
}
