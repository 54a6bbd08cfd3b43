// The message catalogue: static/i18n/{en,uk,ru}.json, one JSON object of keys to messages.
//
// A message is a string with {name} placeholders, or (for plurals) an object keyed by the
// Intl.PluralRules categories of its language ("one", "few", "many", "other"), chosen by the
// `count` parameter. In HTML, data-i18n="key" sets the text of an element (data-i18n-args:
// its parameters as JSON) and data-i18n-attr="aria-label:key;placeholder:key2" its
// attributes. The language: the <select data-lang-select> of the page, remembered in
// localStorage, by default the first of navigator.languages we have, else English.
// After a change the document receives the event "i18n:changed".

export const LANGUAGES = ["en", "uk", "ru"];
const STORE = "plebiscite.lang";

let lang = "en";
let messages = {};
let fallback = {};
const cache = new Map();

async function load(l) {
  if (!cache.has(l)) {
    cache.set(
      l,
      fetch(`/static/i18n/${l}.json`).then((r) => {
        if (!r.ok) throw new Error(`catalogue ${l}: HTTP ${r.status}`);
        return r.json();
      }),
    );
  }
  return cache.get(l);
}

function preferred() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORE);
  } catch {
    /* storage disabled */
  }
  if (LANGUAGES.includes(stored)) return stored;
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = String(l).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

export function language() {
  return lang;
}

// The message `key` with its {placeholders} replaced by `params` (as text, never HTML).
/** Whether the catalogue has a message `key` (in this language or the fallback). */
export function hasMessage(key) {
  return key in messages || key in fallback;
}

export function t(key, params = {}) {
  let m = messages[key] ?? fallback[key];
  if (m === undefined) {
    console.warn(`i18n: no message ${key}`);
    return key;
  }
  if (typeof m === "object") {
    const cat = new Intl.PluralRules(lang).select(Number(params.count ?? 0));
    m = m[cat] ?? m.other;
  }
  return m.replace(/\{(\w+)\}/g, (whole, name) =>
    name in params ? format(params[name]) : whole,
  );
}

function format(v) {
  return typeof v === "number" ? formatNumber(v) : String(v);
}

export function formatNumber(n, options = {}) {
  return new Intl.NumberFormat(lang, options).format(n);
}

export function formatPercent(fraction) {
  return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(
    fraction,
  );
}

// A time (Unix seconds, or an ISO 8601 string) in the reader's language and time zone.
export function formatTime(time, options = { dateStyle: "medium", timeStyle: "medium" }) {
  const d = typeof time === "number" ? new Date(time * 1000) : new Date(time);
  return Number.isNaN(d.getTime()) ? String(time) : new Intl.DateTimeFormat(lang, options).format(d);
}

export function applyTranslations(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    let params = {};
    if (node.dataset.i18nArgs) {
      try {
        params = JSON.parse(node.dataset.i18nArgs);
      } catch {
        /* ignore bad arguments */
      }
    }
    node.textContent = t(node.dataset.i18n, params);
  }
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":").map((s) => s.trim());
      if (attr && key && !/^on/i.test(attr)) node.setAttribute(attr, t(key));
    }
  }
  if (root === document) document.documentElement.lang = lang;
}

export async function setLanguage(l) {
  if (!LANGUAGES.includes(l)) return;
  const next = await load(l);
  lang = l;
  messages = next;
  try {
    localStorage.setItem(STORE, l);
  } catch {
    /* storage disabled */
  }
  for (const s of document.querySelectorAll("[data-lang-select]")) s.value = l;
  applyTranslations(document);
  document.dispatchEvent(new CustomEvent("i18n:changed", { detail: { lang: l } }));
}

// Load the catalogues, translate the page, wire the language selectors.
export async function initI18n() {
  fallback = await load("en");
  lang = preferred();
  messages = lang === "en" ? fallback : await load(lang).catch(() => fallback);
  for (const s of document.querySelectorAll("[data-lang-select]")) {
    s.value = lang;
    s.addEventListener("change", () => setLanguage(s.value));
  }
  applyTranslations(document);
}
