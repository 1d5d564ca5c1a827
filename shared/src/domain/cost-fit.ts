/**
 * Calibration of the analytical cost model (docs/cost-model.md): per dataflow, least squares on
 * ln(cycles) over the 10 latency constants (multi-start bounded Levenberg–Marquardt), then, with
 * the latency fixed, on ln(energy) over the 6 energy coefficients. COST_MODEL_CONSTANTS
 * (cost-model.ts) are its result on the built-in table; the tests re-run it. Pure: no I/O.
 */
import { costSamples } from "./cost-fidelity";
import type { CostLookup, CostSample } from "./cost-fidelity";
import { layerMapping } from "./cost-model";
import type { DataflowCostConstants } from "./cost-model";
import { halfSquares, levenbergMarquardt } from "./least-squares";
import { Prng } from "./prng";
import { DATAFLOWS } from "./types";
import type { Dataflow, Model } from "./types";

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
