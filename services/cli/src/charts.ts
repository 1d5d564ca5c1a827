/**
 * Charts of `sdrm3 compare`, rendered in Node with no browser: Vega-Lite spec → Vega → SVG (vega's
 * headless View, renderer "none") → PNG (resvg, DejaVu Sans from the system fonts).
 *
 * - uxcost: grouped bars of UXCost (log scale) per policy per scenario, one row per hardware;
 * - miss-vs-energy: the frontier view, deadline-miss rate vs energy (mJ/s), one panel per
 *   scenario × hardware cell, colour = policy, sdrm3 marked (a large diamond with its name).
 * Each point is a scenario × hardware × policy cell aggregated over the seeds (UXCost: geometric
 * mean; miss rate and energy: arithmetic mean).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";

export interface ChartCell {
  readonly scenario: string;
  readonly hardware: string;
  readonly policy: string;
  /** null when no seed produced a UXCost (every model infeasible or silent). */
  readonly uxCost: number | null;
  readonly deadlineMissRate: number;
  readonly energyMJPerS: number;
}

/** Display order of the nominal fields (as given on the command line). */
export interface ChartOrder {
  readonly scenarios: ReadonlyArray<string>;
  readonly hardware: ReadonlyArray<string>;
  readonly policies: ReadonlyArray<string>;
  /** The policy the comparison is about (compare's reference, sdrm3): it and its variants are marked. */
  readonly marked?: string;
}

const FONT = "DejaVu Sans";

const colorScale = (order: ChartOrder) => ({
  domain: [...order.policies],
  scheme: order.policies.length <= 10 ? "tableau10" : "tableau20",
});

const baseConfig = {
  font: FONT,
  background: "white",
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 280 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, subtitleFontSize: 11, anchor: "start" },
};

/** 3 significant digits below 100, whole numbers above (never exponent notation). */
const barLabel = (x: number): string => (x >= 100 ? String(Math.round(x)) : String(Number(x.toPrecision(3))));

/**
 * One chart, or one per hardware: a single hardware puts its name in the subtitle; several are
 * faceted in rows (sharing x) or columns (sharing y), each with its own scale on the other axis.
 */
const facetByHardware = (
  title: { readonly text: string; readonly subtitle: string },
  values: ReadonlyArray<unknown>,
  inner: Record<string, unknown>,
  order: ChartOrder,
  direction: "row" | "column",
): TopLevelSpec => {
  if (order.hardware.length <= 1) {
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: { ...title, subtitle: `${order.hardware[0] ?? ""}; ${title.subtitle}` },
      data: { values },
      ...inner,
      config: baseConfig,
    } as TopLevelSpec;
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values },
    facet: { [direction]: { field: "hardware", type: "nominal", sort: [...order.hardware], title: "hardware" } },
    spec: inner,
    resolve: { scale: direction === "row" ? { y: "independent" } : { x: "independent" } },
    config: baseConfig,
  } as unknown as TopLevelSpec;
};

export const uxCostChartSpec = (cells: ReadonlyArray<ChartCell>, order: ChartOrder): TopLevelSpec => {
  const values = cells
    .filter((c) => c.uxCost !== null && c.uxCost > 0)
    .map((c) => ({ ...c, uxLabel: barLabel(c.uxCost as number) }));
  // Width per bar (Vega-Lite applies a width step to the innermost band, xOffset).
  const step = order.policies.length <= 4 ? 24 : 14;
  const inner = {
    width: { step },
    height: 280,
    encoding: {
      x: {
        field: "scenario",
        type: "nominal" as const,
        sort: [...order.scenarios],
        title: "scenario",
        axis: { labelAngle: -30, labelLimit: 160 },
      },
      xOffset: { field: "policy", type: "nominal" as const, sort: [...order.policies] },
      y: {
        field: "uxCost",
        type: "quantitative" as const,
        scale: { type: "log" as const },
        stack: null,
        title: "UXCost (log scale)",
      },
    },
    layer: [
      {
        mark: { type: "bar" as const },
        encoding: { color: { field: "policy", type: "nominal" as const, scale: colorScale(order), title: "policy" } },
      },
      {
        // The value above each bar: a bar at UXCost ≈ 1 (perfect) is otherwise invisible on a log axis.
        mark: { type: "text" as const, angle: -90, align: "left" as const, baseline: "middle" as const, dx: 3, fontSize: 9 },
        encoding: { text: { field: "uxLabel", type: "nominal" as const } },
      },
    ],
  };
  const title = {
    text: "UXCost per policy and scenario",
    subtitle: "geomean over seeds; 1 = perfect, lower is better",
  };
  return facetByHardware(title, values, inner, order, "row");
};

/** Whether a policy label is `reference` or one of its variants (`sdrm3[tune=1]` of `sdrm3`): marked in the frontier charts. */
export const isMarkedPolicy = (policy: string, reference: string | undefined): boolean =>
  reference !== undefined && (policy === reference || policy.startsWith(`${reference}[`));

/**
 * The frontier view: deadline-miss rate vs energy, one panel per scenario × hardware cell (rows:
 * scenarios, columns: hardware; each panel with its own scales), colour = policy; sdrm3 (and its
 * variants) drawn as a large outlined diamond with its name, so where it sits on each cell's
 * miss/energy frontier is visible at a glance.
 */
export const missEnergyChartSpec = (cells: ReadonlyArray<ChartCell>, order: ChartOrder): TopLevelSpec => {
  const values = cells.map((c) => ({ ...c, marked: isMarkedPolicy(c.policy, order.marked) }));
  const x = { field: "energyMJPerS", type: "quantitative" as const, scale: { zero: false, nice: true }, title: "energy (mJ/s)" };
  const y = {
    field: "deadlineMissRate",
    type: "quantitative" as const,
    axis: { format: ".0%" },
    scale: { zero: true, nice: true },
    title: "deadline-miss rate",
  };
  const color = { field: "policy", type: "nominal" as const, scale: colorScale(order), title: "policy" };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Deadline-miss rate vs energy, per scenario and hardware",
      subtitle: "mean over seeds; lower left is better; ◆ (large, outlined, named) = sdrm3",
    },
    data: { values },
    facet: {
      row: { field: "scenario", type: "nominal", sort: [...order.scenarios], title: "scenario" },
      column: { field: "hardware", type: "nominal", sort: [...order.hardware], title: "hardware" },
    },
    spec: {
      width: 300,
      height: 200,
      layer: [
        {
          transform: [{ filter: "!datum.marked" }],
          mark: { type: "point", filled: true, size: 70, opacity: 0.85 },
          encoding: { x, y, color },
        },
        {
          transform: [{ filter: "datum.marked" }],
          mark: { type: "point", shape: "diamond", filled: true, size: 240, stroke: "black", strokeWidth: 1 },
          encoding: { x, y, color },
        },
        {
          transform: [{ filter: "datum.marked" }],
          mark: { type: "text", align: "left", dx: 9, dy: -7, fontSize: 10 },
          encoding: { x, y, text: { field: "policy", type: "nominal" } },
        },
      ],
    },
    resolve: { scale: { x: "independent", y: "independent" } },
    config: baseConfig,
  } as unknown as TopLevelSpec;
};

/** Renders a Vega-Lite spec to SVG text and a PNG (2× zoom, white background). */
export const renderChart = async (spec: TopLevelSpec): Promise<{ svg: string; png: Buffer }> => {
  // loaded on first use: Vega, Vega-Lite and resvg take ~0.4 s to load, which no other command pays
  const [vega, { compile }, { Resvg }] = await Promise.all([import("vega"), import("vega-lite"), import("@resvg/resvg-js")]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      fitTo: { mode: "zoom", value: 2 },
      background: "white",
      font: { loadSystemFonts: true, defaultFontFamily: FONT },
    })
      .render()
      .asPng();
    return { svg, png };
  } finally {
    view.finalize();
  }
};

/** Writes uxcost.{svg,png} and miss-vs-energy.{svg,png} into `dir`; returns the paths written. */
export const writeCharts = async (dir: string, cells: ReadonlyArray<ChartCell>, order: ChartOrder): Promise<string[]> => {
  const written: string[] = [];
  const charts: ReadonlyArray<readonly [string, TopLevelSpec]> = [
    ["uxcost", uxCostChartSpec(cells, order)],
    ["miss-vs-energy", missEnergyChartSpec(cells, order)],
  ];
  for (const [name, spec] of charts) {
    const { svg, png } = await renderChart(spec);
    const svgPath = join(dir, `${name}.svg`);
    const pngPath = join(dir, `${name}.png`);
    await writeFile(svgPath, svg);
    await writeFile(pngPath, png);
    written.push(svgPath, pngPath);
  }
  return written;
};
