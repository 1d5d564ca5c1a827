/**
 * Analytical per-layer cost model (DESIGN.md §6, docs/cost-model.md): a roofline per layer and
 * accelerator class, with the spatial mapping of each dataflow (WS / OS / RS as in XRBench's
 * dataflow files, shared/data/xrbench/dataflows.json) and a handful of constants per dataflow
 * calibrated against the MAESTRO table (layer_costs_maestro.csv) by least squares in log space.
 *
 * It is the fallback for what no cost table covers — accelerators with other PE counts or NoC
 * bandwidths, user models without a cost CSV, supernet variants — never a silent replacement for
 * the table (see shared/src/data/fallback-costs.ts and variants.ts).
 *
 * For a layer (K, C, Y, X, R, S; Y/X input rows/cols; Y' = (Y−R) div stride + 1, X' likewise,
 * both at least 1) on `numPes` PEs with NoC bandwidth `nocBw` (elements per cycle):
 *
 *   steps, w, W, I, O   from the dataflow's mapping (below)
 *   per-step cycles     a[k] · w + b · φ,   φ = min(1, min(Y', X') / s0)^γ
 *   compute             steps · (a[k] · w + b · φ)        (= MACs / (PEs · utilisation))
 *   NoC                 (νw · W + νi · I + νo · O) / nocBw
 *   cycles              max(compute, NoC) + fill
 *   energy (nJ)         eMac · MACs + ePsum · MACs / w + eBusy · busy + eW · W + eI · I + eO · O
 *                       busy = compute · MACs / (steps · w)   (PE-busy cycles)
 *
 * k is the kernel class (R·S = 1, R·S ≤ 9, larger). The mappings (U = number of top-level
 * clusters = floor(PEs / cluster size); with fewer PEs than one cluster, the cluster is
 * time-multiplexed: steps × ceil(cluster / PEs)):
 *
 *   WS (NVDLA-like, clusters of 16×16 PEs): 16 C × 16 K per cluster (weights stationary), X'
 *       spatial over U clusters, Y' temporal. steps = ⌈C/16⌉·⌈K/16⌉·Y'·⌈X'/U⌉, w = R·S;
 *       W = K·C·R·S (loaded once), I = C·R·X·Y'·⌈K/16⌉ (re-streamed per K tile, R rows per output
 *       row), O = K·Y'·X'·⌈C/16⌉ (one partial-sum write-back per C tile).
 *   OS (ShiDianNao-like, clusters of 4 X' × 16 C): output rows Y' spatial over U clusters, 4
 *       output columns and 16 input channels per cluster, K temporal. steps =
 *       K·⌈Y'/U⌉·⌈X'/4⌉·⌈C/16⌉, w = R·S; W = K·C·R·S·⌈Y'/U⌉·⌈X'/4⌉ (re-fetched per output
 *       tile), I = C·Y·X·K (re-streamed per output channel), O = K·Y'·X' (outputs stay).
 *   RS (Eyeriss-like, clusters of 16 X' × 4 R): K spatial over U clusters, 16 output columns per
 *       cluster, one filter row (S weights × 4 channels) per PE, R over the 4 PEs of a column.
 *       steps = Y'·⌈X'/16⌉·⌈C/4⌉·⌈K/U⌉·⌈R/4⌉, w = min(C, 4)·S; W = K·C·R·S·Y'·⌈X'/16⌉,
 *       I = C·Y·X·⌈K/U⌉, O = K·Y'·X'·⌈C/4⌉.
 *
 * Batch N > 1 repeats the layer N times (steps, MACs and traffic × N).
 *
 * Pure: no I/O. The fitting routine (fitDataflowConstants) is here too so that the committed
 * constants can be re-derived from the table by anyone (the tests do).
 */
import { Prng } from "./prng";
import { DATAFLOWS } from "./types";
import type { Dataflow, Layer, LayerCost, Model } from "./types";

// ---- constants -------------------------------------------------------------------------------

/** The calibrated constants of one dataflow (cycles at 1 GHz, energy in nJ). */
export interface DataflowCostConstants {
  /** a[k]: cycles per MAC of a PE's step, by kernel class [R·S = 1, R·S ≤ 9, R·S > 9]. */
  readonly cyclesPerMac: readonly [number, number, number];
  /** b: per-step overhead cycles (operand delivery / reduction) for a full output tile. */
  readonly stepOverhead: number;
  /** s0: output tile (min(Y', X')) from which the full overhead applies. */
  readonly overheadTile: number;
  /** γ: how fast the overhead falls off for smaller output tiles. */
  readonly overheadExponent: number;
  /** νw, νi, νo: NoC elements per weight / input / output element moved (reuse not modelled). */
  readonly nocPerWeight: number;
  readonly nocPerInput: number;
  readonly nocPerOutput: number;
  /** Fill/drain cycles per layer. */
  readonly fillCycles: number;
  readonly energyPerMacNJ: number;
  /** Per partial sum (a PE's accumulator update per step: MACs / w). */
  readonly energyPerPartialSumNJ: number;
  /** Per PE-busy cycle. */
  readonly energyPerBusyPeCycleNJ: number;
  /** Per element of weight / input / output traffic (W, I, O). */
  readonly energyPerWeightNJ: number;
  readonly energyPerInputNJ: number;
  readonly energyPerOutputNJ: number;
}

export type CostModelConstants = Readonly<Record<Dataflow, DataflowCostConstants>>;

/**
 * The constants in use. Obtained with `fitCostModel(dataset.costs, dataset.models.values())` on
 * the built-in dataset (loadBuiltinDataset(): 1301 layers × 7 classes = 9107 table costs per
 * dataflow): per dataflow, least squares on ln(cycles) over the 10 latency parameters
 * (multi-start bounded Levenberg–Marquardt: the default start plus 7 seeded perturbations, seed 1;
 * 24 starts find the same optimum), then, with the latency fixed, least squares on ln(energy)
 * over the 6 energy coefficients (3 starts). Rounded to 6 significant digits; a value at its lower
 * bound (e^-25, energy e^-30: the term does not help) is written as 0. The test
 * (cost-model.test.ts) re-runs the fit from these values and checks it finds no better optimum,
 * and checks the fidelity thresholds of docs/cost-model.md.
 */
export const COST_MODEL_CONSTANTS: CostModelConstants = {
  WS: {
    cyclesPerMac: [3.33554, 2.42014, 0.931977],
    stepOverhead: 12.8471,
    overheadTile: 4.92488,
    overheadExponent: 8,
    nocPerWeight: 0.922984,
    nocPerInput: 5.89941,
    nocPerOutput: 0,
    fillCycles: 0,
    energyPerMacNJ: 0,
    energyPerPartialSumNJ: 0.0556123,
    energyPerBusyPeCycleNJ: 0.00202101,
    energyPerWeightNJ: 0.00855264,
    energyPerInputNJ: 0.249076,
    energyPerOutputNJ: 0.275355,
  },
  OS: {
    cyclesPerMac: [0, 2.31419, 0.712405],
    stepOverhead: 12.9393,
    overheadTile: 15.2288,
    overheadExponent: 0.929693,
    nocPerWeight: 5.45521,
    nocPerInput: 1.31654,
    nocPerOutput: 5.98919,
    fillCycles: 0,
    energyPerMacNJ: 0,
    energyPerPartialSumNJ: 0.0445275,
    energyPerBusyPeCycleNJ: 0.00379729,
    energyPerWeightNJ: 0.0701866,
    energyPerInputNJ: 0,
    energyPerOutputNJ: 0,
  },
  RS: {
    cyclesPerMac: [0.641437, 1.12497, 0.685602],
    stepOverhead: 30.3973,
    overheadTile: 26.636,
    overheadExponent: 0.944312,
    nocPerWeight: 0.804658,
    nocPerInput: 20.9826,
    nocPerOutput: 1.50639,
    fillCycles: 0,
    energyPerMacNJ: 0,
    energyPerPartialSumNJ: 0.0288243,
    energyPerBusyPeCycleNJ: 0.00293921,
    energyPerWeightNJ: 0.0298173,
    energyPerInputNJ: 0.0648334,
    energyPerOutputNJ: 0.00835233,
  },
};

// ---- mapping ----------------------------------------------------------------------------------

/** PEs per top-level cluster of each dataflow's mapping. */
export const CLUSTER_PES: Readonly<Record<Dataflow, number>> = { WS: 256, OS: 64, RS: 64 };

/** What the mapping of one layer on one accelerator class implies; input of the cost formulas. */
export interface LayerMapping {
  /** Temporal steps of the top-level cluster loop. */
  readonly steps: number;
  /** MACs a PE performs per step. */
  readonly macsPerStep: number;
  /** Weight, input and output elements moved over the NoC. */
  readonly weightTraffic: number;
  readonly inputTraffic: number;
  readonly outputTraffic: number;
  /** 0: R·S = 1, 1: R·S ≤ 9, 2: larger. */
  readonly kernelClass: 0 | 1 | 2;
  /** min(Y', X'): the output tile that sets the per-step overhead. */
  readonly outputTile: number;
  /** N·K·C·R·S·Y'·X' with Y', X' at least 1 (a layer whose kernel exceeds its input still costs). */
  readonly macs: number;
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** The mapping of `layer` with `dataflow` on `numPes` PEs (see the module comment). */
export const layerMapping = (layer: Layer, dataflow: Dataflow, numPes: number): LayerMapping => {
  const { N, K, C, Y, X, R, S } = layer;
  const stride = layer.stride > 0 ? layer.stride : 1;
  const outY = Math.max(1, Math.floor((Y - R) / stride) + 1);
  const outX = Math.max(1, Math.floor((X - S) / stride) + 1);
  const cluster = CLUSTER_PES[dataflow];
  const units = Math.max(1, Math.floor(numPes / cluster));
  const timeShare = numPes < cluster ? Math.ceil(cluster / numPes) : 1;
  const batch = Math.max(1, N);
  const weights = K * C * R * S;
  let steps: number;
  let macsPerStep: number;
  let weightTraffic: number;
  let inputTraffic: number;
  let outputTraffic: number;
  switch (dataflow) {
    case "WS":
      steps = ceilDiv(C, 16) * ceilDiv(K, 16) * outY * ceilDiv(outX, units);
      macsPerStep = R * S;
      weightTraffic = weights;
      inputTraffic = C * R * X * outY * ceilDiv(K, 16);
      outputTraffic = K * outY * outX * ceilDiv(C, 16);
      break;
    case "OS":
      steps = K * ceilDiv(outY, units) * ceilDiv(outX, 4) * ceilDiv(C, 16);
      macsPerStep = R * S;
      weightTraffic = weights * ceilDiv(outY, units) * ceilDiv(outX, 4);
      inputTraffic = C * Y * X * K;
      outputTraffic = K * outY * outX;
      break;
    case "RS":
      steps = outY * ceilDiv(outX, 16) * ceilDiv(C, 4) * ceilDiv(K, units) * ceilDiv(R, 4);
      macsPerStep = Math.min(C, 4) * S;
      weightTraffic = weights * outY * ceilDiv(outX, 16);
      inputTraffic = C * Y * X * ceilDiv(K, units);
      outputTraffic = K * outY * outX * ceilDiv(C, 4);
      break;
  }
  const kernel = R * S;
  return {
    steps: steps * timeShare * batch,
    macsPerStep,
    weightTraffic: weightTraffic * batch,
    inputTraffic: inputTraffic * batch,
    outputTraffic: outputTraffic * batch,
    kernelClass: kernel <= 1 ? 0 : kernel <= 9 ? 1 : 2,
    outputTile: Math.min(outY, outX),
    macs: batch * weights * outY * outX,
  };
};

// ---- the model --------------------------------------------------------------------------------

/** Cycles and energy of one mapped layer under one dataflow's constants. */
export const mappedLayerCost = (mapping: LayerMapping, nocBw: number, k: DataflowCostConstants): LayerCost => {
  const compute = computeCycles(mapping, k);
  const noc =
    (k.nocPerWeight * mapping.weightTraffic + k.nocPerInput * mapping.inputTraffic + k.nocPerOutput * mapping.outputTraffic) /
    nocBw;
  const cycles = Math.max(compute, noc) + k.fillCycles;
  const busy = (compute * mapping.macs) / (mapping.steps * mapping.macsPerStep);
  const energyNJ =
    k.energyPerMacNJ * mapping.macs +
    (k.energyPerPartialSumNJ * mapping.macs) / mapping.macsPerStep +
    k.energyPerBusyPeCycleNJ * busy +
    k.energyPerWeightNJ * mapping.weightTraffic +
    k.energyPerInputNJ * mapping.inputTraffic +
    k.energyPerOutputNJ * mapping.outputTraffic;
  return { cycles, energyNJ };
};

const computeCycles = (mapping: LayerMapping, k: DataflowCostConstants): number => {
  const overhead = k.stepOverhead * Math.min(1, mapping.outputTile / k.overheadTile) ** k.overheadExponent;
  return mapping.steps * ((k.cyclesPerMac[mapping.kernelClass] ?? 0) * mapping.macsPerStep + overhead);
};

const checkHardware = (numPes: number, nocBw: number): void => {
  if (!(Number.isFinite(numPes) && numPes >= 1)) throw new RangeError(`numPes: expected a number >= 1, got ${numPes}`);
  if (!(Number.isFinite(nocBw) && nocBw > 0)) throw new RangeError(`nocBw: expected a positive number, got ${nocBw}`);
};

/**
 * Analytical latency (cycles at 1 GHz) and energy (nJ) of `layer` on a `dataflow` accelerator with
 * `numPes` PEs and NoC bandwidth `nocBw`, with the calibrated constants (or `constants`).
 */
export const analyticalLayerCost = (
  layer: Layer,
  dataflow: Dataflow,
  numPes: number,
  nocBw: number,
  constants: CostModelConstants = COST_MODEL_CONSTANTS,
): LayerCost => {
  checkHardware(numPes, nocBw);
  return mappedLayerCost(layerMapping(layer, dataflow, numPes), nocBw, constants[dataflow]);
};

/** MACs / (PEs × compute cycles): the share of PE-cycles doing useful MACs (0 for a 0-MAC layer). */
export const analyticalUtilisation = (
  layer: Layer,
  dataflow: Dataflow,
  numPes: number,
  constants: CostModelConstants = COST_MODEL_CONSTANTS,
): number => {
  checkHardware(numPes, 1);
  const mapping = layerMapping(layer, dataflow, numPes);
  const compute = computeCycles(mapping, constants[dataflow]);
  return compute > 0 ? layer.macs / (numPes * compute) : 0;
};

// ---- cost classes -----------------------------------------------------------------------------

export interface CostClassSpec {
  readonly dataflow: Dataflow;
  readonly numPes: number;
  readonly nocBw: number;
}

const COST_CLASS = /^(WS|OS|RS)_(\d+)pe_bw(\d+)$/;

/** `WS_2048pe_bw128` → { WS, 2048, 128 }; undefined for anything else. */
export const parseCostClass = (costClass: string): CostClassSpec | undefined => {
  const match = COST_CLASS.exec(costClass);
  if (match === null) return undefined;
  const dataflow = DATAFLOWS.find((candidate) => candidate === match[1]);
  const numPes = Number(match[2]);
  const nocBw = Number(match[3]);
  if (dataflow === undefined || numPes < 1 || nocBw < 1) return undefined;
  return { dataflow, numPes, nocBw };
};

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

// ---- fitting ----------------------------------------------------------------------------------

/**
 * Latency parameters in log space, in this order: ln a0, ln a1, ln a2, ln b, ln s0, ln γ, ln νw,
 * ln νi, ln νo, ln fill. Bounds keep every constant in [e^-25, e^10], s0 in [1, 64], γ ≤ 8.
 */
const LATENCY_LOWER = [-25, -25, -25, -25, 0, -25, -25, -25, -25, -25];
const LATENCY_UPPER = [10, 10, 10, 10, Math.log(64), Math.log(8), 10, 10, 10, 10];
const LATENCY_START = [2, 2, 1, 8, 4, 2, 1, 1, 1, 1].map(Math.log);
/** Energy parameters: ln eMac, ln ePsum, ln eBusy, ln eW, ln eI, ln eO, each in [e^-30, e^5]. */
const ENERGY_LOWER = [-30, -30, -30, -30, -30, -30];
const ENERGY_UPPER = [5, 5, 5, 5, 5, 5];
const ENERGY_STARTS = [-6, -3, -9].map((v) => [v, v, v, v, v, v]);

export interface FitOptions {
  /** Start the latency fit here (e.g. the committed constants) instead of the default multi-start. */
  readonly start?: DataflowCostConstants;
  /** Number of latency starts (the default start plus seeded perturbations); default 8. */
  readonly starts?: number;
  /** Seed of the perturbations; default 1. */
  readonly seed?: number;
  /** Levenberg–Marquardt iterations per start; default 200. */
  readonly maxIterations?: number;
}

export interface DataflowFit {
  readonly constants: DataflowCostConstants;
  /** ½ Σ ln(analytical / table)² over the samples, for cycles and for energy. */
  readonly latencyLoss: number;
  readonly energyLoss: number;
  readonly samples: number;
}

interface Features {
  readonly n: number;
  readonly steps: Float64Array;
  readonly w: Float64Array;
  readonly weights: Float64Array;
  readonly inputs: Float64Array;
  readonly outputs: Float64Array;
  readonly kernel: Uint8Array;
  readonly tile: Float64Array;
  readonly bw: Float64Array;
  readonly macs: Float64Array;
  readonly logCycles: Float64Array;
  readonly logEnergy: Float64Array;
}

const features = (samples: ReadonlyArray<CostSample>): Features => {
  const n = samples.length;
  const f = {
    n,
    steps: new Float64Array(n),
    w: new Float64Array(n),
    weights: new Float64Array(n),
    inputs: new Float64Array(n),
    outputs: new Float64Array(n),
    kernel: new Uint8Array(n),
    tile: new Float64Array(n),
    bw: new Float64Array(n),
    macs: new Float64Array(n),
    logCycles: new Float64Array(n),
    logEnergy: new Float64Array(n),
  };
  samples.forEach((s, i) => {
    const m = layerMapping(s.layer, s.dataflow, s.numPes);
    f.steps[i] = m.steps;
    f.w[i] = m.macsPerStep;
    f.weights[i] = m.weightTraffic;
    f.inputs[i] = m.inputTraffic;
    f.outputs[i] = m.outputTraffic;
    f.kernel[i] = m.kernelClass;
    f.tile[i] = m.outputTile;
    f.bw[i] = s.nocBw;
    f.macs[i] = m.macs;
    f.logCycles[i] = Math.log(s.cycles);
    f.logEnergy[i] = Math.log(s.energyNJ);
  });
  return f;
};

const toConstants = (theta: ReadonlyArray<number>, energy: ReadonlyArray<number>): DataflowCostConstants => {
  const e = theta.map(Math.exp);
  const en = energy.map(Math.exp);
  return {
    cyclesPerMac: [e[0] ?? 0, e[1] ?? 0, e[2] ?? 0],
    stepOverhead: e[3] ?? 0,
    overheadTile: e[4] ?? 1,
    overheadExponent: e[5] ?? 1,
    nocPerWeight: e[6] ?? 0,
    nocPerInput: e[7] ?? 0,
    nocPerOutput: e[8] ?? 0,
    fillCycles: e[9] ?? 0,
    energyPerMacNJ: en[0] ?? 0,
    energyPerPartialSumNJ: en[1] ?? 0,
    energyPerBusyPeCycleNJ: en[2] ?? 0,
    energyPerWeightNJ: en[3] ?? 0,
    energyPerInputNJ: en[4] ?? 0,
    energyPerOutputNJ: en[5] ?? 0,
  };
};

const logOf = (value: number, lower: number, upper: number): number =>
  Math.min(upper, Math.max(lower, Math.log(Math.max(value, Number.MIN_VALUE))));

const latencyTheta = (k: DataflowCostConstants): number[] =>
  [
    k.cyclesPerMac[0],
    k.cyclesPerMac[1],
    k.cyclesPerMac[2],
    k.stepOverhead,
    k.overheadTile,
    k.overheadExponent,
    k.nocPerWeight,
    k.nocPerInput,
    k.nocPerOutput,
    k.fillCycles,
  ].map((v, i) => logOf(v, LATENCY_LOWER[i] ?? -25, LATENCY_UPPER[i] ?? 10));

const energyTheta = (k: DataflowCostConstants): number[] =>
  [
    k.energyPerMacNJ,
    k.energyPerPartialSumNJ,
    k.energyPerBusyPeCycleNJ,
    k.energyPerWeightNJ,
    k.energyPerInputNJ,
    k.energyPerOutputNJ,
  ].map((v) => logOf(v, -30, 5));

/** Compute cycles of every sample under latency parameters theta (log space). */
const computeAll = (f: Features, theta: ReadonlyArray<number>, out: Float64Array): void => {
  const a = [Math.exp(theta[0] ?? 0), Math.exp(theta[1] ?? 0), Math.exp(theta[2] ?? 0)];
  const b = Math.exp(theta[3] ?? 0);
  const s0 = Math.exp(theta[4] ?? 0);
  const gamma = Math.exp(theta[5] ?? 0);
  for (let i = 0; i < f.n; i++) {
    const overhead = b * Math.min(1, (f.tile[i] ?? 1) / s0) ** gamma;
    out[i] = (f.steps[i] ?? 0) * ((a[f.kernel[i] ?? 0] ?? 0) * (f.w[i] ?? 0) + overhead);
  }
};

const latencyResiduals = (f: Features) => {
  const compute = new Float64Array(f.n);
  return (theta: ReadonlyArray<number>, out: Float64Array): void => {
    computeAll(f, theta, compute);
    const nw = Math.exp(theta[6] ?? 0);
    const ni = Math.exp(theta[7] ?? 0);
    const no = Math.exp(theta[8] ?? 0);
    const fill = Math.exp(theta[9] ?? 0);
    for (let i = 0; i < f.n; i++) {
      const noc = (nw * (f.weights[i] ?? 0) + ni * (f.inputs[i] ?? 0) + no * (f.outputs[i] ?? 0)) / (f.bw[i] ?? 1);
      out[i] = Math.log(Math.max(compute[i] ?? 0, noc) + fill) - (f.logCycles[i] ?? 0);
    }
  };
};

const energyResiduals = (f: Features, latency: ReadonlyArray<number>) => {
  const busy = new Float64Array(f.n);
  computeAll(f, latency, busy);
  for (let i = 0; i < f.n; i++) busy[i] = ((busy[i] ?? 0) * (f.macs[i] ?? 0)) / ((f.steps[i] ?? 1) * (f.w[i] ?? 1));
  return (theta: ReadonlyArray<number>, out: Float64Array): void => {
    const e = theta.map(Math.exp);
    for (let i = 0; i < f.n; i++) {
      const macs = f.macs[i] ?? 0;
      const energy =
        (e[0] ?? 0) * macs +
        ((e[1] ?? 0) * macs) / (f.w[i] ?? 1) +
        (e[2] ?? 0) * (busy[i] ?? 0) +
        (e[3] ?? 0) * (f.weights[i] ?? 0) +
        (e[4] ?? 0) * (f.inputs[i] ?? 0) +
        (e[5] ?? 0) * (f.outputs[i] ?? 0);
      out[i] = Math.log(energy) - (f.logEnergy[i] ?? 0);
    }
  };
};

type Residuals = (theta: ReadonlyArray<number>, out: Float64Array) => void;

const halfSquares = (r: Float64Array): number => {
  let sum = 0;
  for (let i = 0; i < r.length; i++) sum += (r[i] ?? 0) ** 2;
  return sum / 2;
};

/**
 * Bounded Levenberg–Marquardt on ½‖r(θ)‖² with a forward-difference Jacobian; steps are
 * projected onto [lower, upper]. Deterministic.
 */
const levenbergMarquardt = (
  residuals: Residuals,
  m: number,
  start: ReadonlyArray<number>,
  lower: ReadonlyArray<number>,
  upper: ReadonlyArray<number>,
  maxIterations: number,
): { theta: number[]; loss: number } => {
  const n = start.length;
  const clamp = (v: number, i: number) => Math.min(upper[i] ?? v, Math.max(lower[i] ?? v, v));
  let theta = start.map(clamp);
  const r = new Float64Array(m);
  const trial = new Float64Array(m);
  residuals(theta, r);
  let loss = halfSquares(r);
  if (!Number.isFinite(loss)) return { theta, loss };
  let lambda = 1e-3;
  const jac = Array.from({ length: n }, () => new Float64Array(m));
  let stalls = 0;
  for (let iteration = 0; iteration < maxIterations && stalls < 3; iteration++) {
    for (let j = 0; j < n; j++) {
      const h = 1e-6;
      const up = (theta[j] ?? 0) + h <= (upper[j] ?? Infinity);
      const shifted = theta.map((v, i) => (i === j ? v + (up ? h : -h) : v));
      residuals(shifted, trial);
      const col = jac[j] as Float64Array;
      for (let i = 0; i < m; i++) col[i] = ((trial[i] ?? 0) - (r[i] ?? 0)) / (up ? h : -h);
    }
    const jtj = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const jtr = new Array<number>(n).fill(0);
    for (let a = 0; a < n; a++) {
      const ca = jac[a] as Float64Array;
      let g = 0;
      for (let i = 0; i < m; i++) g += (ca[i] ?? 0) * (r[i] ?? 0);
      jtr[a] = g;
      for (let b = a; b < n; b++) {
        const cb = jac[b] as Float64Array;
        let s = 0;
        for (let i = 0; i < m; i++) s += (ca[i] ?? 0) * (cb[i] ?? 0);
        (jtj[a] as number[])[b] = s;
        (jtj[b] as number[])[a] = s;
      }
    }
    let accepted = false;
    for (let attempt = 0; attempt < 12 && !accepted; attempt++) {
      const system = jtj.map((row, a) => row.map((v, b) => (a === b ? v * (1 + lambda) + 1e-12 : v)));
      const delta = solve(system, jtr.map((g) => -g));
      if (delta === undefined) {
        lambda *= 4;
        continue;
      }
      const next = theta.map((v, i) => clamp(v + (delta[i] ?? 0), i));
      residuals(next, trial);
      const nextLoss = halfSquares(trial);
      if (Number.isFinite(nextLoss) && nextLoss < loss) {
        stalls = loss - nextLoss < 1e-9 * loss ? stalls + 1 : 0;
        theta = next;
        loss = nextLoss;
        r.set(trial);
        lambda = Math.max(lambda / 3, 1e-12);
        accepted = true;
      } else {
        lambda *= 4;
      }
    }
    if (!accepted) break;
  }
  return { theta, loss };
};

/** Gaussian elimination with partial pivoting; undefined when singular. */
const solve = (matrix: number[][], rhs: number[]): number[] | undefined => {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i] ?? 0]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) {
      if (Math.abs(a[row]?.[col] ?? 0) > Math.abs(a[pivot]?.[col] ?? 0)) pivot = row;
    }
    const p = a[pivot] as number[];
    if (!(Math.abs(p[col] ?? 0) > 1e-300)) return undefined;
    [a[col], a[pivot]] = [p, a[col] as number[]];
    for (let row = col + 1; row < n; row++) {
      const r = a[row] as number[];
      const factor = (r[col] ?? 0) / (p[col] ?? 1);
      for (let k = col; k <= n; k++) r[k] = (r[k] ?? 0) - factor * (p[k] ?? 0);
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let row = n - 1; row >= 0; row--) {
    const r = a[row] as number[];
    let s = r[n] ?? 0;
    for (let k = row + 1; k < n; k++) s -= (r[k] ?? 0) * (x[k] ?? 0);
    x[row] = s / (r[row] ?? 1);
  }
  return x.every(Number.isFinite) ? x : undefined;
};

/**
 * Fits one dataflow's constants to table samples (all of the same dataflow): first the latency
 * parameters by least squares on ln(cycles) (multi-start bounded Levenberg–Marquardt), then, with
 * the latency fixed (it gives the PE-busy cycles), the energy coefficients on ln(energy).
 */
export const fitDataflowConstants = (samples: ReadonlyArray<CostSample>, options: FitOptions = {}): DataflowFit => {
  if (samples.length === 0) throw new RangeError("fitDataflowConstants: no samples");
  const dataflow = samples[0]?.dataflow;
  if (samples.some((s) => s.dataflow !== dataflow)) throw new RangeError("fitDataflowConstants: samples of several dataflows");
  const f = features(samples);
  const maxIterations = options.maxIterations ?? 200;
  const starts: number[][] = [];
  if (options.start !== undefined) {
    starts.push(latencyTheta(options.start));
  } else {
    starts.push([...LATENCY_START]);
    const prng = Prng.forStream(options.seed ?? 1, "cost-model-fit");
    const gaussian = () => Math.sqrt(-2 * Math.log(1 - prng.next())) * Math.cos(2 * Math.PI * prng.next());
    for (let s = 1; s < (options.starts ?? 8); s++) starts.push(LATENCY_START.map((v) => v + 0.7 * gaussian()));
  }
  const latencyFn = latencyResiduals(f);
  let best: { theta: number[]; loss: number } | undefined;
  for (const start of starts) {
    const fit = levenbergMarquardt(latencyFn, f.n, start, LATENCY_LOWER, LATENCY_UPPER, maxIterations);
    if (best === undefined || fit.loss < best.loss) best = fit;
  }
  const latency = best as { theta: number[]; loss: number };
  const energyFn = energyResiduals(f, latency.theta);
  const energyStarts = options.start !== undefined ? [energyTheta(options.start)] : ENERGY_STARTS;
  let bestEnergy: { theta: number[]; loss: number } | undefined;
  for (const start of energyStarts) {
    const fit = levenbergMarquardt(energyFn, f.n, start, ENERGY_LOWER, ENERGY_UPPER, maxIterations);
    if (bestEnergy === undefined || fit.loss < bestEnergy.loss) bestEnergy = fit;
  }
  const energy = bestEnergy as { theta: number[]; loss: number };
  return {
    constants: toConstants(latency.theta, energy.theta),
    latencyLoss: latency.loss,
    energyLoss: energy.loss,
    samples: f.n,
  };
};

/** Fits every dataflow of `table` on `models` (see fitDataflowConstants). */
export const fitCostModel = (
  table: CostLookup,
  models: Iterable<Model>,
  options: { readonly perDataflow?: Partial<Record<Dataflow, FitOptions>> } & FitOptions = {},
): Record<Dataflow, DataflowFit> => {
  const samples = costSamples(table, models);
  const result = {} as Record<Dataflow, DataflowFit>;
  for (const dataflow of DATAFLOWS) {
    const { perDataflow, ...shared } = options;
    result[dataflow] = fitDataflowConstants(
      samples.filter((s) => s.dataflow === dataflow),
      { ...shared, ...perDataflow?.[dataflow] },
    );
  }
  return result;
};

/** ½ Σ ln(analytical / table)² of `constants` on `samples` (one dataflow), for cycles and energy. */
export const fitLoss = (
  samples: ReadonlyArray<CostSample>,
  constants: DataflowCostConstants,
): { readonly latencyLoss: number; readonly energyLoss: number } => {
  const f = features(samples);
  const r = new Float64Array(f.n);
  const theta = latencyTheta(constants);
  latencyResiduals(f)(theta, r);
  const latencyLoss = halfSquares(r);
  energyResiduals(f, theta)(energyTheta(constants), r);
  return { latencyLoss, energyLoss: halfSquares(r) };
};
