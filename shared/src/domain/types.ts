/**
 * Domain vocabulary (see docs/ and ../../DESIGN vocabulary): models, layers, scenarios, hardware,
 * and the per-layer cost of a model on each accelerator of a hardware.
 *
 * Pure data types only; no I/O here.
 */

export type Dataflow = "WS" | "OS" | "RS";
export const DATAFLOWS: ReadonlyArray<Dataflow> = ["WS", "OS", "RS"];

/** One operator of a model. Y/X are input rows/cols (MAESTRO convention), stride 1 in XRBench. */
export interface Layer {
  readonly index: number;
  readonly name: string;
  readonly type: string;
  readonly N: number;
  readonly K: number;
  readonly C: number;
  readonly Y: number;
  readonly X: number;
  readonly R: number;
  readonly S: number;
  readonly stride: number;
  /** N*K*C*R*S*(Y-R+1)*(X-S+1) */
  readonly macs: number;
}

/** A DNN: an ordered list of layers. */
export interface Model {
  readonly name: string;
  readonly task: string;
  readonly layers: ReadonlyArray<Layer>;
}

/** One model task of a scenario. */
export interface ScenarioModel {
  /** Name as written in the scenario (identifies the task; used for ordering and output). */
  readonly name: string;
  /** Canonical model whose layers and costs it uses (e.g. D2go_FastRCNN -> OD_D2go_FasterRCNN). */
  readonly model: string;
  /** Target frames per second (> 0). */
  readonly fps: number;
  /** Cascade parents (scenario model names). */
  readonly dependsOn: ReadonlyArray<string>;
  /** Trigger probability in (0, 1]; 1 when absent. */
  readonly probability: number;
  /**
   * When the task releases frames, and at which FPS (dynamic scenarios: phases, models joining and
   * leaving, FPS changes). Absent: the whole run at `fps`. Intervals are sorted and disjoint;
   * `toMs` null = until the end of the run.
   */
  readonly active?: ReadonlyArray<ActiveInterval>;
  /** Early-exit points: after layer `afterLayer` the job ends with `probability`. */
  readonly exits?: ReadonlyArray<{ readonly afterLayer: number; readonly probability: number }>;
  /** Skippable layers fromLayer..toLayer (inclusive), executed with `probability`. */
  readonly skips?: ReadonlyArray<{ readonly fromLayer: number; readonly toLayer: number; readonly probability: number }>;
}

export interface ActiveInterval {
  readonly fromMs: number;
  readonly toMs: number | null;
  readonly fps: number;
}

/** A named time window of a dynamic scenario (for reporting, tuning and charts). */
export interface PhaseSpan {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number | null;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly models: ReadonlyArray<ScenarioModel>;
  /** Phases of a dynamic scenario (absent for a static one). */
  readonly phases?: ReadonlyArray<PhaseSpan>;
}

/** A sub-accelerator slot of a hardware configuration, before a dataflow is bound to it. */
export interface AcceleratorSlot {
  readonly index: number;
  readonly name: string;
  readonly numPes: number;
  readonly nocBw: number;
}

/** A hardware configuration as in XRBench's hw_configs (e.g. Dual_4K). */
export interface HardwareConfig {
  readonly name: string;
  /** single | dual | quad | Not_Used | user */
  readonly group: string;
  readonly slots: ReadonlyArray<AcceleratorSlot>;
}

/** One accelerator of a resolved hardware: a slot with its dataflow. */
export interface AcceleratorSpec extends AcceleratorSlot {
  /** Stable id used in subjects and output: "acc0", "acc1", ... */
  readonly id: string;
  readonly dataflow: Dataflow;
  /** Cost-table column class, e.g. "WS_2048pe_bw128". */
  readonly costClass: string;
}

/** A hardware configuration with a dataflow bound to every slot, named "<config>/<DF>_<DF>…". */
export interface Hardware {
  readonly name: string;
  readonly config: string;
  readonly dataflows: ReadonlyArray<Dataflow>;
  readonly accelerators: ReadonlyArray<AcceleratorSpec>;
}

/** Latency (cycles at 1 GHz) and energy (nJ) of one layer on one accelerator class. */
export interface LayerCost {
  readonly cycles: number;
  readonly energyNJ: number;
}

/**
 * Per-layer costs of one model on every accelerator of one hardware, as dense arrays for the hot
 * path: latencyMs[acc][layer] (= cycles / 1e6), energyMJ[acc][layer] (= nJ / 1e6).
 */
export interface ModelCosts {
  readonly model: string;
  readonly layerCount: number;
  readonly cycles: ReadonlyArray<Float64Array>;
  readonly latencyMs: ReadonlyArray<Float64Array>;
  readonly energyMJ: ReadonlyArray<Float64Array>;
}

/**
 * One variant of a supernet model as a run uses it (DESIGN.md §5, docs/supernets.md): its channel
 * width, its accuracy relative to the full model, and its per-layer costs on the run's hardware
 * (same layer count as the full model). A run's list per model has the full model at index 0.
 */
export interface RunVariant {
  readonly width: number;
  readonly accuracy: number;
  readonly costs: ModelCosts;
}
