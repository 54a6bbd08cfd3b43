// Building the DOM from data without ever parsing data as HTML.
//
// el("a", {href: url, class: "x", i18n: "nav.home"}, "text", child) makes an element: attributes
// are set with setAttribute (never an "on..." handler attribute: pass {on: {click: fn}}),
// string children become text nodes, `text` sets textContent, `i18n` sets data-i18n (the
// text is then the translation of that key, see i18n.js).

const FORBIDDEN = /^on|^style$|^srcdoc$/i;

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = String(v);
    else if (k === "i18n") node.dataset.i18n = v;
    else if (k === "i18nArgs") node.dataset.i18nArgs = JSON.stringify(v);
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "class") node.className = Array.isArray(v) ? v.filter(Boolean).join(" ") : v;
    else if (FORBIDDEN.test(k)) throw new Error(`el(): attribute ${k} is not allowed`);
    else if (k === "href" && !safeUrl(v)) throw new Error(`el(): unsafe link ${v}`);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  append(node, ...children);
  return node;
}

export function append(node, ...children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Replace the children of `node` (textContent-safe).
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, ...children);
}

// A relative link, or one to this origin: never javascript: or another site.
export function safeUrl(url) {
  try {
    const u = new URL(String(url), location.href);
    // blob: URLs made by this page (files to download) have this page's origin too
    return u.origin === location.origin && ["http:", "https:", "blob:"].includes(u.protocol);
  } catch {
    return false;
  }
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $all(selector, root = document) {
  return [...root.querySelectorAll(selector)];
}

// The path segments of the page's address after `prefix` ("/observe/" -> ["RID"]), decoded.
export function pathParams(prefix) {
  const rest = location.pathname.startsWith(prefix) ? location.pathname.slice(prefix.length) : "";
  return rest.split("/").filter(Boolean).map(decodeURIComponent);
}
