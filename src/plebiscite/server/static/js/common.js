// Pieces shared by the pages: phase and status badges, the live region for messages.

import { el, replace } from "./dom.js";
import { t } from "./i18n.js";

const PHASE_CLASS = {
  ceremony: "warn",
  ready: "warn",
  open: "ok",
  decrypting: "warn",
  done: "ok",
};

// The phase of a referendum (ceremony, ready, open, decrypting, done) as a badge.
export function phaseBadge(phase) {
  return el("span", { class: ["badge", PHASE_CLASS[phase] ?? ""] }, t(`phase.${phase}`));
}

const STATUS_CLASS = {
  open: "ok",
  done: "ok",
  closed: "warn",
  tallied: "warn",
  shuffling: "warn",
  shuffled: "warn",
  decrypting: "warn",
};

// The status of a region's election (not-opened, setup, open, closed, tallied, ...).
export function statusBadge(status) {
  return el("span", { class: ["badge", STATUS_CLASS[status] ?? ""] }, t(`status.${status}`));
}

// Show a message in a live region (kind: "", "ok", "error", "warn").
export function say(region, message, kind = "") {
  region.className = ["notice", kind].filter(Boolean).join(" ");
  replace(region, message ?? "");
}
