// /admin/: sign in (an administrator account, or the server's administrator token), then the
// list of referendums with their phase and the links to manage or observe them.

import { api, ApiError, seg } from "./api.js";
import { renderSession, signInWithAccount, signInWithToken, whoAmI } from "./admin-common.js";
import { phaseBadge, say } from "./common.js";
import { $, el, replace } from "./dom.js";
import { initI18n, t } from "./i18n.js";

let name = null;
let referendums = [];

function errorText(e) {
  if (e instanceof ApiError && e.code === "login_failed") return t("admin.login-failed");
  if (e instanceof ApiError && e.status === 401) return t("admin.token-refused");
  if (e instanceof ApiError && e.code === "rate_limited") return t("admin.rate-limited");
  if (e instanceof ApiError && e.code === "no_private_store") return t("admin.no-accounts");
  return e.message;
}

function renderList() {
  if (referendums.length === 0) {
    replace($("#list"), el("p", { class: "muted" }, t("admin.none")));
    return;
  }
  replace(
    $("#list"),
    el(
      "table",
      {},
      el("caption", { class: "visually-hidden" }, t("admin.referendums")),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, t("admin.col-title")),
          el("th", { scope: "col" }, t("admin.col-id")),
          el("th", { scope: "col" }, t("admin.col-phase")),
          el("th", { scope: "col" }, t("admin.col-links")),
        ),
      ),
      el(
        "tbody",
        {},
        referendums.map((r) =>
          el(
            "tr",
            {},
            el("th", { scope: "row" }, el("a", { href: `/admin/referendum/${seg(r.id)}` }, r.title)),
            el("td", {}, el("code", {}, r.id)),
            el("td", {}, phaseBadge(r.phase)),
            el(
              "td",
              {},
              el("a", { href: `/admin/referendum/${seg(r.id)}` }, t("admin.manage")),
              " · ",
              el("a", { href: `/observe/${seg(r.id)}` }, t("admin.observe")),
            ),
          ),
        ),
      ),
    ),
  );
}

function render() {
  $("#sign-in").hidden = name !== null;
  $("#signed-in").hidden = name === null;
  renderSession(name, async () => {
    name = null;
    render();
    say($("#status"), t("admin.signed-out"), "ok");
    $("#account-name").focus();
  });
  if (name !== null) renderList();
}

async function loadList() {
  referendums = await api("/api/referendums");
}

async function signedIn(who) {
  name = who ?? "";
  await loadList();
  render();
  say($("#status"), t("admin.welcome"), "ok");
  $("#new-link").focus();
}

async function main() {
  await initI18n();
  const status = $("#status");
  $("#account-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const n = $("#account-name").value.trim();
    const p = $("#account-password").value;
    if (!n || !p) {
      say(status, t("admin.fill-both"), "error");
      return;
    }
    try {
      const session = await signInWithAccount(n, p);
      $("#account-password").value = "";
      await signedIn(session.name);
    } catch (e) {
      say(status, errorText(e), "error");
    }
  });
  $("#token-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = $("#admin-token").value.trim();
    if (!token) {
      say(status, t("admin.fill-token"), "error");
      return;
    }
    try {
      const who = await signInWithToken(token);
      if (who === null) throw new ApiError(401, "unauthorized", "");
      $("#admin-token").value = "";
      await signedIn(who);
    } catch (e) {
      say(status, errorText(e), "error");
    }
  });
  try {
    name = await whoAmI();
    if (name !== null) await loadList();
  } catch (e) {
    say(status, t("error.load", { message: e.message }), "error");
  }
  render();
  document.addEventListener("i18n:changed", render);
}

main();
