/**
 * The scaling chart of figure 5, rendered in Node with no browser (same recipe as
 * services/cli/src/charts.ts): Vega-Lite spec → Vega → SVG (headless View) → PNG (resvg).
 * Left: sdrm3 decision time vs ready jobs, one line per accelerator count (log-log). Middle and
 * right: the simulation's wall µs per kernel decision and per policy call, vs accelerators and vs
 * model copies.
 */
import type { TopLevelSpec } from "vega-lite";
import type { GridCell, SimPoint } from "./scaling";

const FONT = "DejaVu Sans";

export const scalingChartSpec = (grid: ReadonlyArray<GridCell>, sims: ReadonlyArray<SimPoint>, subtitle: string): TopLevelSpec => {
  const gridValues = grid.map((c) => ({ jobs: c.jobs, accs: c.accs, p50: c.p50Us.median }));
  const simValues = (sweep: SimPoint["sweep"]) =>
    sims
      .filter((p) => p.sweep === sweep)
      .flatMap((p) => [
        { x: sweep === "accelerators" ? p.accs : p.models, us: p.usPerDecision, what: "wall µs per kernel decision" },
        { x: sweep === "accelerators" ? p.accs : p.models, us: p.usPerDecideCall, what: "µs per policy.decide call" },
      ]);
  const logX = (title: string, values: number[]) => ({ type: "quantitative" as const, scale: { type: "log" as const, base: 2 }, axis: { values }, title });
  const logY = (title: string) => ({ type: "quantitative" as const, scale: { type: "log" as const }, title });
  const firstA = sims.find((p) => p.sweep === "accelerators");
  const firstB = sims.find((p) => p.sweep === "jobs");
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "sdrm3 scaling: accelerators 2 → 64, ready jobs 4 → 256", subtitle },
    hconcat: [
      {
        title: "one decision (all accelerators idle)",
        width: 260,
        height: 240,
        data: { values: gridValues },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "jobs", ...logX("ready jobs J", [4, 16, 64, 256]) },
          y: { field: "p50", ...logY("decision time p50 (µs)") },
          color: { field: "accs", type: "ordinal", title: "accelerators M", scale: { scheme: "viridis" }, legend: { orient: "bottom", direction: "horizontal", columns: 6 } },
        },
      },
      {
        title: `simulation, N = ${firstA?.models ?? "?"} models`,
        width: 220,
        height: 240,
        data: { values: simValues("accelerators") },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "x", ...logX("accelerators M", [2, 4, 8, 16, 32, 64]) },
          y: { field: "us", ...logY("µs") },
          color: { field: "what", type: "nominal", title: null, scale: { scheme: "tableau10" }, legend: { orient: "bottom", direction: "vertical", labelLimit: 360 } },
        },
      },
      {
        title: `simulation, M = ${firstB?.accs ?? "?"} accelerators`,
        width: 220,
        height: 240,
        data: { values: simValues("jobs") },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "x", ...logX("model copies N", [4, 16, 64, 256]) },
          y: { field: "us", ...logY("µs") },
          color: { field: "what", type: "nominal", title: null, scale: { scheme: "tableau10" }, legend: { orient: "bottom", direction: "vertical", labelLimit: 360 } },
        },
      },
    ],
    resolve: { scale: { color: "independent", y: "independent" } },
    config: {
      font: FONT,
      background: "white",
      axis: { labelFontSize: 11, titleFontSize: 12 },
      legend: { labelFontSize: 11, titleFontSize: 11 },
      title: { fontSize: 14, subtitleFontSize: 11, anchor: "start" },
    },
  } as TopLevelSpec;
};

/** The one Vega-Lite → SVG → PNG renderer of the project (services/cli/src/charts.ts). */
export { renderChart } from "../../services/cli/src/charts";
