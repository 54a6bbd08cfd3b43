// The published counts of a referendum's questions, all regions pooled and region by region:
// one table per question whose result is a count (homomorphic and Lists questions; the
// decrypted ballots of a ranking are in each region's archive). Used by the observer
// dashboard (observe.js) and the administrator's page (admin-referendum.js).
//
// A region's `result` is the verifier's: one entry per question; a homomorphic question's
// counts (with blank allowed, the blank count first), a Lists question's one row per list (the
// list's count, then each of its candidates'). Counts of 2^30 and more are strings.
// `questions` are the record's, their texts those to show (the observer dashboard gives them
// in the page's language: texts.js's localQuestions).

import { el } from "./dom.js";
import { formatNumber, t } from "./i18n.js";

const num = (v) => Number(v);

function table(caption, regions, head, rows) {
  return el(
    "div",
    { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption },
    el(
      "table",
      {},
      el("caption", {}, caption),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, head),
          el("th", { scope: "col", class: "num" }, t("observe.all-regions")),
          ...regions.map((r) => el("th", { scope: "col", class: "num" }, r.name)),
        ),
      ),
      el("tbody", {}, rows),
    ),
  );
}

// one row: its label, the pooled count and each region's (count(r) of region r)
function row(label, regions, count, attrs = {}) {
  return el(
    "tr",
    attrs,
    el("th", { scope: "row" }, label),
    el("td", { class: "num" }, formatNumber(regions.reduce((a, r) => a + num(count(r)), 0))),
    ...regions.map((r) => el("td", { class: "num" }, formatNumber(num(count(r))))),
  );
}

/** The counts of homomorphic question `q` (its index) of value `value`. */
export function countsTable(caption, q, value, regions) {
  const blank = Boolean(value.blank);
  const rows = value.answers.map((answer, i) => row(answer, regions, (r) => r.result[q][blank ? i + 1 : i]));
  if (blank) rows.push(row(t("observe.blank"), regions, (r) => r.result[q][0]));
  return table(caption, regions, t("observe.answer"), rows);
}

/** The counts of Lists question `q`: each list's row (the ballots for the list), then one row
 * per candidate of the list. */
export function listsTable(caption, q, value, regions) {
  const rows = [];
  value.answers.forEach(([name, ...candidates], k) => {
    rows.push(row(t("observe.list", { list: name }), regions, (r) => r.result[q][k][0], { class: "list" }));
    candidates.forEach((candidate, j) => {
      const label = t("observe.candidate", { candidate, list: name });
      rows.push(row(label, regions, (r) => r.result[q][k][j + 1], { class: "candidate" }));
    });
  });
  return table(caption, regions, t("observe.list-or-candidate"), rows);
}

/** A heading and a table for every question with counts, over the regions with a result. */
export function resultTables(questions, allRegions) {
  const regions = allRegions.filter((r) => Array.isArray(r.result));
  if (!regions.length) return [];
  const out = [];
  questions.forEach((question, q) => {
    const value = question.answers ? question : question.value;
    const caption = t("observe.counts-caption", { question: value.question });
    if (question.answers) out.push(el("h3", {}, value.question), countsTable(caption, q, value, regions));
    else if (question.type === "Lists") out.push(el("h3", {}, value.question), listsTable(caption, q, value, regions));
  });
  return out;
}
