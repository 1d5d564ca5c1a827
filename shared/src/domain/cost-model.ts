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
 * Pure: no I/O. The calibration against a cost table is in two sibling modules, so that the
 * committed constants can be re-derived from the table by anyone (the tests do): cost-fidelity.ts
 * (the table's samples and how well the model reproduces them) and cost-fit.ts (the least-squares
 * fit of the constants, on least-squares.ts).
 */
import { DATAFLOWS } from "./types";
import type { Dataflow, Layer, LayerCost } from "./types";

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
