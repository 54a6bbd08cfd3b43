// Bar charts of a referendum's (or poll's) published result, each with the same numbers as a
// table beside it: renderResultCharts(status, container) draws them from the status JSON as
// GET /api/referendums/ID returns it, into `container` (its content replaced). Used by the
// observer dashboard (observe.js); a poll's page calls it the same way.
//
// For each question with counts (homomorphic and Lists questions; a ranking's decrypted
// ballots are in each region's archive), over the regions that have a result, all of them
// pooled or one chosen in a selector: one bar per answer (uPlot.paths.bars, horizontal), its
// count and share beside it. Shares as in plebiscite.render.results, the server's result card:
// a homomorphic answer's count over the sum of the answers' counts (blank votes counted apart,
// no share), a list's over all the lists' ballots, a candidate's over its list's ballots;
// exact (BigInt: counts of 2^30 and more are strings) then shown as a percentage with one
// decimal, rounded half up. The chart is role="img" with the numbers as its text alternative;
// the table is what screen readers use. The decision rule plays no part: a referendum or poll
// with no rule gets the same charts. Before any result the container says that the result
// stays encrypted until voting closes (or that the trustees are decrypting it). Questions and
// answers are named in the page's language when the record has them (texts.js); the counts
// are the answers' by position, whatever names them.

import uPlot from "/static/vendor/uplot/uPlot.esm.js";
import { el, replace } from "./dom.js";
import { formatNumber, language, t } from "./i18n.js";
import { localQuestions } from "./texts.js";

// the card's colours (plebiscite.render.card), contrast >= 3:1 on white
const COLOURS = { answer: "#0b57a4", blank: "#6b7280", list: "#7b3fa0", candidate: "#3b7dd8" };
const ROW_PX = 34;
const LABEL_MAX = 28; // characters of an answer on the chart's axis (the table has them all)

const INTEGER_STEPS = [];
for (let p = 1; p < 1e16; p *= 10) INTEGER_STEPS.push(p, 2 * p, 5 * p);

// every container drawn: its uPlot instances and resize observer, destroyed when redrawn
const drawn = new WeakMap();

const big = (v) => BigInt(v);

/** The share n/d in tenths of a percent, rounded half up (BigInt). */
export function percentTenths(n, d) {
  if (d === 0n) return 0n;
  return (n * 2000n + d) / (2n * d);
}

/** n/d as a percentage with one decimal in the page's language ("33.3%"). */
export function formatShare(n, d) {
  const tenths = percentTenths(n, d);
  return new Intl.NumberFormat(language(), {
    style: "percent",
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  }).format(Number(tenths) / 1000);
}

function formatCount(n) {
  // Intl formats BigInt exactly
  return new Intl.NumberFormat(language()).format(n);
}

function pooled(results) {
  const first = results[0];
  if (Array.isArray(first)) return first.map((_, i) => pooled(results.map((r) => r[i])));
  return results.reduce((a, r) => a + big(r), 0n);
}

/** The rows of every question with counts over `regions` (those with a result):
 * [{index, question, rows: [{label, count (BigInt), total (BigInt) | null, kind}]}]. */
export function chartsOf(questions, regions) {
  if (!regions.length) return [];
  const out = [];
  questions.forEach((question, q) => {
    const results = regions.map((r) => r.result[q]);
    if (question.answers) {
      const counts = pooled(results);
      const blank = Boolean(question.blank);
      const own = blank ? counts.slice(1) : counts;
      const total = own.reduce((a, c) => a + c, 0n);
      const rows = question.answers.map((answer, i) => ({ label: answer, count: own[i], total, kind: "answer" }));
      if (blank) rows.push({ label: t("observe.blank"), count: counts[0], total: null, kind: "blank" });
      out.push({ index: q, question: question.question, rows });
    } else if (question.type === "Lists") {
      const counts = pooled(results);
      const total = counts.reduce((a, row) => a + row[0], 0n);
      const rows = [];
      question.value.answers.forEach(([name, ...candidates], k) => {
        rows.push({ label: t("observe.list", { list: name }), count: counts[k][0], total, kind: "list" });
        candidates.forEach((candidate, j) => {
          rows.push({ label: candidate, count: counts[k][j + 1], total: counts[k][0], kind: "candidate" });
        });
      });
      out.push({ index: q, question: question.value.question, rows });
    }
  });
  return out;
}

function shareText(row) {
  return row.total === null ? t("charts.apart") : formatShare(row.count, row.total);
}

function short(text) {
  return text.length > LABEL_MAX ? `${text.slice(0, LABEL_MAX - 1)}…` : text;
}

function altText(chart, scope) {
  const values = chart.rows
    .map((r) =>
      r.total === null
        ? t("charts.value-apart", { label: r.label, count: formatCount(r.count) })
        : t("charts.value", { label: r.label, count: formatCount(r.count), percent: shareText(r) }),
    )
    .join("; ");
  return t("charts.alt", { question: chart.question, scope, values });
}

function table(chart, scope) {
  const caption = t("charts.caption", { question: chart.question, scope });
  return el(
    "div",
    { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption },
    el(
      "table",
      { class: "chart-table", dataset: { question: String(chart.index) } },
      el("caption", {}, caption),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, t("observe.answer")),
          el("th", { scope: "col", class: "num" }, t("charts.count")),
          el("th", { scope: "col", class: "num" }, t("charts.share")),
        ),
      ),
      el(
        "tbody",
        {},
        chart.rows.map((r) =>
          el(
            "tr",
            { class: r.kind === "answer" ? null : r.kind },
            el("th", { scope: "row" }, r.label),
            el("td", { class: "num", dataset: { count: String(r.count) } }, formatCount(r.count)),
            el("td", { class: "num" }, shareText(r)),
          ),
        ),
      ),
    ),
  );
}

// The horizontal bars of one question (uPlot): answers top to bottom, the count and share at
// the end of each bar.
function plot(chart, target) {
  const n = chart.rows.length;
  const xs = chart.rows.map((_, i) => i);
  const ys = chart.rows.map((r) => Number(r.count));
  const colours = chart.rows.map((r) => COLOURS[r.kind]);
  const labels = chart.rows.map((r) => (r.total === null ? formatCount(r.count) : `${formatCount(r.count)} · ${shareText(r)}`));
  const top = Math.max(1, ...ys);
  const size = () => ({
    width: Math.max(240, Math.floor(target.clientWidth || 480)),
    height: n * ROW_PX + 40,
  });
  const opts = {
    ...size(),
    legend: { show: false },
    cursor: { show: false },
    select: { show: false },
    scales: {
      x: { time: false, ori: 1, dir: -1, range: [-0.5, n - 0.5] },
      // room at the end of the longest bar for its label
      y: { ori: 0, dir: 1, range: () => [0, top * 1.35] },
    },
    axes: [
      {
        scale: "x",
        side: 3,
        stroke: "#4a5560",
        grid: { show: false },
        ticks: { show: false },
        splits: () => xs,
        values: (u, splits) => splits.map((i) => (chart.rows[i] ? short(chart.rows[i].label) : "")),
        size: (u, values) => {
          if (!values) return 60;
          u.ctx.font = "12px sans-serif";
          const widest = Math.max(...values.map((v) => u.ctx.measureText(v).width));
          return Math.min(220, Math.ceil(widest) + 16);
        },
      },
      {
        scale: "y",
        side: 2,
        stroke: "#4a5560",
        grid: { stroke: "#e4e8ec" },
        incrs: INTEGER_STEPS, // counts: no tick between two integers
        values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? formatNumber(v) : "")),
      },
    ],
    series: [
      {},
      {
        label: chart.question,
        fill: COLOURS.answer,
        width: 0,
        points: { show: false },
        paths: uPlot.paths.bars({
          size: [0.7, 28],
          align: 0,
          disp: { fill: { unit: 3, values: () => colours } },
        }),
      },
    ],
    hooks: {
      draw: [
        (u) => {
          const { ctx } = u;
          const ratio = window.devicePixelRatio || 1;
          ctx.save();
          ctx.fillStyle = "#1b1f24";
          ctx.font = `${Math.round(12 * ratio)}px sans-serif`;
          ctx.textBaseline = "middle";
          ctx.textAlign = "left";
          chart.rows.forEach((_, i) => {
            const x = u.valToPos(ys[i], "y", true) + 6 * ratio;
            const y = u.valToPos(i, "x", true);
            ctx.fillText(labels[i], x, y);
          });
          ctx.restore();
        },
      ],
    },
  };
  const u = new uPlot(opts, [xs, ys], target);
  return { u, resize: () => u.setSize(size()) };
}

function figure(chart, scope, instances) {
  const target = el("div", { class: "bars", "aria-hidden": "true" });
  const img = el("div", { class: "bar-chart", role: "img", "aria-label": altText(chart, scope) }, target);
  const fig = el(
    "figure",
    { class: "result-chart", dataset: { question: String(chart.index) } },
    el("h4", {}, chart.question),
    el("div", { class: "chart-pair" }, img, table(chart, scope)),
  );
  instances.push({ chart, target });
  return fig;
}

function destroy(container) {
  const old = drawn.get(container);
  if (!old) return;
  old.observer?.disconnect();
  for (const p of old.plots) p.u.destroy();
  drawn.delete(container);
}

function cardLink(status) {
  // a poll's page passes its own card's address (status.card)
  const card = status.card ?? `/api/referendums/${encodeURIComponent(status.id)}/card.png`;
  const href = `${card}?lang=${encodeURIComponent(language())}`;
  return el("p", { class: "hint" }, el("a", { href, class: "card-link" }, t("charts.card")));
}

/** Draw the charts of `status` (GET /api/referendums/ID) into `container`. Options:
 * `perRegion` (default true): the selector of one region; false (a poll, whose regions are
 * shards of one vote): all the votes pooled only, once every region has its result. */
export function renderResultCharts(status, container, { perRegion = true } = {}) {
  const before = drawn.get(container)?.chosen ?? ""; // the region chosen stays chosen
  destroy(container);
  const all = status.regions ?? [];
  const counted = all.filter((r) => Array.isArray(r.result));
  if (!counted.length || (!perRegion && counted.length < all.length)) {
    const key = status.phase === "decrypting" || status.phase === "done" ? "charts.counting" : "charts.encrypted";
    replace(container, el("p", { class: "notice", id: "charts-state" }, t(key)), cardLink(status));
    return;
  }
  const questions = localQuestions(status.record, language());
  const pooledLabel = !perRegion
    ? t("charts.all-votes")
    : counted.length === all.length
      ? t("observe.all-regions")
      : t("charts.so-far", { count: counted.length, total: all.length });
  const select = el(
    "select",
    { id: "charts-scope" },
    el("option", { value: "" }, pooledLabel),
    counted.map((r) => el("option", { value: r.name }, r.name)),
  );
  const figures = el("div", { class: "result-charts" });
  if (perRegion && counted.some((r) => r.name === before)) select.value = before;
  const state = { plots: [], observer: null, chosen: select.value };
  drawn.set(container, state);

  const draw = () => {
    for (const p of state.plots) p.u.destroy();
    state.plots = [];
    state.observer?.disconnect();
    const chosen = select.value;
    state.chosen = chosen;
    const regions = chosen ? counted.filter((r) => r.name === chosen) : counted;
    const scope = chosen || pooledLabel;
    const instances = [];
    const charts = chartsOf(questions, regions);
    const items = [];
    questions.forEach((question, q) => {
      const chart = charts.find((c) => c.index === q);
      if (chart) items.push(figure(chart, scope, instances));
      else items.push(el("p", { class: "muted" }, t("charts.ranking", { question: question.value?.question ?? "" })));
    });
    replace(figures, items);
    // drawn once in the page, where their width is known
    for (const { chart, target } of instances) state.plots.push(plot(chart, target));
    state.observer = new ResizeObserver(() => {
      for (const p of state.plots) p.resize();
    });
    state.observer.observe(figures);
  };
  select.addEventListener("change", draw);
  const controls = el(
    "div",
    { class: "chart-controls" },
    el("label", { for: "charts-scope" }, t("charts.scope")),
    " ",
    select,
  );
  replace(container, perRegion ? controls : null, el("p", { class: "hint" }, t("charts.note")), figures, cardLink(status));
  draw();
}
