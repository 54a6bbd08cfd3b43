// The observer dashboard of one referendum: /observe/RID.
//
// Everything comes from the public API: the referendum's status, the turnout over time, each
// region's signed checkpoints and the server key, and one live feed (server-sent events) for
// every region. Each new event refreshes the figures; a slow poll covers the phases before the
// boards exist. Checkpoint signatures are checked here too when the browser has Ed25519.

import { api, seg } from "./api.js";
import { phaseBadge, say, statusBadge } from "./common.js";
import { $, el, pathParams, replace } from "./dom.js";
import { formatNumber, formatPercent, formatTime, initI18n, language, t } from "./i18n.js";
import { renderResultCharts } from "./result-charts.js";
import { resultTables } from "./results.js";
import { localQuestions, markLanguage, textsOf } from "./texts.js";
import { TurnoutChart } from "./turnout-chart.js";

const [rid] = pathParams("/observe/");
const POLL_MS = 10000;
const FEED_MAX = 100;

const state = {
  status: null,
  turnout: null,
  serverKey: null,
  checkpoints: {}, // election uuid -> {phase, list}
  verified: {}, // signature -> true | false | null (not checkable here)
  feed: [],
  feedState: "connecting",
  error: null,
};
let chart = null;
let lastPhase = null;
let pending = null;
const drawn = {};

// Draw a section only when what it shows changed: a reader's focus inside it stays put.
function section(name, deps, draw) {
  const key = JSON.stringify([language(), deps]);
  if (drawn[name] === key) return;
  drawn[name] = key;
  draw();
}

// -- formatting -----------------------------------------------------------------------------------

function fraction(text) {
  if (text === null || text === undefined) return "—";
  const [n, d = "1"] = String(text).split("/");
  return t("common.fraction", { fraction: text, percent: formatPercent(Number(n) / Number(d)) });
}

function answerText(question, i) {
  return question.answers?.[i] ?? question.value?.answers?.[i] ?? String(i);
}

function questionText(question) {
  return question.question ?? question.value?.question ?? "";
}

function short(hash) {
  return hash ? `${hash.slice(0, 16)}…` : "—";
}

function regionsOf(status) {
  return status?.regions ?? [];
}

function totals(status) {
  const regions = regionsOf(status);
  const sum = (k) => regions.reduce((a, r) => a + (r[k] ?? 0), 0);
  const roll = sum("roll");
  const voted = sum("voted");
  return { roll, voted, ballots: sum("ballots"), height: sum("height"), turnout: roll ? voted / roll : 0 };
}

// -- data -----------------------------------------------------------------------------------------

async function loadCheckpoints() {
  for (const r of regionsOf(state.status)) {
    if (r.status === "not-opened") continue;
    const known = state.checkpoints[r.election];
    if (known && known.phase === r.status) continue;
    const list = await api(`/api/elections/${seg(r.election)}/checkpoints`);
    state.checkpoints[r.election] = { phase: r.status, list };
    for (const c of list) await verifySignature(c);
  }
}

function b64(text) {
  const s = text + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

// The checkpoint's Ed25519 signature, checked in the browser: true, false, or null when this
// browser cannot check it.
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
  } catch {
    ok = null;
  }
  state.verified[signed.signature] = ok;
}

async function refresh() {
  try {
    const [status, turnout] = await Promise.all([
      api(`/api/referendums/${seg(rid)}`),
      api(`/api/referendums/${seg(rid)}/turnout`),
    ]);
    state.status = status;
    state.turnout = turnout;
    if (!state.serverKey) state.serverKey = (await api("/api/server-key")).key;
    await loadCheckpoints();
    state.error = null;
  } catch (e) {
    state.error = e;
  }
  render();
}

function scheduleRefresh(delay = 300) {
  if (pending) return;
  pending = setTimeout(async () => {
    pending = null;
    await refresh();
  }, delay);
}

function connectFeed() {
  if (!window.EventSource) {
    state.feedState = "unsupported";
    return;
  }
  const source = new EventSource(`/api/referendums/${seg(rid)}/events`);
  source.addEventListener("open", () => {
    state.feedState = "live";
    renderFeedState();
  });
  source.addEventListener("error", () => {
    state.feedState = "reconnecting";
    renderFeedState();
  });
  source.addEventListener("message", (m) => {
    let event;
    try {
      event = JSON.parse(m.data);
    } catch {
      return;
    }
    state.feed.unshift({ ...event, received: Date.now() / 1000 });
    state.feed.length = Math.min(state.feed.length, FEED_MAX);
    renderFeed();
    scheduleRefresh();
  });
}

// -- rendering ------------------------------------------------------------------------------------

function stat(id, label, value) {
  return el("div", { class: "stat" }, el("dt", {}, label), el("dd", { id }, value));
}

function renderOverview() {
  const s = state.status;
  const sum = totals(s);
  replace(
    $("#stats"),
    el("div", { class: "stat" }, el("dt", {}, t("observe.phase")), el("dd", { id: "stat-phase" }, phaseBadge(s.phase))),
    stat("stat-voted", t("observe.voted"), t("observe.voted-of-roll", { voted: sum.voted, roll: sum.roll })),
    stat("stat-turnout", t("observe.turnout"), formatPercent(sum.turnout)),
    stat("stat-ballots", t("observe.ballots"), formatNumber(sum.ballots)),
    stat("stat-regions", t("observe.regions"), formatNumber(regionsOf(s).length)),
  );
  const rec = s.record;
  const trustees = rec.trustees;
  const facts = [
    [t("observe.id"), el("code", {}, s.id)],
    [t("observe.fingerprint"), el("code", { class: "hash" }, s.fingerprint)],
    [t("observe.opening"), formatTime(rec.opening)],
    [t("observe.closing"), formatTime(rec.closing)],
    [
      t("observe.trustees"),
      t("observe.trustees-value", {
        names: trustees.names.join(", "),
        threshold: trustees.threshold ?? trustees.names.length,
        count: trustees.names.length,
      }),
    ],
  ];
  if (trustees.hash) facts.push([t("observe.trustees-hash"), el("code", { class: "hash" }, trustees.hash)]);
  replace(
    $("#facts"),
    facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]),
  );
}

function verdictBadge(verdict) {
  const kind = { passed: "ok", failed: "bad", "quorum-not-met": "bad" }[verdict] ?? "warn";
  return el("span", { class: ["badge", kind] }, t(`verdict.${verdict}`));
}

function countRow(label, count, verdict) {
  return el(
    "tr",
    {},
    el("th", { scope: "row" }, label),
    el("td", { class: "num" }, count ? formatNumber(count.yes) : "—"),
    el("td", { class: "num" }, count ? formatNumber(count.valid) : "—"),
    el("td", { class: "num" }, count ? formatNumber(count.blank) : "—"),
    el("td", { class: "num" }, count ? fraction(count.share) : "—"),
    el("td", { class: "num" }, count ? fraction(count.turnout) : "—"),
    el("td", {}, verdictBadge(verdict)),
  );
}

// The outcome of the decision rule (a poll may have none: its counts only), the charts, then
// the counts of every region.
function renderResult() {
  const s = state.status;
  const out = [];
  const outcome = s.outcome;
  const rule = s.record.rule;
  const questions = localQuestions(s.record, language());
  const ruleQuestion = rule ? questions[rule.question] : null;
  if (!rule) {
    // no decision rule (a poll): the counts below are the outcome
    out.push(el("p", { class: "notice", id: "outcome" }, t("poll.observe-no-rule")));
  } else if (outcome) {
    out.push(
      el(
        "div",
        { class: ["notice", outcome.verdict === "passed" ? "ok" : "error"], id: "outcome" },
        el("p", {}, el("strong", {}, t("observe.outcome")), " ", verdictBadge(outcome.verdict)),
        el(
          "p",
          {},
          t("observe.outcome-about", {
            answer: answerText(ruleQuestion, rule.answer),
            question: questionText(ruleQuestion),
          }),
        ),
      ),
    );
    const rows = [];
    if (outcome.pooled) rows.push(countRow(t("observe.all-regions"), outcome.pooled, outcome.pooled.verdict));
    for (const r of outcome.regions) rows.push(countRow(r.name, r.count, r.verdict));
    out.push(
      el(
        "div",
        { class: "table-wrap", tabindex: 0, role: "region", "aria-label": t("observe.outcome-table") },
        el(
          "table",
          {},
          el("caption", {}, t("observe.outcome-table")),
          el(
            "thead",
            {},
            el(
              "tr",
              {},
              el("th", { scope: "col" }, t("observe.region")),
              el("th", { scope: "col", class: "num" }, t("observe.count-yes", { answer: answerText(ruleQuestion, rule.answer) })),
              el("th", { scope: "col", class: "num" }, t("observe.count-valid")),
              el("th", { scope: "col", class: "num" }, t("observe.blank")),
              el("th", { scope: "col", class: "num" }, t("observe.share")),
              el("th", { scope: "col", class: "num" }, t("observe.turnout")),
              el("th", { scope: "col" }, t("observe.verdict")),
            ),
          ),
          el("tbody", {}, rows),
        ),
      ),
    );
    out.push(
      el(
        "details",
        {},
        el("summary", {}, t("observe.explanation")),
        el("p", { lang: "en" }, outcome.explanation),
      ),
    );
  } else if (rule) {
    out.push(el("p", { class: "notice" }, t("observe.no-outcome", { phase: t(`phase.${s.phase}`) })));
  }
  replace($("#outcome-area"), out);
  renderResultCharts(s, $("#charts"));
  replace($("#result-tables"), resultTables(questions, regionsOf(s)));
}

function renderRegions() {
  const regions = regionsOf(state.status);
  const trustees = state.status.record.trustees.names;
  replace(
    $("#regions"),
    el(
      "table",
      { id: "regions-table" },
      el("caption", {}, t("observe.regions-caption")),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, t("observe.region")),
          el("th", { scope: "col" }, t("observe.status")),
          el("th", { scope: "col", class: "num" }, t("observe.voted")),
          el("th", { scope: "col", class: "num" }, t("observe.turnout")),
          el("th", { scope: "col", class: "num" }, t("observe.ballots")),
          el("th", { scope: "col", class: "num" }, t("observe.height")),
          el("th", { scope: "col" }, t("observe.authority")),
          el("th", { scope: "col" }, t("observe.decrypted-by")),
          el("th", { scope: "col" }, t("observe.archive")),
          el("th", { scope: "col" }, t("observe.vote")),
        ),
      ),
      el(
        "tbody",
        {},
        regions.map((r) =>
          el(
            "tr",
            { dataset: { region: r.name } },
            el("th", { scope: "row" }, r.name),
            el("td", {}, statusBadge(r.status)),
            el("td", { class: "num" }, t("observe.voted-of-roll", { voted: r.voted ?? 0, roll: r.roll })),
            el("td", { class: "num" }, r.turnout === undefined ? "—" : formatPercent(r.turnout)),
            el("td", { class: "num" }, r.ballots === undefined ? "—" : formatNumber(r.ballots)),
            el("td", { class: "num" }, r.height === undefined || r.height === null ? "—" : formatNumber(r.height)),
            el("td", {}, t(`observe.authority-${r.credential_authority}`)),
            el(
              "td",
              {},
              (r.decrypted_by ?? []).map((i) => trustees[i - 1] ?? String(i)).join(", ") || "—",
            ),
            el(
              "td",
              {},
              r.archive
                ? el(
                    "a",
                    { href: r.archive, download: `${r.election}.bel` },
                    t("observe.download-region", { region: r.name }),
                  )
                : "—",
            ),
            el(
              "td",
              {},
              r.status === "open"
                ? el("a", { href: `/booth/${seg(r.election)}` }, t("observe.vote-region", { region: r.name }))
                : "—",
            ),
          ),
        ),
      ),
    ),
  );
}

function renderFeedState() {
  replace($("#feed-state"), t(`observe.feed-${state.feedState}`));
}

function renderFeed() {
  renderFeedState();
  const feed = $("#feed");
  if (state.feed.length === 0) {
    replace(feed, el("li", { class: "muted" }, t("observe.feed-empty")));
    return;
  }
  replace(
    feed,
    state.feed.map((e) =>
      el(
        "li",
        {},
        el("time", {}, formatTime(e.received, { timeStyle: "medium" })),
        " · ",
        el("strong", {}, e.region),
        " · ",
        t(`event.${e.type}`),
        " · ",
        t("observe.at-height", { height: e.height }),
        " · ",
        el("code", { title: e.hash }, short(e.hash)),
      ),
    ),
  );
}

function verifiedText(signed) {
  const ok = state.verified[signed.signature];
  if (signed.key !== state.serverKey) return el("span", { class: "badge bad" }, t("observe.other-key"));
  if (ok === true) return el("span", { class: "badge ok" }, t("observe.signature-ok"));
  if (ok === false) return el("span", { class: "badge bad" }, t("observe.signature-bad"));
  return el("span", { class: "badge warn" }, t("observe.signature-unchecked"));
}

function renderCheckpoints() {
  replace(
    $("#server-key"),
    el("dt", {}, t("observe.server-key")),
    el("dd", {}, el("code", { class: "hash", id: "server-key-value" }, state.serverKey ?? "—")),
  );
  const cards = [];
  for (const r of regionsOf(state.status)) {
    const known = state.checkpoints[r.election];
    if (!known || known.list.length === 0) continue;
    const last = known.list[known.list.length - 1];
    const c = last.checkpoint;
    cards.push(
      el(
        "section",
        { class: "card", "aria-labelledby": `cp-${r.election}` },
        el("h3", { id: `cp-${r.election}` }, t("observe.last-checkpoint", { region: r.name })),
        el(
          "dl",
          { class: "kv" },
          el("dt", {}, t("observe.height")),
          el("dd", {}, formatNumber(c.height)),
          el("dt", {}, t("observe.last-event")),
          el("dd", {}, el("code", { class: "hash" }, c.hash)),
          el("dt", {}, t("observe.signed-at")),
          el("dd", {}, formatTime(c.time)),
          el("dt", {}, t("observe.phase")),
          el("dd", {}, t(`status.${c.phase}`)),
          el("dt", {}, t("observe.signature")),
          el("dd", {}, el("code", { class: "hash" }, last.signature), " ", verifiedText(last)),
          el("dt", {}, t("observe.previous")),
          el("dd", {}, c.previous ? el("code", { class: "hash" }, c.previous) : "—"),
        ),
        el(
          "p",
          {},
          el(
            "a",
            { href: `/api/elections/${seg(r.election)}/checkpoints` },
            t("observe.all-checkpoints", { count: known.list.length, region: r.name }),
          ),
        ),
      ),
    );
  }
  replace($("#checkpoints"), cards.length ? el("div", { class: "cards wide" }, cards) : el("p", { class: "muted" }, t("observe.no-checkpoints")));
}

function commandBlock(label, text) {
  const code = el("code", {}, text);
  const block = [el("p", { class: "hint" }, label), el("pre", {}, code)];
  if (navigator.clipboard && window.isSecureContext) {
    const button = el("button", { type: "button", class: "secondary" }, t("observe.copy"));
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(text);
        say($("#status"), t("observe.copied"), "ok");
      } catch {
        say($("#status"), t("observe.copy-failed"), "error");
      }
    });
    block.push(el("div", { class: "actions" }, button));
  }
  return block;
}

function renderVerify() {
  const origin = location.origin;
  const out = [];
  for (const r of regionsOf(state.status)) {
    if (!r.archive) continue;
    const u = r.election;
    const fetchCmd = `mkdir -p ${u}\ncurl -fsS -o ${u}/${u}.bel ${origin}/api/elections/${u}/archive`;
    out.push(
      el(
        "section",
        { class: "card", "aria-labelledby": `verify-${u}` },
        el("h3", { id: `verify-${u}` }, r.name),
        el(
          "p",
          {},
          el("a", { href: r.archive, download: `${u}.bel`, class: "button" }, t("observe.download-region", { region: r.name })),
        ),
        ...commandBlock(t("observe.cmd-download"), fetchCmd),
        ...commandBlock(t("observe.cmd-belenios"), `belenios-tool election verify --dir ${u}`),
        ...commandBlock(t("observe.cmd-plebiscite"), `plebiscite verify ${u}/${u}.bel`),
      ),
    );
  }
  const s = state.status;
  if (out.length > 0 && s.record_board) {
    // the referendum's own record board: the record, the opening, the signed outcome
    const file = `${s.id}.record.bel`;
    const archives = regionsOf(s)
      .filter((r) => r.archive)
      .map((r) => `${r.election}/${r.election}.bel`)
      .join(" ");
    out.push(
      el(
        "section",
        { class: "card", "aria-labelledby": "verify-record" },
        el("h3", { id: "verify-record" }, t("observe.record")),
        el("p", {}, el("a", { href: s.record_board, download: file, class: "button" }, t("observe.download-record"))),
        ...commandBlock(t("observe.cmd-download"), `curl -fsS -o ${file} ${origin}${s.record_board}`),
        ...commandBlock(t("observe.cmd-outcome"), `plebiscite referendum verify ${file} ${archives}`),
      ),
    );
  }
  if (out.length === 0) {
    replace($("#verify"), el("p", { class: "muted" }, t("observe.no-archive")));
    return;
  }
  replace(
    $("#verify"),
    el("div", { class: "cards wide" }, out),
    el("p", { class: "hint" }, t("observe.verify-since")),
  );
}

function ruleText(rule, questions) {
  if (!rule) return [t("poll.observe-no-rule")];
  const q = questions[rule.question];
  const params = {
    answer: answerText(q, rule.answer),
    question: questionText(q),
    threshold: fraction(rule.threshold),
  };
  const lines = [t(`rule.type-${rule.type}`), t(rule.strict ? "rule.needs-more-than" : "rule.needs-at-least", params)];
  const quorum = rule.quorum ?? {};
  if (quorum.turnout) lines.push(t("rule.quorum-turnout", { fraction: fraction(quorum.turnout) }));
  if (quorum.approval) lines.push(t("rule.quorum-approval", { ...params, fraction: fraction(quorum.approval) }));
  if (!quorum.turnout && !quorum.approval) lines.push(t("rule.no-quorum"));
  const several = (state.status?.regions ?? []).length > 1;
  if (rule.scope === "overall" && several) lines.push(t("rule.scope-overall"));
  if (rule.scope === "per-region") lines.push(t("rule.scope-per-region"));
  if (rule.regions) {
    const r = rule.regions;
    if (r.count !== undefined) lines.push(t("rule.regions-count", { count: r.count }));
    else lines.push(t(`rule.regions-share-${r.by}${r.strict ? "-strict" : ""}`, { share: fraction(r.share) }));
  }
  lines.push(t("rule.blank"));
  return lines;
}

function renderQuestions() {
  const rec = state.status.record;
  const out = [];
  const questions = localQuestions(rec, language());
  const lang = textsOf(rec, language()).lang;
  questions.forEach((q, i) => {
    const value = q.answers ? q : q.value;
    const lists = q.type === "Lists";
    const limits = q.answers
      ? t("observe.choose", { min: q.min, max: q.max })
      : t(lists ? "observe.choose-list" : "observe.rank");
    const answers = lists
      ? value.answers.map(([name, ...candidates]) =>
          el("li", {}, t("observe.list", { list: name }), el("ul", {}, candidates.map((c) => el("li", {}, c)))),
        )
      : value.answers.map((a) => el("li", {}, a));
    out.push(
      el(
        "section",
        { class: "card", "aria-labelledby": `q-${i}` },
        el(
          "h3",
          { id: `q-${i}` },
          t("observe.question-n", { n: i + 1 }),
          " ",
          markLanguage(el("span", {}, questionText(value)), lang, language()),
        ),
        markLanguage(el("ul", {}, answers), lang, language()),
        el("p", { class: "hint" }, limits, q.blank ? ` ${t("observe.blank-allowed")}` : ""),
      ),
    );
  });
  const cards = el("div", { class: "cards" }, out);
  if (!rec.rule) {
    replace($("#questions"), cards);
    return;
  }
  replace(
    $("#questions"),
    cards,
    el("h3", {}, t("observe.rule")),
    el("ul", { id: "rule" }, ruleText(rec.rule, questions).map((line) => el("li", {}, line))),
  );
}

function render() {
  const status = $("#status");
  if (state.error && !state.status) {
    const h1 = $("#title");
    delete h1.dataset.i18n;
    h1.textContent = t("observe.not-found-title");
    say(status, state.error.status === 404 ? t("observe.not-found", { id: rid ?? "" }) : t("error.load", { message: state.error.message }), "error");
    if (state.error.status === 404) {
      // only that: none of the dashboard's sections, empty, as if there were something to show
      for (const part of $("#main").children) {
        if (part !== h1 && part !== status && !part.classList.contains("muted")) part.hidden = true;
      }
      document.title = t("observe.not-found-title");
    }
    return;
  }
  if (!state.status) return;
  const s = state.status;
  const h1 = $("#title");
  delete h1.dataset.i18n;
  const texts = textsOf(s.record, language());
  h1.textContent = texts.title;
  markLanguage(h1, texts.lang, language());
  const titleEl = document.querySelector("title");
  delete titleEl.dataset.i18n;
  document.title = t("observe.page-title", { title: texts.title });
  if (state.error) say(status, t("error.load", { message: state.error.message }), "error");
  else if (lastPhase && lastPhase !== s.phase) say(status, t("observe.phase-changed", { phase: t(`phase.${s.phase}`) }), "ok");
  else if (status.classList.contains("error")) say(status, "");
  lastPhase = s.phase;
  const regions = regionsOf(s);
  section("overview", s, renderOverview);
  if (state.turnout) chart.update(state.turnout);
  section("result", [s.outcome, s.phase, regions.map((r) => r.result)], renderResult);
  section("regions", regions, renderRegions);
  renderFeed();
  section("checkpoints", [state.serverKey, state.checkpoints, state.verified], renderCheckpoints);
  section("verify", regions.map((r) => [r.name, r.election, r.archive]), renderVerify);
  section("questions", s.record, renderQuestions);
}

async function main() {
  await initI18n();
  chart = new TurnoutChart($("#chart"), $("#legend"), $("#chart-caption"), $("#turnout-table"));
  document.addEventListener("i18n:changed", () => {
    chart.relabel();
    render();
  });
  await refresh();
  if (state.status) connectFeed();
  renderFeed();
  setInterval(() => scheduleRefresh(0), POLL_MS);
}

main();
