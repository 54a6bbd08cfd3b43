// /docs: the API documentation, drawn from /openapi.json by plebiscite itself (no script or
// style from another origin, unlike the usual interactive viewers).

import { $, el, replace } from "./dom.js";
import { initI18n, t } from "./i18n.js";

let spec = null;

// ``code`` in a description becomes <code>; the rest stays text.
function prose(text) {
  return String(text ?? "")
    .split(/``/)
    .map((part, i) => (i % 2 ? el("code", {}, part) : part));
}

function groupOf(path) {
  const parts = path.split("/").filter(Boolean);
  return parts[0] === "api" ? parts[1] ?? "" : parts[0] ?? "";
}

function render() {
  if (!spec) return;
  const groups = new Map();
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const g = groupOf(path);
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push({ path, method: method.toUpperCase(), op });
    }
  }
  replace(
    $("#toc"),
    [...groups.keys()].map((g) => el("li", {}, el("a", { href: `#group-${g}` }, `/${g}`))),
  );
  const sections = [];
  for (const [g, ops] of groups) {
    sections.push(
      el(
        "section",
        { "aria-labelledby": `group-${g}` },
        el("h2", { id: `group-${g}` }, `/${g}`),
        ops.map(({ path, method, op }) => {
          const params = (op.parameters ?? []).map((p) =>
            el("li", {}, el("code", {}, p.name), " ", t(`docs.in-${p.in}`), p.required ? ` ${t("docs.required")}` : ""),
          );
          return el(
            "article",
            { class: "card route" },
            el("h3", {}, el("code", {}, `${method} ${path}`)),
            el("p", {}, el("strong", {}, op.summary ?? "")),
            op.description ? el("p", { class: "prose" }, prose(op.description)) : null,
            params.length ? el("p", { class: "hint" }, t("docs.parameters")) : null,
            params.length ? el("ul", {}, params) : null,
          );
        }),
      ),
    );
  }
  replace($("#routes"), sections);
}

async function main() {
  await initI18n();
  try {
    const r = await fetch("/openapi.json");
    spec = await r.json();
  } catch (e) {
    replace($("#status"), t("error.load", { message: e.message }));
    $("#status").className = "notice error";
  }
  render();
  document.addEventListener("i18n:changed", render);
}

main();
