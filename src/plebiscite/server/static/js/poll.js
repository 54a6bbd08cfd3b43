// /poll/ID: a poll's page (its share link). The question, the state (not yet open, open
// until ..., closed), the share link with a copy button and its QR code, who holds which
// power, the turnout, the link to the booth (a sharded poll: each voter's invitation links
// to their shard's booth; every shard's booth is listed) and, once closed, the result as a
// bar charts with the same numbers as tables (renderResultCharts of result-charts.js: all the
// votes pooled, and each shard's when there are several); before that the live turnout,
// refreshed while voting is open, the result staying encrypted until the close. Right after the creation from the home page, the voters'
// credentials and the trustees' link tokens are shown once (from this tab's sessionStorage,
// then forgotten). The title, the questions and their answers are shown in the page's
// language when the poll has them (its translations, texts.js), the charts' too.

import { api, ApiError, seg } from "./api.js";
import { say } from "./common.js";
import { $, el, pathParams, replace } from "./dom.js";
import { formatPercent, formatTime, initI18n, language, t } from "./i18n.js";
import { CREATED_KEY } from "./poll-form.js";
import { renderResultCharts } from "./result-charts.js";
import { markLanguage, textsOf } from "./texts.js";

const REFRESH_MS = 10_000;
let poll = null;
let created = null;

function fraction(text) {
  if (text === null || text === undefined) return null;
  const [n, d] = String(text).split("/").map(Number);
  return d ? n / d : n;
}

function renderState() {
  const when = (s) => formatTime(s, { dateStyle: "long", timeStyle: "short" });
  const key = `poll.state-${poll.state}`;
  replace($("#state"), el("strong", {}, t(key, { opening: when(poll.opening), closing: when(poll.closing) })));
}

function renderQuestions(texts) {
  replace(
    $("#questions"),
    texts.questions.map(({ question, answers }) =>
      markLanguage(
        el(
          "div",
          { class: "card" },
          el("h3", {}, question),
          el("ul", {}, answers.map((a) => el("li", {}, Array.isArray(a) ? a.join(", ") : a))),
        ),
        texts.lang,
        language(),
      ),
    ),
  );
}

// Who may vote (status.voters, when the server says): a list (each voter's link delivered by
// the server's mail, or given to the organiser to send), or open to the accounts of a sign-in
// provider, with each shard's pool of credentials.
function votersText(v) {
  if (v.mode === "open") {
    const issuer = v.sign_in?.issuer ?? "";
    const out = [el("p", { id: "voters-mode" }, t("poll.voters-open", { issuer, count: v.count }))];
    if ((v.pools ?? []).length > 0) {
      out.push(
        el(
          "ul",
          { id: "voters-pools" },
          v.pools.map((p) => el("li", {}, t("poll.voters-pool", { shard: p.shard, size: p.size, handed_out: p.handed_out }))),
        ),
      );
    }
    return out;
  }
  const key = v.delivery === "mail" ? "poll.voters-mail" : v.delivery === "organiser" ? "poll.voters-organiser" : "poll.voters-list";
  return [el("p", { id: "voters-mode" }, t(key, { count: v.count }))];
}

function renderVote() {
  const out = [];
  const open = poll.state === "open";
  if (poll.voters) out.push(...votersText(poll.voters));
  if (poll.voters?.mode === "open" && poll.vote_link) {
    out.push(
      el("p", {}, open ? t("poll.vote-sign-in") : t("poll.vote-not-open")),
      el("p", {}, el("a", { href: poll.vote_link, class: "button", id: "vote-link" }, t("poll.vote-sign-in-link"))),
    );
    replace($("#vote"), out);
    return;
  }
  if (poll.voters?.mode === "list") out.push(el("p", { id: "vote-message" }, t("poll.vote-message")));
  if (poll.shards.length === 1) {
    const s = poll.shards[0];
    out.push(
      el("p", {}, open ? t("poll.vote-open") : t("poll.vote-not-open")),
      el("p", {}, el("a", { href: `/booth/${seg(s.election)}`, class: "button", id: "vote-link" }, t("poll.vote"))),
    );
  } else {
    out.push(
      el("p", {}, t("poll.vote-shards", { count: poll.shards.length })),
      el(
        "ul",
        { id: "shard-booths" },
        poll.shards.map((s) =>
          el("li", {}, el("a", { href: `/booth/${seg(s.election)}` }, t("poll.shard-booth", { name: s.name }))),
        ),
      ),
      el("p", { class: "hint" }, t("poll.assignment", { rule: poll.assignment.description })),
    );
  }
  if (poll.login_codes) out.push(el("p", { class: "hint" }, t("poll.login-codes")));
  replace($("#vote"), out);
}

function renderShare() {
  $("#share-link").value = poll.share_link;
  const qr = $("#qr");
  const src = `/api/polls/${seg(poll.id)}/qr.svg`;
  if (qr.getAttribute("src") !== src) qr.setAttribute("src", src);
}

function renderPowers() {
  const statements = poll.powers?.statements;
  if (Array.isArray(statements) && statements.length > 0) {
    replace(
      $("#powers"),
      statements.map((text, i) =>
        el("li", i === 0 && poll.powers.server_can_decrypt ? { id: "server-can-decrypt" } : {}, i === 0 ? el("strong", {}, text) : text),
      ),
    );
    return;
  }
  const items = [];
  const names = poll.trustees.names;
  if (names.length === 0) {
    items.push(el("li", { id: "server-can-decrypt" }, el("strong", {}, t("poll.powers-server-decrypts"))));
  } else {
    items.push(
      el(
        "li",
        {},
        t("poll.powers-trustees", {
          names: names.join(", "),
          k: poll.trustees.threshold ?? names.length,
          count: names.length,
        }),
      ),
    );
    if (poll.state === "ceremony") items.push(el("li", {}, t("poll.powers-ceremony")));
  }
  // an open poll: who holds its credentials and who decides who may have one
  if (poll.voters?.mode === "open") items.push(el("li", { id: "powers-sign-in" }, t("poll.powers-sign-in")));
  items.push(el("li", {}, t("poll.powers-server-runs")), el("li", {}, t("poll.powers-anyone")));
  replace($("#powers"), items);
}

function renderTurnout() {
  const { roll, voted, share } = poll.turnout;
  replace(
    $("#turnout"),
    t("poll.turnout", { voted, roll, percent: share === null ? "—" : formatPercent(fraction(share)) }),
  );
  const bar = $("#turnout-bar");
  bar.max = Math.max(roll, 1);
  bar.value = voted;
  const live = poll.state === "open" || poll.state === "scheduled" || poll.state === "ceremony";
  replace(
    $("#turnout-updated"),
    live ? t("poll.turnout-live", { time: formatTime(new Date().toISOString(), { timeStyle: "medium" }) }) : "",
  );
  if (poll.shards.length < 2) {
    replace($("#shards"));
    return;
  }
  replace(
    $("#shards"),
    el(
      "div",
      { class: "table-wrap", tabindex: 0, role: "region", "aria-label": t("poll.shards-caption") },
      el(
        "table",
        {},
        el("caption", {}, t("poll.shards-caption")),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, t("poll.shard")),
            el("th", { scope: "col" }, t("poll.election")),
            el("th", { scope: "col", class: "num" }, t("poll.roll")),
            el("th", { scope: "col", class: "num" }, t("poll.voted")),
          ),
        ),
        el(
          "tbody",
          {},
          poll.shards.map((s) =>
            el(
              "tr",
              {},
              el("th", { scope: "row" }, s.name),
              el("td", { class: "mono" }, s.election),
              el("td", { class: "num" }, String(s.roll)),
              el("td", { class: "num" }, String(s.voted)),
            ),
          ),
        ),
      ),
    ),
  );
}

// The poll's status in the shape renderResultCharts (result-charts.js) reads, a
// referendum's: its questions and, once counted, each shard's result (a poll's shards are
// one vote: the charts pool them, and let one shard be chosen when there are several).
function chartStatus(status) {
  const counted = status.result ? status.result.shards : [];
  return {
    id: status.id,
    phase: status.phase,
    card: `/api/polls/${seg(status.id)}/card.png`,
    record: {
      title: status.title,
      questions: status.questions,
      language: status.language ?? null,
      translations: status.translations ?? {},
    },
    regions: status.shards.map((s) => {
      const c = counted.find((r) => r.name === s.name);
      return c ? { name: s.name, result: c.result } : { name: s.name };
    }),
  };
}

function renderResult() {
  const container = $("#result");
  renderResultCharts(chartStatus(poll), container, { perRegion: poll.shards.length > 1 });
  if (poll.result) container.append(el("p", { class: "hint" }, t("poll.result-shares")));
}

function csv(rows) {
  const cell = (v) => `"${String(v).replaceAll('"', '""')}"`;
  return rows.map((r) => r.map(cell).join(",")).join("\n") + "\n";
}

let createdShown = false;

// Nothing to hand on when the server keeps or mails the credentials (an open poll, a mail
// poll): then only the trustees' links, if any, under their own heading.
function renderCreated() {
  if (!created || createdShown) return;
  createdShown = true;
  const creds = created.credentials ?? [];
  if (creds.length === 0 && (created.trustees ?? []).length === 0) return;
  $("#created").hidden = false;
  const parts = [];
  if (creds.length > 0) {
    const text = csv([["login", "shard", "credential", "booth"], ...creds.map((c) => [c.login, c.shard, c.credential, c.booth])]);
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    parts.push(
      el("p", {}, t("poll.created-count", { count: creds.length })),
      el("p", {}, el("a", { href: url, download: `${poll.id}.credentials.csv`, class: "button", id: "download-credentials" }, t("poll.download-credentials"))),
    );
  } else {
    const heading = $("#h-created");
    heading.dataset.i18n = "poll.created-heading-trustees"; // kept on a change of language
    replace(heading, t(heading.dataset.i18n));
    $("#created-intro").hidden = true;
  }
  if ((created.trustees ?? []).length > 0) {
    parts.push(
      el("p", {}, t("poll.created-trustees")),
      el(
        "ul",
        {},
        created.trustees.map((tr) =>
          el("li", {}, `${tr.name}: `, el("code", { class: "mono" }, `${location.origin}/trustee/${seg(poll.id)}/${tr.index}#token=${encodeURIComponent(tr.token)}`)),
        ),
      ),
    );
  }
  replace($("#created-body"), parts);
}

function render() {
  if (!poll) return;
  const texts = textsOf(poll, language());
  markLanguage(replace($("#title"), texts.title), texts.lang, language());
  document.title = `${texts.title} — plebiscite`;
  renderState();
  renderCreated();
  renderQuestions(texts);
  renderVote();
  renderShare();
  renderPowers();
  renderTurnout();
  renderResult();
  replace($("#verify-command"), `plebiscite poll verify ${poll.share_link}`);
  $("#poll").hidden = false;
}

async function load(pid) {
  try {
    poll = await api(`/api/polls/${seg(pid)}`);
    replace($("#status"));
    $("#status").className = "notice";
  } catch (e) {
    const unknown = e instanceof ApiError && e.status === 404;
    say($("#status"), unknown ? t("poll.unknown", { id: pid }) : t("error.load", { message: e.message }), "error");
    if (unknown) replace($("#title"), t("poll.title"));
    return false;
  }
  render();
  return true;
}

async function copyLink() {
  const input = $("#share-link");
  try {
    await navigator.clipboard.writeText(input.value);
    say($("#copied"), t("poll.copied"), "ok");
  } catch {
    input.select();
    say($("#copied"), t("poll.copy-by-hand"), "warn");
  }
}

async function main() {
  await initI18n();
  const [pid] = pathParams("/poll/");
  if (!pid) {
    say($("#status"), t("poll.unknown", { id: "" }), "error");
    return;
  }
  const kept = sessionStorage.getItem(CREATED_KEY + pid);
  if (kept) {
    sessionStorage.removeItem(CREATED_KEY + pid); // shown this once
    try {
      created = JSON.parse(kept);
    } catch {
      created = null;
    }
  }
  $("#copy").addEventListener("click", copyLink);
  document.addEventListener("i18n:changed", render);
  if (!(await load(pid))) return;
  const timer = setInterval(async () => {
    if (poll.state === "closed") clearInterval(timer);
    else await load(pid);
  }, REFRESH_MS);
}

main();
