// The turnout-over-time chart (uPlot, from static/vendor) and its table twin.
//
// series(turnout) turns the samples of GET /api/referendums/ID/turnout into aligned columns:
// times, the overall turnout and each region's (fractions, null before a region's first
// sample). The chart is drawn for sighted readers; the same numbers are in the table.

import uPlot from "/static/vendor/uplot/uPlot.esm.js";
import { el, replace } from "./dom.js";
import { formatPercent, formatTime, t } from "./i18n.js";

// Distinct in hue and in dash pattern (readable without colour), contrast >= 3:1 on white.
const PALETTE = ["#0b57a4", "#b3261e", "#146c36", "#7b3fa0", "#8a5a00", "#00696f", "#a3165f"];
const DASHES = [[], [8, 4], [2, 3], [12, 4, 2, 4], [4, 4], [1, 2], [6, 2, 2, 2]];

export function series(turnout) {
  const regions = turnout.regions;
  const times = new Set([turnout.now]);
  for (const r of regions) for (const s of r.samples) times.add(s[0]);
  const xs = [...times].sort((a, b) => a - b);
  const columns = regions.map((r) => {
    const out = [];
    let k = 0;
    let voted = null;
    for (const x of xs) {
      while (k < r.samples.length && r.samples[k][0] <= x) voted = r.samples[k++][2];
      if (voted === null && r.samples.length === 0) voted = 0; // no board yet: nobody voted
      out.push(voted);
    }
    return out;
  });
  const roll = regions.reduce((a, r) => a + r.roll, 0);
  const overall = xs.map((_, i) => {
    let sum = 0;
    for (const c of columns) {
      if (c[i] === null) return null;
      sum += c[i];
    }
    return roll ? sum / roll : 0;
  });
  const perRegion = columns.map((c, j) =>
    c.map((v) => (v === null ? null : regions[j].roll ? v / regions[j].roll : 0)),
  );
  return { xs, overall, perRegion, names: regions.map((r) => r.name) };
}

export class TurnoutChart {
  constructor(container, legend, caption, table) {
    this.container = container;
    this.legend = legend;
    this.caption = caption;
    this.table = table;
    this.plot = null;
    this.names = null;
    this.data = null;
    new ResizeObserver(() => this.resize()).observe(container);
  }

  size() {
    const width = Math.max(240, Math.floor(this.container.clientWidth));
    return { width, height: Math.round(Math.min(320, Math.max(200, width * 0.45))) };
  }

  resize() {
    if (this.plot) this.plot.setSize(this.size());
  }

  make(names) {
    if (this.plot) this.plot.destroy();
    this.names = names;
    const seriesOptions = [
      {},
      {
        label: t("observe.overall"),
        stroke: "#1b1f24",
        width: 3,
        spanGaps: false,
      },
      ...names.map((n, i) => ({
        label: n,
        stroke: PALETTE[i % PALETTE.length],
        dash: DASHES[i % DASHES.length],
        width: 2,
      })),
    ];
    this.plot = new uPlot(
      {
        ...this.size(),
        series: seriesOptions,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: [0, 1] } },
        axes: [
          {
            stroke: "#4a5560",
            space: 90,
            values: (u, splits) => {
              const span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
              const style =
                span < 3600
                  ? { hour: "2-digit", minute: "2-digit", second: "2-digit" }
                  : span < 86400
                    ? { hour: "2-digit", minute: "2-digit" }
                    : { dateStyle: "short", timeStyle: "short" };
              return splits.map((s) => formatTime(s, style));
            },
          },
          {
            stroke: "#4a5560",
            values: (u, splits) => splits.map((s) => formatPercent(s)),
            size: 60,
          },
        ],
      },
      [[], [], ...names.map(() => [])],
      this.container,
    );
    this.renderLegend();
  }

  renderLegend() {
    const items = [[t("observe.overall"), "#1b1f24", []], ...this.names.map((n, i) => [n, PALETTE[i % PALETTE.length], DASHES[i % DASHES.length]])];
    replace(
      this.legend,
      items.map(([name, colour, dash]) => {
        const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
        swatch.style.borderTopColor = colour;
        swatch.style.borderTopStyle = dash.length === 0 ? "solid" : dash[0] <= 2 ? "dotted" : "dashed";
        return el("li", {}, swatch, name);
      }),
    );
  }

  update(turnout) {
    const s = series(turnout);
    if (!this.plot || JSON.stringify(s.names) !== JSON.stringify(this.names)) this.make(s.names);
    this.data = s;
    this.plot.setData([s.xs, s.overall, ...s.perRegion]);
    const last = s.overall[s.overall.length - 1];
    replace(
      this.caption,
      s.xs.length > 1
        ? t("observe.chart-caption", {
            since: formatTime(s.xs[0]),
            turnout: last === null ? "—" : formatPercent(last),
          })
        : t("observe.chart-empty"),
    );
    this.renderTable();
  }

  // The same numbers as the chart (the latest 50 samples, newest first).
  renderTable() {
    const s = this.data;
    const rows = [];
    for (let i = s.xs.length - 1; i >= 0 && rows.length < 50; i--) {
      rows.push(
        el(
          "tr",
          {},
          el("th", { scope: "row" }, formatTime(s.xs[i])),
          el("td", { class: "num" }, s.overall[i] === null ? "—" : formatPercent(s.overall[i])),
          ...s.perRegion.map((c) => el("td", { class: "num" }, c[i] === null ? "—" : formatPercent(c[i]))),
        ),
      );
    }
    replace(
      this.table,
      el(
        "table",
        {},
        el("caption", {}, t("observe.turnout-table-caption")),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, t("observe.time")),
            el("th", { scope: "col", class: "num" }, t("observe.overall")),
            ...s.names.map((n) => el("th", { scope: "col", class: "num" }, n)),
          ),
        ),
        el("tbody", {}, rows),
      ),
    );
  }

  // Texts made here follow the language: redraw with the new labels.
  relabel() {
    if (this.data) {
      const names = this.names;
      this.plot.destroy();
      this.plot = null;
      this.make(names);
      this.plot.setData([this.data.xs, this.data.overall, ...this.data.perRegion]);
      this.renderTable();
    }
  }
}
