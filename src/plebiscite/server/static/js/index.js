// The home page: every referendum on this server, with its phase and links.

import { api, seg } from "./api.js";
import { el, replace, $ } from "./dom.js";
import { initI18n, t } from "./i18n.js";
import { phaseBadge } from "./common.js";

let referendums = [];
let failed = null;

function render() {
  const list = $("#referendums");
  const status = $("#status");
  if (failed) {
    status.className = "notice error";
    replace(status, t("error.load", { message: failed }));
  } else if (referendums.length === 0) {
    status.className = "notice";
    replace(status, t("home.none"));
  } else {
    replace(status);
  }
  replace(
    list,
    referendums.map((r) =>
      el(
        "li",
        { class: "card" },
        el("h3", {}, el("a", { href: `/observe/${seg(r.id)}` }, r.title)),
        el("p", { class: "muted" }, t("home.id", { id: r.id })),
        el("p", {}, phaseBadge(r.phase)),
        el(
          "p",
          {},
          el("a", { href: `/observe/${seg(r.id)}` }, t("home.observe")),
        ),
      ),
    ),
  );
}

async function main() {
  await initI18n();
  try {
    referendums = await api("/api/referendums");
  } catch (e) {
    failed = e.message;
  }
  render();
  document.addEventListener("i18n:changed", render);
}

main();
