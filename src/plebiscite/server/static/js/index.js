// The home page: every referendum on this server, with its phase and links.

import { api, seg } from "./api.js";
import { el, replace, $ } from "./dom.js";
import { initI18n, t } from "./i18n.js";
import { phaseBadge } from "./common.js";
import { setUpPollForm } from "./poll-form.js";

let referendums = [];
let polls = new Set();
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
        el("h3", {}, el("a", { href: polls.has(r.id) ? `/poll/${seg(r.id)}` : `/observe/${seg(r.id)}` }, r.title)),
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
  setUpPollForm();
  try {
    const [all, justPolls] = await Promise.all([api("/api/referendums"), api("/api/polls")]);
    referendums = all;
    polls = new Set(justPolls.map((p) => p.id));
  } catch (e) {
    failed = e.message;
  }
  render();
  document.addEventListener("i18n:changed", render);
}

main();
