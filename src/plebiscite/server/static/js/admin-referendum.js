// /admin/referendum/RID: the administrator follows a referendum through its steps: the
// trustees' key ceremony and the independent credential authorities (polled), opening (the
// voters' credentials the server made are shown once), voting, closing and tallying, the
// trustees' shuffles (where a question is a ranking) and partial decryptions, and the
// published result (the verdict, and the counts of every question, Lists ones per list and
// candidate). Where the credentials go by mail (credential_delivery), the credentials step shows
// the letters' delivery: how many in each state, the failed addresses (personal data: this
// page is the administrator's), a button to send the failed ones again and, until the opening,
// a form to reissue a voter's credential.

import { api, ApiError, seg } from "./api.js";
import { commands, downloadLink, hasRanking, renderSession, trusteeCommands, whoAmI } from "./admin-common.js";
import { phaseBadge, say, statusBadge } from "./common.js";
import { $, el, pathParams, replace } from "./dom.js";
import { formatNumber, formatPercent, initI18n, language, t } from "./i18n.js";
import { resultTables } from "./results.js";

const [rid] = pathParams("/admin/referendum/");
const POLL_MS = 3000;

let status = null;
let opened = null; // the answer of POST .../open: the private credentials, shown once
let busy = false;
let confirmClose = false;
let drawn = "";
let letters = null; // GET .../letters?state=failed (credential_delivery "mail" only)
let reissueLogin = "";
let reissueRegion = "";

function errorMessage(e) {
  if (e instanceof ApiError && e.status === 401) return t("admin.token-refused");
  return e.message;
}

async function act(label, path, after, json) {
  if (busy) return;
  busy = true;
  say($("#status"), t("manage.working", { action: label }));
  render(true);
  try {
    const answer = await api(path, { method: "POST", admin: true, json });
    if (after) after(answer);
    say($("#status"), t("manage.done", { action: label }), "ok");
  } catch (e) {
    say($("#status"), t("manage.failed", { action: label, message: errorMessage(e) }), "error");
  } finally {
    busy = false;
    await refresh(true);
  }
}

function step(id, title, state, ...body) {
  const badge = {
    done: el("span", { class: "badge ok" }, t("manage.state-done")),
    current: el("span", { class: "badge warn" }, t("manage.state-current")),
    later: el("span", { class: "badge" }, t("manage.state-later")),
  }[state];
  return el(
    "li",
    { class: ["card", "step", state], id, "aria-current": state === "current" ? "step" : undefined },
    el("h2", {}, title, " ", badge),
    ...body,
  );
}

function check(ok) {
  return ok ? t("manage.yes") : t("manage.no");
}

function ceremonyStep() {
  const c = status.ceremony;
  const done = c.phase === "done";
  const rows = c.trustees.map((tr) =>
    el(
      "tr",
      {},
      el("th", { scope: "row" }, `${tr.index}. ${tr.name}`),
      el("td", {}, check(Boolean(tr.certificate))),
      el("td", {}, check(tr.polynomial)),
      el("td", {}, check(tr.voutput)),
    ),
  );
  const body = [
    el("p", {}, t("manage.ceremony-intro", { threshold: c.threshold, count: c.trustees.length })),
    el("p", {}, t("manage.ceremony-phase", { phase: t(`ceremony.${c.phase}`) })),
    el(
      "div",
      { class: "table-wrap", tabindex: 0, role: "region", "aria-label": t("manage.ceremony-table") },
      el(
        "table",
        { id: "ceremony-table" },
        el("caption", {}, t("manage.ceremony-table")),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, t("manage.trustee")),
            el("th", { scope: "col" }, t("manage.certificate")),
            el("th", { scope: "col" }, t("manage.polynomial")),
            el("th", { scope: "col" }, t("manage.voutput")),
          ),
        ),
        el("tbody", {}, rows),
      ),
    ),
  ];
  if (c.error) body.push(el("p", { class: "notice error", lang: "en" }, c.error));
  if (!done) {
    body.push(
      el(
        "details",
        {},
        el("summary", {}, t("manage.trustee-help")),
        el("p", { class: "hint" }, t("manage.trustee-help-text")),
        ...trusteeCommands({
          origin: location.origin,
          rid,
          index: "$INDEX",
          token: "$TOKEN",
          threshold: c.threshold,
          group: status.group,
          regions: [],
        }).flatMap((s) => [el("p", { class: "hint" }, s.label), ...commands(s.text)]),
      ),
    );
  }
  if (done) body.push(el("p", {}, t("manage.trustees-hash"), " ", el("code", { class: "hash" }, c.trustees_hash)));
  return step("step-ceremony", t("manage.step-ceremony"), done ? "done" : "current", ...body);
}

function authoritiesStep() {
  const regions = status.regions;
  const external = regions.filter((r) => r.credential_authority === "external");
  const ready = regions.every((r) => r.credentials_ready);
  const mailed = status.credential_delivery === "mail";
  const items = regions.map((r) =>
    el(
      "li",
      {},
      el("strong", {}, r.name),
      ": ",
      r.credential_authority === "server"
        ? t(mailed ? "letters.authority-server" : "manage.authority-server")
        : r.credentials_ready
          ? t("manage.authority-ready")
          : t("manage.authority-waiting"),
    ),
  );
  return step(
    "step-credentials",
    t("manage.step-credentials"),
    ready ? "done" : "current",
    el(
      "p",
      {},
      mailed
        ? t("letters.credentials-intro")
        : external.length
          ? t("manage.credentials-intro-external")
          : t("manage.credentials-intro-server"),
    ),
    el("ul", {}, items),
    ...lettersPart(),
  );
}

function table(id, caption, head, rows) {
  return el(
    "div",
    { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption },
    el(
      "table",
      { id },
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, head.map(([text, cls]) => el("th", { scope: "col", class: cls }, text)))),
      el("tbody", {}, rows),
    ),
  );
}

// The delivery of the credential letters (a referendum created with credential_delivery "mail").
function lettersPart() {
  if (status.credential_delivery !== "mail" || !letters) return [];
  const states = ["pending", "sent", "failed", "cancelled"];
  const counts = table(
    "letter-counts",
    t("letters.counts-table"),
    [[t("letters.state")], [t("letters.count"), "num"]],
    states.map((s) =>
      el(
        "tr",
        { dataset: { state: s } },
        el("th", { scope: "row" }, t(`letters.state-${s}`)),
        el("td", { class: "num" }, formatNumber(letters.counts[s] ?? 0)),
      ),
    ),
  );
  const out = [el("h3", {}, t("letters.heading")), el("p", {}, t("letters.intro")), counts];
  if (letters.letters.length) {
    out.push(
      table(
        "letters-failed",
        t("letters.failed-table"),
        [[t("letters.address")], [t("letters.region")], [t("letters.attempts"), "num"], [t("letters.error")]],
        letters.letters.map((x) =>
          el(
            "tr",
            {},
            el("th", { scope: "row" }, x.to),
            el("td", {}, x.label),
            el("td", { class: "num" }, formatNumber(x.attempts)),
            el("td", { lang: "en" }, x.error ?? "—"),
          ),
        ),
      ),
    );
    if (letters.next) out.push(el("p", { class: "hint" }, t("letters.more-failed", { id: rid })));
    const again = el("button", { type: "button", id: "resend-failed", disabled: busy }, t("letters.resend"));
    again.addEventListener("click", () => act(t("letters.resend"), `/api/referendums/${seg(rid)}/letters/resend-failed`));
    out.push(el("div", { class: "actions" }, again));
  } else {
    out.push(el("p", { id: "letters-none-failed" }, t("letters.none-failed")));
  }
  const served = status.regions.filter((r) => r.credential_authority === "server");
  if (status.phase === "ceremony" || status.phase === "ready") out.push(...reissueForm(served));
  return out;
}

function reissueForm(regions) {
  if (!regions.length) return [];
  if (!regions.some((r) => r.name === reissueRegion)) reissueRegion = regions[0].name;
  const region = el(
    "select",
    { id: "reissue-region" },
    regions.map((r) => el("option", { value: r.name, selected: r.name === reissueRegion }, r.name)),
  );
  const login = el("input", { id: "reissue-login", type: "email", required: true, autocomplete: "off", value: reissueLogin });
  region.addEventListener("change", () => {
    reissueRegion = region.value;
  });
  login.addEventListener("input", () => {
    reissueLogin = login.value;
  });
  const button = el("button", { type: "submit", id: "reissue", disabled: busy }, t("letters.reissue"));
  const form = el(
    "form",
    { id: "reissue-form" },
    el("p", {}, el("label", { for: "reissue-region" }, t("letters.region")), " ", region),
    el("p", {}, el("label", { for: "reissue-login" }, t("letters.reissue-login")), " ", login),
    el("div", { class: "actions" }, button),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { region: region.value, login: login.value.trim() };
    if (!body.login) {
      login.setAttribute("aria-invalid", "true");
      login.focus();
      return;
    }
    login.removeAttribute("aria-invalid");
    act(t("letters.reissue"), `/api/referendums/${seg(rid)}/voters/reissue`, () => {
      reissueLogin = "";
    }, body);
  });
  return [el("h3", {}, t("letters.reissue-heading")), el("p", {}, t("letters.reissue-intro")), form];
}

function credentialsOnce() {
  if (!opened) return [];
  const out = [
    el("p", {}, el("strong", {}, t("manage.credentials-once"))),
    el("p", {}, t("manage.credentials-once-hint")),
  ];
  for (const r of opened.regions) {
    if (!r.credentials) continue;
    const csv = ["login,weight,credential", ...r.credentials.map((c) => `${c.login},${c.weight},${c.credential}`)].join("\n");
    out.push(
      el(
        "p",
        {},
        downloadLink(`credentials-${r.election}.csv`, `${csv}\n`, t("manage.download-credentials", { region: r.name, count: r.credentials.length })),
      ),
    );
  }
  return [el("div", { class: "once", id: "credentials-once" }, out)];
}

function openStep() {
  const ready = status.phase === "ready" && status.regions.every((r) => r.credentials_ready);
  const isOpen = !["ceremony", "ready"].includes(status.phase);
  const button = el("button", { type: "button", id: "open", disabled: !ready || busy }, t("manage.open"));
  button.addEventListener("click", () =>
    act(t("manage.open"), `/api/referendums/${seg(rid)}/open`, (answer) => {
      opened = answer;
    }),
  );
  return step(
    "step-open",
    t("manage.step-open"),
    isOpen ? "done" : ready ? "current" : "later",
    el("p", {}, t("manage.open-intro")),
    isOpen ? el("p", {}, t("manage.opened")) : el("div", { class: "actions" }, button),
    ...credentialsOnce(),
  );
}

function votingStep() {
  const isOpen = status.phase === "open";
  const after = ["decrypting", "done"].includes(status.phase);
  const rows = status.regions.map((r) =>
    el(
      "tr",
      {},
      el("th", { scope: "row" }, r.name),
      el("td", {}, statusBadge(r.status)),
      el("td", { class: "num" }, t("observe.voted-of-roll", { voted: r.voted ?? 0, roll: r.roll })),
      el("td", { class: "num" }, r.turnout === undefined ? "—" : formatPercent(r.turnout)),
      el("td", { class: "num" }, r.ballots === undefined ? "—" : formatNumber(r.ballots)),
    ),
  );
  const body = [
    el(
      "div",
      { class: "table-wrap", tabindex: 0, role: "region", "aria-label": t("manage.turnout-table") },
      el(
        "table",
        { id: "turnout" },
        el("caption", {}, t("manage.turnout-table")),
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
          ),
        ),
        el("tbody", {}, rows),
      ),
    ),
  ];
  if (isOpen) {
    if (!confirmClose) {
      const b = el("button", { type: "button", id: "close", disabled: busy }, t("manage.close"));
      b.addEventListener("click", () => {
        confirmClose = true;
        render(true);
        $("#close-confirm")?.focus();
      });
      body.push(el("p", {}, t("manage.close-intro")), el("div", { class: "actions" }, b));
    } else {
      const yes = el("button", { type: "button", class: "danger", id: "close-confirm", disabled: busy }, t("manage.close-confirm"));
      const no = el("button", { type: "button", class: "secondary", id: "close-cancel" }, t("manage.cancel"));
      yes.addEventListener("click", () => {
        confirmClose = false;
        act(t("manage.close"), `/api/referendums/${seg(rid)}/close`);
      });
      no.addEventListener("click", () => {
        confirmClose = false;
        render(true);
        $("#close")?.focus();
      });
      body.push(el("p", { class: "notice warn" }, t("manage.close-warning")), el("div", { class: "actions" }, yes, no));
    }
  }
  return step("step-voting", t("manage.step-voting"), after ? "done" : isOpen ? "current" : "later", ...body);
}

// Each region's shuffles (regions with a ranking question): the server's own, then those of
// `needed` trustees, one after the other; a table, from the status's "shuffles" objects.
function shufflesTable() {
  const trustees = status.ceremony.trustees;
  const regions = status.regions.filter((r) => r.shuffles);
  if (!regions.length) return [];
  const rows = regions.map((r) => {
    const sh = r.shuffles;
    const by = sh.by ?? [];
    const state = sh.done ? t("manage.shuffles-done") : sh.open ? t("manage.shuffles-open") : t("manage.shuffles-waiting");
    return el(
      "tr",
      { dataset: { region: r.name } },
      el("th", { scope: "row" }, r.name),
      el("td", { class: "shuffle-server" }, sh.server ? t("manage.shuffle-made") : t("manage.shuffle-not-made")),
      el("td", { class: "shuffle-by" }, by.map((i) => `${i}. ${trustees[i - 1]?.name ?? ""}`.trim()).join(", ") || "—"),
      el("td", { class: "num shuffle-count" }, t("manage.shuffles-count", { count: by.length, needed: sh.needed })),
      el("td", { class: "shuffle-state" }, el("span", { class: ["badge", sh.done ? "ok" : "warn"] }, state)),
    );
  });
  return [
    el("h3", {}, t("manage.shuffles")),
    el("p", {}, t("manage.shuffles-intro", { needed: status.ceremony.threshold })),
    el(
      "div",
      { class: "table-wrap", tabindex: 0, role: "region", "aria-label": t("manage.shuffles-table") },
      el(
        "table",
        { id: "shuffles" },
        el("caption", {}, t("manage.shuffles-table")),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, t("observe.region")),
            el("th", { scope: "col" }, t("manage.shuffle-server")),
            el("th", { scope: "col" }, t("manage.shuffled-by")),
            el("th", { scope: "col", class: "num" }, t("manage.shuffles-progress")),
            el("th", { scope: "col" }, t("observe.status")),
          ),
        ),
        el("tbody", {}, rows),
      ),
    ),
  ];
}

function decryptStep() {
  const trustees = status.ceremony.trustees;
  const done = status.phase === "done";
  const current = status.phase === "decrypting";
  const ranking = hasRanking(status.record?.questions);
  const items = status.regions.map((r) =>
    el(
      "li",
      {},
      el("strong", {}, r.name),
      ": ",
      t("manage.decrypted-by", {
        names: (r.decrypted_by ?? []).map((i) => trustees[i - 1]?.name ?? String(i)).join(", ") || "—",
        count: (r.decrypted_by ?? []).length,
        threshold: status.ceremony.threshold,
      }),
      " ",
      statusBadge(r.status),
    ),
  );
  const body = [
    el("p", {}, t(ranking ? "manage.decrypt-intro-ranking" : "manage.decrypt-intro", { threshold: status.ceremony.threshold })),
    ...shufflesTable(),
    el("h3", {}, t("manage.decryptions")),
    el("ul", {}, items),
  ];
  if (current) {
    const regions = status.regions.map((r) => ({ name: r.name, election: r.election }));
    const shuffling = new Set(status.regions.filter((r) => r.shuffles && !r.shuffles.done).map((r) => r.name));
    const steps = trusteeCommands({
      origin: location.origin,
      rid,
      index: "$INDEX",
      token: "$TOKEN",
      threshold: status.ceremony.threshold,
      group: status.group,
      regions,
      shuffle: ranking,
    }).filter((s) => s.step === 4 || (s.step === "shuffle" && shuffling.has(s.region)));
    body.push(
      el(
        "details",
        {},
        el("summary", {}, t("manage.trustee-help")),
        el("p", { class: "hint" }, t("manage.trustee-help-text")),
        ranking ? el("p", { class: "hint" }, t("manage.shuffle-help-text", { needed: status.ceremony.threshold })) : null,
        ...steps.flatMap((s) => [
          el("p", { class: "hint" }, s.label),
          ...commands(s.text, { step: s.step, region: s.region ?? "" }),
        ]),
      ),
    );
  }
  return step("step-decrypt", t("manage.step-decrypt"), done ? "done" : current ? "current" : "later", ...body);
}

function publishedStep() {
  const done = status.phase === "done";
  const body = [];
  if (done && status.outcome) {
    body.push(
      el("p", { id: "verdict" }, t("manage.outcome"), " ", el("strong", {}, t(`verdict.${status.outcome.verdict}`))),
      el("div", { id: "counts" }, resultTables(status.record.questions, status.regions)),
    );
  } else {
    body.push(el("p", {}, t("manage.publish-intro")));
  }
  body.push(el("p", {}, el("a", { href: `/observe/${seg(rid)}` }, t("manage.observer-page"))));
  return step("step-published", t("manage.step-published"), done ? "done" : "later", ...body);
}

function render(force = false) {
  if (!status) return;
  // redraw only when something changed: a reader's focus stays where it is
  const key = JSON.stringify([language(), status, letters, Boolean(opened), busy, confirmClose]);
  if (!force && key === drawn) return;
  drawn = key;
  const h1 = $("#title");
  delete h1.dataset.i18n;
  h1.textContent = status.title;
  document.title = t("manage.page-title", { title: status.title });
  const focused = document.activeElement?.id;
  replace(
    $("#links"),
    phaseBadge(status.phase),
    " · ",
    el("code", {}, status.id),
    " · ",
    el("a", { href: `/observe/${seg(rid)}` }, t("manage.observer-page")),
    status.voter_authentication ? [" · ", el("span", { id: "voter-login" }, t("manage.voter-authentication"))] : null,
  );
  replace($("#steps"), ceremonyStep(), authoritiesStep(), openStep(), votingStep(), decryptStep(), publishedStep());
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

async function refresh(force = false) {
  try {
    status = await api(`/api/referendums/${seg(rid)}`);
    if (status.credential_delivery === "mail") {
      letters = await api(`/api/referendums/${seg(rid)}/letters?state=failed&limit=100`, { admin: true });
    }
  } catch (e) {
    say($("#status"), e.status === 404 ? t("observe.not-found", { id: rid ?? "" }) : t("error.load", { message: e.message }), "error");
    return;
  }
  render(force);
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
    const h1 = $("#title");
    delete h1.dataset.i18n;
    h1.textContent = t("manage.title");
    return;
  }
  $("#manage").hidden = false;
  await refresh();
  setInterval(() => {
    if (!busy && status?.phase !== "done") refresh();
  }, POLL_MS);
  document.addEventListener("i18n:changed", () => render(true));
}

main();
