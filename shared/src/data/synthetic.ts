/**
 * Synthetic workloads and hardware for load tests and scaling studies (issue 7, "Load").
 *
 * - `generateScenario`: N scenario models drawn from the dataset's models (by default all 11
 *   XRBench models) at frame rates drawn from a list (default 15, 30, 45, 60) or an integer range,
 *   optionally with cascades (a child runs at its parent's rate and is triggered with a drawn
 *   probability, as XRBench's gaze-after-eye-segmentation). Every draw is counter-based
 *   (`drawAt(seed, "synthetic", purpose, i)`), so the same options give the same scenario, and
 *   model i does not depend on N: the scenario for N + 1 models extends the one for N.
 * - `generateHardware`: A accelerators cycling through the cost table's classes — the dataflow
 *   (WS, OS, RS) changes every slot, the PE/NoC class every three slots — so every class of the
 *   table is used once in the first (classes) slots and every accelerator has MAESTRO costs.
 *
 * Both come with their file forms (`scenarioJson`, `hardwareJson`), which `loadScenarioFile` and
 * `loadHardwareFile` read back to the same scenario and config (`sdrm3 gen`, docs/data.md).
 * Names are subject tokens: `<model>_<ii>` (e.g. `ES_RITNet_07`), `synthetic_<N>_s<seed>`,
 * `Synthetic_<A>`.
 */
import { drawAt } from "../domain/prng";
import { DATAFLOWS } from "../domain/types";
import type { AcceleratorSlot, Dataflow, HardwareConfig, Scenario, ScenarioModel } from "../domain/types";
import { dataError, listNames, showValue } from "./errors";
import { MAX_ACCELERATORS, MAX_MODELS_PER_SCENARIO as MAX_MODELS } from "./limits";
import { findModel } from "./lookup";
import type { Dataset } from "./types";

/** Frame rates: a list to draw from, or an integer range [min, max]. */
export type FpsChoice = { readonly values: ReadonlyArray<number> } | { readonly min: number; readonly max: number };

export const DEFAULT_SYNTHETIC_FPS: FpsChoice = { values: [15, 30, 45, 60] };

/** Trigger probabilities of cascade children (XRBench uses 0.2, 0.5 and 1). */
export const CASCADE_PROBABILITIES: ReadonlyArray<number> = [0.25, 0.5, 0.75, 1];

export interface SyntheticScenarioOptions {
  /** Number of scenario models (1 … 1000). */
  readonly models: number;
  readonly seed: number;
  /** Default: 15, 30, 45 or 60 FPS. */
  readonly fps?: FpsChoice;
  /** Share in [0, 1] of the models after the first that are cascade children (default 0). */
  readonly cascades?: number;
  /** Models to draw from (default: every model of the dataset, in name order). */
  readonly pool?: ReadonlyArray<string>;
  /** Default `synthetic_<models>_s<seed>`. */
  readonly name?: string;
}

export interface SyntheticHardwareOptions {
  /** Number of accelerators (1 … 256, the accelerators-per-hardware limit). */
  readonly accelerators: number;
  /** Cost classes to cycle through (default: every class of the dataset's cost table). */
  readonly classes?: ReadonlyArray<string>;
  /** Config name; default `Synthetic_<accelerators>`. */
  readonly name?: string;
}

export interface SyntheticHardware {
  readonly config: HardwareConfig;
  /** The hardware spec to run it with: `<name>/<DF>_<DF>…`, one dataflow per accelerator. */
  readonly spec: string;
}

const LABEL = "synthetic";
/** Subject tokens (contracts/subjects.ts): what model names and run ids may be. */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

const pick = <A>(list: ReadonlyArray<A>, u: number): A => list[Math.min(list.length - 1, Math.floor(u * list.length))]!;

const checkInteger = (what: string, value: number, max: number): void => {
  if (!(Number.isInteger(value) && value >= 1 && value <= max)) {
    throw dataError(LABEL, what, `an integer in [1, ${max}]`, showValue(value));
  }
};

const checkName = (what: string, name: string): void => {
  if (!TOKEN.test(name)) throw dataError(LABEL, what, "1–64 letters, digits, '_' or '-' (a subject token)", showValue(name));
};

const checkFps = (fps: FpsChoice): void => {
  if ("values" in fps) {
    if (fps.values.length === 0) throw dataError(LABEL, "fps", "at least one frame rate", "none");
    fps.values.forEach((v, i) => {
      if (!(Number.isFinite(v) && v > 0)) throw dataError(LABEL, `fps[${i}]`, "a positive number", showValue(v));
    });
    return;
  }
  if (!(Number.isInteger(fps.min) && Number.isInteger(fps.max) && fps.min >= 1 && fps.min <= fps.max)) {
    throw dataError(LABEL, "fps", "an integer range min-max with 1 ≤ min ≤ max", `${fps.min}-${fps.max}`);
  }
};

const drawFps = (fps: FpsChoice, u: number): number =>
  "values" in fps ? pick(fps.values, u) : fps.min + Math.min(fps.max - fps.min, Math.floor(u * (fps.max - fps.min + 1)));

const pad = (i: number, n: number): string => String(i).padStart(Math.max(2, String(n - 1).length), "0");

/**
 * A scenario of `models` entries drawn from the dataset's models with the options' frame rates and
 * cascades. Throws DataError on bad options and UnknownNameError on an unknown pool model.
 */
export const generateScenario = (dataset: Dataset, options: SyntheticScenarioOptions): Scenario => {
  const { models: n, seed } = options;
  checkInteger("models", n, MAX_MODELS);
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw dataError(LABEL, "seed", "an integer in [0, 2^32)", showValue(seed));
  const fps = options.fps ?? DEFAULT_SYNTHETIC_FPS;
  checkFps(fps);
  const cascades = options.cascades ?? 0;
  if (!(cascades >= 0 && cascades <= 1)) throw dataError(LABEL, "cascades", "a share in [0, 1]", showValue(cascades));
  const pool = [...(options.pool ?? [...dataset.models.keys()].sort())];
  if (pool.length === 0) throw dataError(LABEL, "pool", "at least one model", "none");
  for (const model of pool) findModel(dataset, model);
  const name = options.name ?? `synthetic_${n}_s${seed}`;
  checkName("name", name);
  const draw = (purpose: string, i: number) => drawAt(seed, LABEL, purpose, i);

  const entries: ScenarioModel[] = [];
  const roots: ScenarioModel[] = [];
  for (let i = 0; i < n; i++) {
    const model = pick(pool, draw("model", i));
    const entryName = `${model}_${pad(i, n)}`;
    checkName(`models[${i}].name`, entryName);
    const child = roots.length > 0 && draw("cascade", i) < cascades;
    if (child) {
      // one parent (the kernel's cascades have at most one), a root: depth 1, as in XRBench
      const parent = pick(roots, draw("parent", i));
      entries.push({ name: entryName, model, fps: parent.fps, dependsOn: [parent.name], probability: pick(CASCADE_PROBABILITIES, draw("probability", i)) });
    } else {
      const entry: ScenarioModel = { name: entryName, model, fps: drawFps(fps, draw("fps", i)), dependsOn: [], probability: 1 };
      entries.push(entry);
      roots.push(entry);
    }
  }
  const rates = "values" in fps ? fps.values.join("/") : `${fps.min}–${fps.max}`;
  return {
    name,
    description: `synthetic: ${n} models drawn from ${pool.length} at ${rates} FPS, cascades ${cascades}, seed ${seed}`,
    models: entries,
  };
};

/** The scenario in the scenario-file format (`loadScenarioFile` reads it back to the same scenario). */
export const scenarioJson = (scenario: Scenario) => ({
  name: scenario.name,
  description: scenario.description,
  models: scenario.models.map((m) => ({
    name: m.name,
    model: m.model,
    fps: m.fps,
    ...(m.dependsOn.length === 0 ? {} : { dependency: [...m.dependsOn] }),
    ...(m.probability === 1 ? {} : { probability: m.probability }),
  })),
});

const CLASS = /^(WS|OS|RS)_(\d+)pe_bw(\d+)$/;

/**
 * A config of `accelerators` sub-accelerators and its spec. Slot i gets dataflow DATAFLOWS[i mod 3]
 * and the (PEs, NoC) class number ⌊i / 3⌋ mod P of the classes' distinct (PEs, NoC) pairs (sorted);
 * a pair is only used with the dataflows it has a cost class for.
 */
export const generateHardware = (dataset: Dataset, options: SyntheticHardwareOptions): SyntheticHardware => {
  checkInteger("accelerators", options.accelerators, MAX_ACCELERATORS);
  const name = options.name ?? `Synthetic_${options.accelerators}`;
  checkName("name", name);
  const known = dataset.costs.classes;
  const classes = options.classes ?? known;
  if (classes.length === 0) throw dataError(LABEL, "classes", "at least one cost class", "none");
  const parsed = classes.map((cls, i) => {
    const m = CLASS.exec(cls);
    if (m === null || !known.includes(cls)) {
      throw dataError(LABEL, `classes[${i}]`, `a cost class of the cost table (${listNames(known)})`, showValue(cls));
    }
    return { dataflow: m[1] as Dataflow, numPes: Number(m[2]), nocBw: Number(m[3]) };
  });
  // the cycle: for each (PEs, NoC) pair in order, each of its dataflows in WS, OS, RS order
  const pairs = [...new Set(parsed.map((c) => `${c.numPes}/${c.nocBw}`))]
    .map((key) => key.split("/").map(Number) as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cycle = DATAFLOWS.flatMap((dataflow, d) =>
    pairs.map(([numPes, nocBw], p) => ({ dataflow, numPes, nocBw, order: p * DATAFLOWS.length + d })),
  )
    .filter((c) => parsed.some((x) => x.dataflow === c.dataflow && x.numPes === c.numPes && x.nocBw === c.nocBw))
    .sort((a, b) => a.order - b.order);
  const slots: AcceleratorSlot[] = [];
  const dataflows: Dataflow[] = [];
  for (let i = 0; i < options.accelerators; i++) {
    const c = cycle[i % cycle.length]!;
    slots.push({ index: i, name: `${c.dataflow}_${c.numPes}pe_bw${c.nocBw}`, numPes: c.numPes, nocBw: c.nocBw });
    dataflows.push(c.dataflow);
  }
  return { config: { name, group: "user", slots }, spec: `${name}/${dataflows.join("_")}` };
};

/** The config in the hardware-file format (`loadHardwareFile` reads it back to the same config). */
export const hardwareJson = (config: HardwareConfig) => ({
  name: config.name,
  group: config.group,
  sub_accelerators: config.slots.map((s) => ({ index: s.index, name: s.name, num_pes: s.numPes, top_noc_bw: s.nocBw })),
});
