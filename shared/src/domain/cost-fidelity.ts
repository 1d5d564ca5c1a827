/**
 * The analytical cost model against a cost table (docs/cost-model.md): the table's costs as
 * samples (every layer on every `<DF>_<pes>pe_bw<bw>` class it has) and the model's fidelity to
 * them (rank correlation, median ratio, log-RMSE, share within 2×). Pure: no I/O.
 */
import { analyticalLayerCost, COST_MODEL_CONSTANTS, parseCostClass } from "./cost-model";
import type { CostModelConstants } from "./cost-model";
import { DATAFLOWS } from "./types";
import type { Dataflow, Layer, LayerCost, Model } from "./types";

// ---- calibration data -------------------------------------------------------------------------

/** What fidelity and fitting need of a cost table (the data module's CostTable has it). */
export interface CostLookup {
  readonly classes: ReadonlyArray<string>;
  get(model: string, layerIndex: number, costClass: string): LayerCost | undefined;
}

/** One table cost: a layer on a class, with the table's cycles and energy. */
export interface CostSample {
  readonly model: string;
  readonly layer: Layer;
  readonly dataflow: Dataflow;
  readonly numPes: number;
  readonly nocBw: number;
  readonly cycles: number;
  readonly energyNJ: number;
}

/** Every cost of `table` for a layer of `models` on a `<DF>_<pes>pe_bw<bw>` class, with positive cycles and energy. */
export const costSamples = (table: CostLookup, models: Iterable<Model>): CostSample[] => {
  const classes = table.classes.flatMap((costClass) => {
    const spec = parseCostClass(costClass);
    return spec === undefined ? [] : [{ costClass, ...spec }];
  });
  const samples: CostSample[] = [];
  for (const model of models) {
    for (const layer of model.layers) {
      for (const { costClass, dataflow, numPes, nocBw } of classes) {
        const cost = table.get(model.name, layer.index, costClass);
        if (cost === undefined || !(cost.cycles > 0 && cost.energyNJ > 0)) continue;
        samples.push({ model: model.name, layer, dataflow, numPes, nocBw, cycles: cost.cycles, energyNJ: cost.energyNJ });
      }
    }
  }
  return samples;
};

// ---- fidelity ---------------------------------------------------------------------------------

/** Agreement of the analytical model with a table on one quantity. */
export interface FidelityStats {
  /** Spearman rank correlation, analytical vs table, over all (layer, class) samples. */
  readonly spearman: number;
  /** Median of analytical / table. */
  readonly medianRatio: number;
  /** Root mean square of ln(analytical / table). */
  readonly logRmse: number;
  /** Share of samples within a factor 2 of the table. */
  readonly within2x: number;
}

export interface DataflowFidelity {
  readonly samples: number;
  readonly latency: FidelityStats;
  readonly energy: FidelityStats;
}

/**
 * How well the analytical model (with `constants`) reproduces `table` on `models`, per dataflow:
 * over every (layer, class) the table has. A dataflow with no sample has NaN statistics.
 */
export const fidelity = (
  table: CostLookup,
  models: Iterable<Model>,
  constants: CostModelConstants = COST_MODEL_CONSTANTS,
): Record<Dataflow, DataflowFidelity> => {
  const samples = costSamples(table, models);
  const result = {} as Record<Dataflow, DataflowFidelity>;
  for (const dataflow of DATAFLOWS) {
    const mine = samples.filter((sample) => sample.dataflow === dataflow);
    const model = mine.map((s) => analyticalLayerCost(s.layer, dataflow, s.numPes, s.nocBw, constants));
    result[dataflow] = {
      samples: mine.length,
      latency: compare(model.map((c) => c.cycles), mine.map((s) => s.cycles)),
      energy: compare(model.map((c) => c.energyNJ), mine.map((s) => s.energyNJ)),
    };
  }
  return result;
};

const compare = (model: ReadonlyArray<number>, table: ReadonlyArray<number>): FidelityStats => {
  const n = model.length;
  if (n === 0) return { spearman: Number.NaN, medianRatio: Number.NaN, logRmse: Number.NaN, within2x: Number.NaN };
  const ratios = model.map((m, i) => m / (table[i] ?? Number.NaN));
  const logs = ratios.map(Math.log);
  return {
    spearman: spearman(model, table),
    medianRatio: median(ratios),
    logRmse: Math.sqrt(logs.reduce((sum, x) => sum + x * x, 0) / n),
    within2x: logs.filter((x) => Math.abs(x) < Math.LN2).length / n,
  };
};

/** Spearman rank correlation (ties get their average rank). */
export const spearman = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  if (a.length !== b.length) throw new RangeError(`spearman: ${a.length} vs ${b.length} values`);
  return pearson(ranks(a), ranks(b));
};

const ranks = (values: ReadonlyArray<number>): Float64Array => {
  const order = values.map((_, i) => i).sort((i, j) => (values[i] ?? 0) - (values[j] ?? 0));
  const out = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end] ?? 0] === values[order[start] ?? 0]) end++;
    const rank = (start + end - 1) / 2 + 1;
    for (let k = start; k < end; k++) out[order[k] ?? 0] = rank;
    start = end;
  }
  return out;
};

const pearson = (a: Float64Array, b: Float64Array): number => {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] ?? 0;
    mb += b[i] ?? 0;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] ?? 0) - ma;
    const db = (b[i] ?? 0) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
};

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
