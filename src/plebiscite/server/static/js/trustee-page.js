// The page of one threshold trustee: /trustee/RID/INDEX#token=TOKEN (the single-purpose link
// the administrator sends to trustee INDEX of referendum RID).
//
// The token comes in the URL fragment (never sent to the server in a request line), is kept
// in this tab's sessionStorage and removed from the address bar; it is sent only as the Bearer
// token of this trustee's API routes. Everything secret is made and used here: the key file
// (the seed, static/js/trustee/core.js) is generated in the browser and offered as a download,
// or read from a file input; it is held in memory while the page is open and never sent. What
// the page sends: the certificate (step 1), the polynomial (step 3), the voutput (step 5) and
// each region's partial decryption, each as plebiscite trustee-threshold and trustee decrypt
// would make it. The same steps as shell commands are shown for trustees who prefer their own
// computer.

import { api, ApiError, seg } from "./api.js";
import { phaseBadge, say, statusBadge } from "./common.js";
import { $, el, pathParams, replace } from "./dom.js";
import { formatTime, initI18n, language, t } from "./i18n.js";
import * as core from "./trustee/core.js";
import { trusteeCommands } from "./trustee/commands.js";

const [rid = "", indexText = ""] = pathParams("/trustee/");
const index = /^[1-9][0-9]{0,2}$/.test(indexText) ? Number(indexText) : 0;
const base = `/api/referendums/${seg(rid)}/trustees/${index}`;
const TOKEN_KEY = `plebiscite.trustee-token:${rid}:${index}`;
const POLL_MS = 5000;
const MAX_KEY_FILE = 4096;

const state = {
  status: null, // GET /api/referendums/RID
  loadError: null,
  token: null,
  tokenProblem: null, // null, or the message of a refused token
  key: null, // {text, id, name}: the key file, in memory only
  generated: null, // step 1 made here and not yet sent: {id, cert, keyFile, keyFileName, url}
  downloaded: false,
  confirmed: false,
  x: null, // the decryption key recovered from the key file and the .dkey (memory only)
  busy: false,
  sent: {}, // region -> true once this page sent its partial decryption
};
const drawn = {};

// Draw a part only when what it shows changed (the reader's focus inside it stays put).
function section(name, deps, draw) {
  const key = JSON.stringify([language(), deps]);
  if (drawn[name] === key) return false;
  drawn[name] = key;
  draw();
  return true;
}

// -- the link token -------------------------------------------------------------------------------

function tokenFrom(text) {
  const s = String(text).trim();
  const m = /[#&]token=([^&\s]+)/.exec(s);
  try {
    return m ? decodeURIComponent(m[1]) : s;
  } catch {
    return s;
  }
}

function readToken() {
  if (/[#&]token=/.test(location.hash)) {
    const token = tokenFrom(location.hash);
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      /* storage disabled: the token lives in memory only */
    }
    history.replaceState(null, "", location.pathname + location.search);
    return token;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function setToken(token) {
  state.token = token || null;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled */
  }
}

// The server checks the token before anything else on the trustee's routes: 401 (no such
// token), 403 (another trustee's token), else (200, or 409 before the ceremony is done) it is
// this trustee's.
async function checkToken() {
  if (!state.token) {
    state.tokenProblem = t("trustee.token-missing");
    return;
  }
  try {
    await api(`${base}/dkey`, { token: state.token, raw: true });
    state.tokenProblem = null;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      state.tokenProblem = t("trustee.token-wrong", { message: e.message });
    } else if (e instanceof ApiError && e.status === 409) {
      state.tokenProblem = null;
    } else {
      throw e;
    }
  }
}

function trusteeApi(path, options = {}) {
  return api(`${base}${path}`, { ...options, token: state.token });
}

// -- what is expected of this trustee ----------------------------------------------------------------

function me() {
  return state.status?.ceremony.trustees[index - 1] ?? null;
}

function pendingRegions(st) {
  return st.regions.filter(
    (r) =>
      ["tallied", "decrypting"].includes(r.status) &&
      !(r.decrypted_by ?? []).includes(index) &&
      !state.sent[r.name],
  );
}

// The task: certificate, wait-certificates, polynomial, wait-polynomials, voutput,
// wait-voutputs, keep (ceremony done, voting not over), decrypt, wait-decryption, done.
function task() {
  const st = state.status;
  const c = st.ceremony;
  const mine = me();
  if (c.phase === "certificates") return mine.certificate ? "wait-certificates" : "certificate";
  if (c.phase === "polynomials") return mine.polynomial ? "wait-polynomials" : "polynomial";
  if (c.phase === "voutputs") return mine.voutput ? "wait-voutputs" : "voutput";
  if (st.phase === "done") return "done";
  if (st.phase === "decrypting") return pendingRegions(st).length ? "decrypt" : "wait-decryption";
  return "keep";
}

const NEEDS_KEY = ["polynomial", "voutput", "decrypt"];

function waitingFor(what) {
  const names = state.status.ceremony.trustees.filter((x) => !x[what]).map((x) => x.name);
  return names.join(", ");
}

// -- rendering ----------------------------------------------------------------------------------------

function renderFacts() {
  const st = state.status;
  const c = st.ceremony;
  const mine = me();
  section("facts", [st.title, st.phase, c.threshold, mine?.certificate, st.record.closing], () => {
    replace($("#title"), st.title);
    document.title = `${t("trustee.title")}: ${st.title}`;
    const rows = [
      [t("trustee.fact-referendum"), st.title],
      [t("trustee.fact-you"), t("trustee.you-are", { index, name: mine.name })],
      [
        t("trustee.fact-threshold"),
        t("trustee.threshold-value", { threshold: c.threshold, count: c.trustees.length }),
      ],
      [t("trustee.fact-phase"), phaseBadge(st.phase)],
      [t("trustee.fact-closing"), formatTime(st.record.closing)],
      [t("trustee.fact-group"), el("code", {}, st.group)],
      [
        t("trustee.fact-certificate"),
        mine.certificate ? el("code", { class: "hash" }, mine.certificate) : t("trustee.none-yet"),
      ],
    ];
    replace(
      $("#facts"),
      rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]),
    );
  });
}

function mark(done) {
  return el("span", { class: ["badge", done ? "ok" : ""] }, t(done ? "trustee.sent" : "trustee.waiting"));
}

function renderProgress() {
  const st = state.status;
  const c = st.ceremony;
  const opened = st.regions.some((r) => r.status !== "not-opened");
  section("progress", [c.trustees, c.phase, st.regions, opened], () => {
    const head = [
      t("trustee.col-trustee"),
      t("trustee.col-certificate"),
      t("trustee.col-polynomial"),
      t("trustee.col-voutput"),
    ];
    if (opened) head.push(t("trustee.col-decrypted"));
    const rows = c.trustees.map((x) => {
      const decrypted = st.regions.filter((r) => (r.decrypted_by ?? []).includes(x.index)).length;
      const cells = [
        el(
          "th",
          { scope: "row" },
          `${x.index}. ${x.name}`,
          x.index === index ? el("span", { class: "muted" }, ` (${t("trustee.you")})`) : null,
        ),
        el("td", {}, mark(Boolean(x.certificate))),
        el("td", {}, mark(x.polynomial)),
        el("td", {}, mark(x.voutput)),
      ];
      if (opened) {
        cells.push(
          el("td", {}, t("trustee.regions-count", { count: st.regions.length, done: decrypted })),
        );
      }
      return el("tr", {}, cells);
    });
    replace(
      $("#progress"),
      el(
        "table",
        {},
        el("caption", {}, t("trustee.progress-caption", { phase: t(`trustee.ceremony-${c.phase}`) })),
        el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows),
      ),
      opened ? regionsTable(st) : null,
    );
  });
  const error = c.error ? t("trustee.ceremony-error", { message: c.error }) : "";
  if ($("#ceremony-error").textContent !== error) replace($("#ceremony-error"), error);
}

function yourDecryption(r) {
  if ((r.decrypted_by ?? []).includes(index) || state.sent[r.name]) {
    return t("trustee.decrypted-yes");
  }
  return r.status === "done" ? t("trustee.decrypted-not-needed") : t("trustee.decrypted-no");
}

function regionsTable(st) {
  return el(
    "table",
    {},
    el("caption", {}, t("trustee.regions-caption")),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        [t("trustee.col-region"), t("trustee.col-status"), t("trustee.col-yours")].map((h) =>
          el("th", { scope: "col" }, h),
        ),
      ),
    ),
    el(
      "tbody",
      {},
      st.regions.map((r) =>
        el(
          "tr",
          {},
          el("th", { scope: "row" }, r.name),
          el("td", {}, statusBadge(r.status)),
          el("td", {}, yourDecryption(r)),
        ),
      ),
    ),
  );
}

function paragraph(key, params) {
  return el("p", {}, t(key, params));
}

function button(id, label, onClick, kind = "") {
  const b = el("button", { type: "button", id, class: kind || null }, label);
  b.addEventListener("click", onClick);
  return b;
}

function downloadLink() {
  const g = state.generated;
  // a Blob URL made here: set directly (el() accepts only links to this origin's pages)
  const a = el("a", { download: g.keyFileName, class: "button secondary", id: "download-key" });
  a.href = g.url;
  a.textContent = t("trustee.download", { name: g.keyFileName });
  a.addEventListener("click", () => {
    state.downloaded = true;
    const box = $("#key-saved");
    if (box) box.disabled = false;
  });
  return a;
}

function certificatePanel() {
  const text = [
    paragraph("trustee.task-certificate"),
    el(
      "div",
      { class: "once", role: "note" },
      el("p", {}, el("strong", {}, t("trustee.key-warning-title"))),
      el("p", {}, t("trustee.key-warning")),
    ),
  ];
  const actions = [];
  if (!state.generated) {
    actions.push(
      el(
        "div",
        { class: "actions" },
        button("generate", t("trustee.generate"), generate),
      ),
    );
  } else {
    const box = el("input", {
      type: "checkbox",
      id: "key-saved",
      disabled: !state.downloaded,
      checked: state.confirmed,
    });
    box.addEventListener("change", () => {
      state.confirmed = box.checked;
      $("#send-certificate").disabled = !box.checked;
    });
    const send = button("send-certificate", t("trustee.send-certificate"), sendCertificate);
    send.disabled = !state.confirmed;
    actions.push(
      paragraph("trustee.generated", { id: state.generated.id }),
      el("div", { class: "actions" }, downloadLink()),
      el(
        "div",
        { class: "field inline" },
        box,
        el("label", { for: "key-saved" }, t("trustee.key-saved")),
      ),
      el("div", { class: "actions" }, send),
    );
  }
  return [text, actions];
}

function keepPanel(st) {
  const text = [paragraph("trustee.task-keep")];
  if (st.phase === "open") text.push(paragraph("trustee.voting-open", { time: formatTime(st.record.closing) }));
  else text.push(paragraph("trustee.voting-not-open"));
  return [text, []];
}

function decryptPanel(st) {
  const regions = pendingRegions(st).map((r) => r.name);
  return [
    [
      paragraph("trustee.task-decrypt", { count: regions.length, regions: regions.join(", ") }),
      paragraph("trustee.decrypt-check"),
    ],
    [el("div", { class: "actions" }, button("decrypt", t("trustee.decrypt"), decryptAll))],
  ];
}

function taskPanel(name) {
  const st = state.status;
  switch (name) {
    case "certificate":
      return certificatePanel();
    case "wait-certificates":
    case "wait-polynomials":
    case "wait-voutputs": {
      const what = { "wait-certificates": "certificate", "wait-polynomials": "polynomial", "wait-voutputs": "voutput" }[name];
      const extra = state.generated
        ? [el("div", { class: "actions" }, downloadLink())]
        : [];
      return [[paragraph(`trustee.task-${name}`, { names: waitingFor(what) })], extra];
    }
    case "polynomial":
      return [
        [paragraph("trustee.task-polynomial", { threshold: st.ceremony.threshold })],
        [el("div", { class: "actions" }, button("send-polynomial", t("trustee.send-polynomial"), sendPolynomial))],
      ];
    case "voutput":
      return [
        [paragraph("trustee.task-voutput")],
        [el("div", { class: "actions" }, button("send-voutput", t("trustee.send-voutput"), sendVoutput))],
      ];
    case "keep":
      return keepPanel(st);
    case "decrypt":
      return decryptPanel(st);
    case "wait-decryption":
      return [[paragraph("trustee.task-wait-decryption")], []];
    default: {
      const link = el("a", { href: `/observe/${seg(rid)}` }, t("trustee.see-result"));
      return [[paragraph("trustee.task-done"), el("p", {}, link)], []];
    }
  }
}

function renderTask(focus = false) {
  if (state.busy) return;
  const name = task();
  const deps = [
    name,
    state.generated?.id,
    name === "decrypt" ? pendingRegions(state.status).map((r) => r.name) : null,
    name.startsWith("wait-") ? waitingFor(name.slice(5, -1)) : null,
    state.status.phase,
  ];
  const changed = section("task", deps, () => {
    const [text, actions] = taskPanel(name);
    replace($("#task"), text);
    replace($("#task-actions"), actions);
    $("#key-section").hidden = !NEEDS_KEY.includes(name);
    $("#task-section").dataset.task = name;
  });
  if (changed && focus) $("#h-task").focus();
}

function renderKeyState() {
  const k = state.key;
  replace(
    $("#key-state"),
    k ? t("trustee.key-loaded", { name: k.name, id: k.id }) : t("trustee.key-none"),
  );
}

function commandBlock(text, label) {
  const pre = el("pre", { tabindex: "0", "aria-label": label }, el("code", {}, text));
  const out = [pre];
  if (navigator.clipboard && window.isSecureContext) {
    const b = el("button", { type: "button", class: "secondary" }, t("trustee.copy"));
    b.addEventListener("click", () =>
      navigator.clipboard.writeText(text).then(
        () => say($("#status"), t("trustee.copied"), "ok"),
        () => {},
      ),
    );
    out.push(el("div", { class: "actions" }, b));
  }
  return out;
}

function renderCli() {
  const st = state.status;
  const c = st.ceremony;
  const mine = me();
  const now = task();
  const regions = st.regions.map((r) => ({ name: r.name, election: r.election }));
  section("cli", [st.group, c.threshold, mine.certificate, regions, now], () => {
    const cmds = trusteeCommands({
      origin: location.origin,
      rid,
      index,
      group: st.group,
      threshold: c.threshold,
      certId: mine.certificate,
      regions,
    });
    const stepNow = {
      certificate: "certificate",
      polynomial: "polynomial",
      voutput: "voutput",
      decrypt: "decrypt",
    }[now];
    const step = (id, title, intro, blocks) =>
      el(
        "section",
        { class: "card", "aria-labelledby": `cli-${id}` },
        el(
          "h3",
          { id: `cli-${id}` },
          title,
          stepNow === id ? [" ", el("span", { class: "badge warn" }, t("trustee.cli-now"))] : null,
        ),
        el("p", {}, intro),
        blocks.flat(Infinity),
      );
    replace(
      $("#cli"),
      step("setup", t("trustee.cli-setup"), t("trustee.cli-setup-intro"), commandBlock(cmds.setup, t("trustee.cli-setup"))),
      step(
        "certificate",
        t("trustee.cli-certificate"),
        t("trustee.cli-certificate-intro"),
        commandBlock(cmds.certificate, t("trustee.cli-certificate")),
      ),
      step(
        "polynomial",
        t("trustee.cli-polynomial"),
        t("trustee.cli-polynomial-intro"),
        commandBlock(cmds.polynomial, t("trustee.cli-polynomial")),
      ),
      step(
        "voutput",
        t("trustee.cli-voutput"),
        t("trustee.cli-voutput-intro"),
        commandBlock(cmds.voutput, t("trustee.cli-voutput")),
      ),
      step(
        "shuffle",
        t("trustee.cli-shuffle"),
        t("trustee.cli-shuffle-intro"),
        cmds.shuffle.map((d) => [
          el("h4", {}, t("trustee.cli-region", { region: d.region })),
          commandBlock(d.text, t("trustee.cli-shuffle-region", { region: d.region })),
        ]),
      ),
      step(
        "decrypt",
        t("trustee.cli-decrypt"),
        t("trustee.cli-decrypt-intro"),
        cmds.decrypt.map((d) => [
          el("h4", {}, t("trustee.cli-region", { region: d.region })),
          commandBlock(d.text, t("trustee.cli-decrypt-region", { region: d.region })),
        ]),
      ),
    );
  });
}

function render(focus = false) {
  const st = state.status;
  $("#token-section").hidden = !state.tokenProblem;
  if (!st) return;
  if (!me()) {
    replace($("#title"), t("trustee.title"));
    say($("#status"), t("trustee.no-such-trustee", { index: indexText }), "error");
    return;
  }
  renderFacts();
  renderTask(focus);
  renderKeyState();
  renderProgress();
  renderCli();
}

// -- refreshing ---------------------------------------------------------------------------------------

async function refresh(draw = true) {
  try {
    state.status = await api(`/api/referendums/${seg(rid)}`);
    state.loadError = null;
  } catch (e) {
    state.loadError = e.message;
    if (!state.status) {
      replace($("#title"), t("trustee.title"));
      say($("#status"), t("error.load", { message: e.message }), "error");
    }
    return;
  }
  // a region this page decrypted and the server shows decrypted needs no local note
  for (const r of state.status.regions) {
    if ((r.decrypted_by ?? []).includes(index)) delete state.sent[r.name];
  }
  if (draw) render();
}

// -- the steps -----------------------------------------------------------------------------------

async function working(message, job) {
  if (state.busy) return;
  state.busy = true;
  const section = $("#task-section");
  section.setAttribute("aria-busy", "true");
  for (const b of $("#task-actions").querySelectorAll("button")) b.disabled = true;
  say($("#status"), message, "");
  let ok = false;
  try {
    await job();
    ok = true;
  } catch (e) {
    say($("#status"), t("trustee.failed", { message: e.message }), "error");
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      state.tokenProblem = t("trustee.token-wrong", { message: e.message });
    }
  } finally {
    state.busy = false;
    section.removeAttribute("aria-busy");
    drawn.task = null; // the buttons come back
  }
  await refresh(false);
  render(ok);
  return ok;
}

function needKey() {
  if (state.key) return true;
  say($("#status"), t("trustee.key-needed"), "error");
  $("#key-file").focus();
  return false;
}

/** The context of this trustee's certificate: [index, threshold, trustees] in an Ed25519
 * referendum (a Belenios 3.x ceremony); none in the finite-field groups (the 2.0 record). */
function certificateContext() {
  const st = state.status;
  if (st.group !== "Ed25519") return null;
  return [index, st.ceremony.threshold, st.ceremony.trustees.length];
}

async function generate() {
  await working(t("trustee.generating"), async () => {
    const g = await core.generateKey(state.status.group, { context: certificateContext() });
    const blob = new Blob([g.keyFile], { type: "application/octet-stream" });
    state.generated = { ...g, url: URL.createObjectURL(blob) };
    state.downloaded = false;
    state.confirmed = false;
    state.key = { text: g.keyFile, id: g.id, name: g.keyFileName };
    state.x = null;
    say($("#status"), t("trustee.generated-status", { name: g.keyFileName }), "ok");
  });
  $("#download-key")?.focus();
}

async function sendCertificate() {
  if (!state.generated || !state.confirmed) return;
  await working(t("trustee.sending"), async () => {
    await trusteeApi("/certificate", { method: "POST", body: state.generated.cert });
    say($("#status"), t("trustee.certificate-sent", { id: state.generated.id }), "ok");
  });
}

function checkOwnKey() {
  const mine = me();
  if (mine.certificate && state.key.id !== mine.certificate) {
    throw new Error(t("trustee.key-not-yours", { id: state.key.id, mine: mine.certificate }));
  }
}

async function sendPolynomial() {
  if (!needKey()) return;
  await working(t("trustee.making-polynomial"), async () => {
    checkOwnKey();
    const st = state.status;
    const c = st.ceremony;
    const text = await core.polynomial(st.group, c.certificates, state.key.text, c.threshold);
    await trusteeApi("/polynomial", { method: "POST", body: text });
    say($("#status"), t("trustee.polynomial-sent"), "ok");
  });
}

async function sendVoutput() {
  if (!needKey()) return;
  await working(t("trustee.checking-shares"), async () => {
    checkOwnKey();
    const st = state.status;
    const vinput = await (await trusteeApi("/vinput", { raw: true })).text();
    const text = await core.voutput(st.group, st.ceremony.certificates, state.key.text, vinput);
    await trusteeApi("/voutput", { method: "POST", body: text });
    say($("#status"), t("trustee.voutput-sent"), "ok");
  });
}

async function decryptAll() {
  if (!needKey()) return;
  await working(t("trustee.decrypting"), async () => {
    checkOwnKey();
    const st = state.status;
    const params = st.ceremony.threshold_parameters;
    const vk = params.verification_keys[index - 1].public_key;
    if (state.x === null) {
      const dkey = await (await trusteeApi("/dkey", { raw: true })).text();
      state.x = await core.decryptionKey(st.group, state.key.text, dkey, vk);
    }
    const done = [];
    for (const r of pendingRegions(st)) {
      say($("#status"), t("trustee.decrypting-region", { region: r.name }), "");
      const tally = await api(`/api/referendums/${seg(rid)}/regions/${seg(r.name)}/tally`);
      const pd = await core.decryptTally(st.group, state.x, tally);
      await trusteeApi(`/regions/${seg(r.name)}/partial-decryption`, { method: "POST", body: pd });
      state.sent[r.name] = true;
      done.push(r.name);
    }
    say($("#status"), t("trustee.decrypted", { count: done.length, regions: done.join(", ") }), "ok");
  });
}

/** The certificate ID of a key file's keys. In a 3.x ceremony the certificate holds its
 * trustee's place: a key file that is not this trustee's is named by the certificate it was
 * made for, if another trustee sent it. */
async function keyFileId(text) {
  const st = state.status;
  const context = certificateContext();
  const id = await core.keyId(st.group, text, context);
  if (!context || id === me().certificate) return id;
  for (const [j, other] of st.ceremony.trustees.entries()) {
    if (!other.certificate || j + 1 === index) continue;
    const theirs = await core.keyId(st.group, text, [j + 1, context[1], context[2]]);
    if (theirs === other.certificate) return theirs;
  }
  return id;
}

async function loadKeyFile(input) {
  const file = input.files?.[0];
  if (!file) return;
  try {
    if (file.size > MAX_KEY_FILE) throw new Error(t("trustee.key-too-large"));
    const text = await file.text();
    const id = await keyFileId(text);
    const mine = me();
    if (mine.certificate && id !== mine.certificate) {
      throw new Error(t("trustee.key-not-yours", { id, mine: mine.certificate }));
    }
    state.key = { text, id, name: file.name };
    state.x = null;
    say($("#status"), t("trustee.key-loaded", { name: file.name, id }), "ok");
  } catch (e) {
    state.key = null;
    input.value = "";
    say($("#status"), t("trustee.key-refused", { message: e.message }), "error");
  }
  renderKeyState();
}

// -- start --------------------------------------------------------------------------------------------

async function main() {
  await initI18n();
  if (!rid || !index) {
    replace($("#title"), t("trustee.title"));
    say($("#status"), t("trustee.bad-link"), "error");
    return;
  }
  state.token = readToken();
  $("#key-file").addEventListener("change", (ev) => loadKeyFile(ev.target));
  $("#token-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("#token-input");
    setToken(tokenFrom(input.value));
    input.value = "";
    try {
      await checkToken();
    } catch (e) {
      say($("#status"), t("error.load", { message: e.message }), "error");
    }
    if (!state.tokenProblem) say($("#status"), t("trustee.token-ok"), "ok");
    else say($("#status"), state.tokenProblem, "error");
    render(true);
  });
  document.addEventListener("i18n:changed", () => render());
  await refresh();
  try {
    await checkToken();
  } catch (e) {
    say($("#status"), t("error.load", { message: e.message }), "error");
  }
  if (state.tokenProblem) say($("#status"), state.tokenProblem, "error");
  render();
  setInterval(() => {
    if (!document.hidden && !state.busy) refresh();
  }, POLL_MS);
  window.addEventListener("pagehide", () => {
    if (state.generated) URL.revokeObjectURL(state.generated.url);
  });
}

main();
