// The public ballot box (/ballots/UUID): every ballot on the board by its smart ballot tracker,
// paged by board height (GET /api/elections/UUID/ballot-box), counted or replaced by a later
// ballot of the same credential; a search by tracker or its first characters; the board's
// height and its last signed checkpoint, whose Ed25519 signature is checked here.
// /ballots/UUID?tracker=T opens the page at the ballot T, highlighted (the booth links there
// once a ballot is cast); &limit=N chooses the ballots a page (50).

import { api, seg } from "./api.js";
import { say, statusBadge } from "./common.js";
import { $, el, pathParams, replace } from "./dom.js";
import { formatNumber, formatTime, initI18n, t } from "./i18n.js";

const TRACKER = /^[A-Za-z0-9+/]*$/;
const TRACKER_LENGTH = 43;
const MIN_PREFIX = 4;
// ballots a page: ?limit=N in the address (1 to 500), 50 by default
const LIMIT = (() => {
  const n = Number(new URLSearchParams(location.search).get("limit"));
  return Number.isInteger(n) && n >= 1 && n <= 500 ? n : 50;
})();

const state = {
  uuid: null,
  summary: null, // GET /api/elections/UUID
  serverKey: null,
  page: null, // the last answer of the ballot box
  query: {}, // {after, before, tracker}: what the page shows
  highlight: null, // the tracker to highlight
  verified: {}, // signature -> true, false or null (cannot check)
  notice: null,
};

function tell(key, params = {}, kind = "") {
  state.notice = key ? { key, params, kind } : null;
  say($("#status"), key ? t(key, params) : "", kind);
}

// A tracker as typed (spaces around it dropped) or as it came in the address (fromAddress): there
// a "+" not percent-encoded arrives as a space, also at either end.
function cleanTracker(text, { fromAddress = false } = {}) {
  const s = String(text ?? "");
  return fromAddress ? s.replaceAll(" ", "+").trim() : s.trim().replaceAll(" ", "+");
}

function b64(text) {
  const s = text + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

// The checkpoint's signature (plebiscite.protocol.checkpoints), checked in the browser.
async function verifySignature(signed) {
  if (signed.signature in state.verified) return;
  let ok = null;
  try {
    const key = await crypto.subtle.importKey("raw", b64(signed.key), { name: "Ed25519" }, false, [
      "verify",
    ]);
    const c = signed.checkpoint;
    const canonical = JSON.stringify({
      election: c.election,
      hash: c.hash,
      height: c.height,
      phase: c.phase,
      previous: c.previous,
      time: c.time,
    });
    const message = new TextEncoder().encode(`plebiscite checkpoint v1\n${canonical}`);
    ok = await crypto.subtle.verify({ name: "Ed25519" }, key, b64(signed.signature), message);
    if (ok && state.serverKey && signed.key !== state.serverKey) ok = false;
  } catch {
    ok = null;
  }
  state.verified[signed.signature] = ok;
}

async function fetchPage(query) {
  const params = new URLSearchParams({ limit: String(LIMIT) });
  for (const k of ["after", "before", "tracker"]) {
    if (query[k] !== undefined && query[k] !== null) params.set(k, String(query[k]));
  }
  return api(`/api/elections/${seg(state.uuid)}/ballot-box?${params}`);
}

async function show(query) {
  const page = await fetchPage(query);
  state.page = page;
  state.query = query;
  if (page.checkpoint) await verifySignature(page.checkpoint);
  render();
  return page;
}

// -- drawing -------------------------------------------------------------------------------------

function signatureText(signed) {
  const ok = state.verified[signed.signature];
  if (ok === true) return el("span", { class: "badge wraps ok" }, t("ballots.sig-valid"));
  if (ok === false) return el("span", { class: "badge wraps bad" }, t("ballots.sig-invalid"));
  return el("span", { class: "badge wraps warn" }, t("ballots.sig-unknown"));
}

function renderBoard() {
  const p = state.page;
  const items = [];
  if (state.summary) {
    items.push(el("dt", {}, t("ballots.election-status")), el("dd", {}, statusBadge(state.summary.status)));
  }
  if (p) {
    items.push(
      el("dt", {}, t("ballots.height")),
      el("dd", { id: "board-height" }, p.height === null ? "—" : formatNumber(p.height)),
      el("dt", {}, t("ballots.ballots")),
      el("dd", { id: "board-ballots" }, formatNumber(p.ballots)),
      el("dt", {}, t("ballots.counted")),
      el("dd", { id: "board-counted" }, formatNumber(p.counted)),
      el("dt", {}, t("ballots.checkpoint")),
    );
    const cp = p.checkpoint;
    if (!cp) {
      items.push(el("dd", { id: "board-checkpoint" }, t("ballots.checkpoint-none")));
    } else {
      const c = cp.checkpoint;
      items.push(
        el(
          "dd",
          { id: "board-checkpoint" },
          t("ballots.checkpoint-at", { height: c.height, time: formatTime(c.time) }),
          " ",
          signatureText(cp),
          el("br"),
          el("code", { class: "hash" }, c.hash),
        ),
      );
    }
  }
  replace($("#board"), items);
}

function statusCell(e) {
  if (e.status === "counted") return el("td", {}, el("span", { class: "badge ok" }, t("ballots.counted-badge")));
  return el(
    "td",
    {},
    el("span", { class: "badge warn" }, t("ballots.replaced-badge")),
    " ",
    t("ballots.replaced-by", { height: e.replaced_by }),
  );
}

function renderRows() {
  const p = state.page;
  const rows = (p?.entries ?? []).map((e) => {
    const mine = state.highlight !== null && e.tracker === state.highlight;
    return el(
      "tr",
      { class: mine ? "highlight" : "", "aria-current": mine ? "true" : false, id: mine ? "this-ballot" : false },
      el("td", { class: "num" }, formatNumber(e.height)),
      el(
        "td",
        {},
        el("code", { class: "hash" }, e.tracker),
        mine ? el("span", { class: "mine" }, ` ${t("ballots.this-ballot")}`) : null,
      ),
      statusCell(e),
    );
  });
  replace($("#rows"), rows);
  const search = state.query.tracker;
  const caption = $("#caption");
  delete caption.dataset.i18n;
  replace(caption, search ? t("ballots.caption-search", { prefix: search }) : t("ballots.caption"));
  let range = "";
  if (p && p.entries.length) {
    const first = p.entries[0].height;
    const last = p.entries[p.entries.length - 1].height;
    range = search
      ? t("ballots.found", { count: p.entries.length })
      : t("ballots.range", { from: formatNumber(first), to: formatNumber(last) });
  } else if (p) {
    range = search ? t("ballots.none-found", { prefix: search }) : t("ballots.range-none");
  }
  replace($("#range"), range);
  $("#earlier").disabled = !p?.previous;
  $("#later").disabled = !p?.next;
}

function render() {
  renderBoard();
  renderRows();
}

// -- finding a tracker ---------------------------------------------------------------------------

// The address of what the page shows (the tracker searched, if any; the page size if chosen).
function setAddress(tracker) {
  const params = new URLSearchParams();
  if (tracker) params.set("tracker", tracker);
  if (new URLSearchParams(location.search).has("limit")) params.set("limit", String(LIMIT));
  const query = params.toString();
  history.replaceState(null, "", query ? `${location.pathname}?${query}` : location.pathname);
}

function searchProblem(text) {
  if (!TRACKER.test(text)) return "ballots.search-chars";
  if (text.length < MIN_PREFIX || text.length > TRACKER_LENGTH) return "ballots.search-short";
  return null;
}

// The page that starts at the ballot `tracker`, highlighted; or the ballots whose tracker starts
// with the prefix.
async function find(text, { fromAddress = false } = {}) {
  const input = $("#search");
  const problem = searchProblem(text);
  if (problem) {
    input.setAttribute("aria-invalid", "true");
    replace($("#search-error"), t(problem));
    if (!fromAddress) input.focus();
    return;
  }
  input.removeAttribute("aria-invalid");
  replace($("#search-error"));
  setAddress(text);
  if (text.length === TRACKER_LENGTH) {
    const hit = await fetchPage({ tracker: text });
    const entry = hit.entries[0];
    if (!entry) {
      state.highlight = null;
      await show({ tracker: text });
      tell("ballots.not-found", { tracker: text }, "error");
      return;
    }
    state.highlight = text;
    await show({ after: entry.height - 1 });
    if (entry.status === "counted") tell("ballots.yours-counted", { height: entry.height }, "ok");
    else tell("ballots.yours-replaced", { height: entry.height, by: entry.replaced_by }, "warn");
    $("#this-ballot")?.scrollIntoView({ block: "center" });
    return;
  }
  state.highlight = null;
  const page = await show({ tracker: text });
  tell(null);
  if (!page.entries.length) tell("ballots.none-found", { prefix: text }, "warn");
}

function wire() {
  $("#search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    find(cleanTracker($("#search").value)).catch((err) =>
      tell("ballots.load-failed", { message: err.message }, "error"),
    );
  });
  $("#show-all").addEventListener("click", () => {
    state.highlight = null;
    $("#search").value = "";
    $("#search").removeAttribute("aria-invalid");
    replace($("#search-error"));
    setAddress(null);
    tell(null);
    show({}).catch((err) => tell("ballots.load-failed", { message: err.message }, "error"));
  });
  const move = (which) => {
    const p = state.page;
    const at = which === "later" ? p?.next : p?.previous;
    if (!at) return;
    const query = { ...at };
    if (state.query.tracker) query.tracker = state.query.tracker;
    show(query)
      .then(() => $(`#${which}`).disabled || $(`#${which}`).focus())
      .catch((err) => tell("ballots.load-failed", { message: err.message }, "error"));
  };
  $("#later").addEventListener("click", () => move("later"));
  $("#earlier").addEventListener("click", () => move("earlier"));
  document.addEventListener("i18n:changed", () => {
    if (state.summary) document.title = t("ballots.page-title", { name: state.summary.name });
    render();
    if (state.notice) tell(state.notice.key, state.notice.params, state.notice.kind);
    const problem = $("#search").getAttribute("aria-invalid") ? searchProblem(cleanTracker($("#search").value)) : null;
    if (problem) replace($("#search-error"), t(problem));
  });
}

async function main() {
  await initI18n();
  wire();
  const [uuid] = pathParams("/ballots/");
  if (!uuid) {
    tell("ballots.no-election", {}, "error");
    return;
  }
  state.uuid = uuid;
  $("#archive").href = `/api/elections/${seg(uuid)}/archive`;
  tell("common.loading");
  try {
    const [summary, key] = await Promise.all([
      api(`/api/elections/${seg(uuid)}`),
      api("/api/server-key").catch(() => null),
    ]);
    state.summary = summary;
    state.serverKey = key?.key ?? null;
    const title = $("#title");
    delete title.dataset.i18n;
    replace(title, summary.name);
    document.title = t("ballots.page-title", { name: summary.name });
    tell(null);
    const wanted = cleanTracker(new URLSearchParams(location.search).get("tracker"), {
      fromAddress: true,
    });
    if (wanted) {
      $("#search").value = wanted;
      await find(wanted, { fromAddress: true });
      if (!state.page) await show({});
    } else {
      await show({});
    }
  } catch (e) {
    tell("ballots.load-failed", { message: e.message }, "error");
  }
}

main();
