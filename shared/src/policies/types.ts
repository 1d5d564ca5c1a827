/**
 * The policy contract (DESIGN.md §3): a policy is a pure decision function of the scheduler's
 * view. No XState, no I/O, no clock, no randomness — so it can be unit-tested, benchmarked,
 * replayed and swapped.
 */
import type { ModelCosts } from "../domain/types";

/** A released, not yet finished job (one frame of one model). */
export interface JobView {
  /** "<model>:<frame>" */
  readonly id: string;
  readonly model: string;
  readonly frame: number;
  readonly releaseAt: number;
  readonly injectAt: number;
  readonly deadline: number;
  /** Index of the next layer to run. */
  readonly nextLayer: number;
  readonly layerCount: number;
  /** A block of this job is in flight. */
  readonly running: boolean;
  /** At least one block has been dispatched. */
  readonly started: boolean;
  /** When its last block finished (its injection time before it first ran). */
  readonly lastRanAt: number;
}

export interface AccelView {
  readonly index: number;
  readonly id: string;
  /** Free to take a block now. */
  readonly idle: boolean;
  /** When its current block completes (≤ now when idle). */
  readonly busyUntil: number;
}

export interface ModelView {
  /** Scenario model name (task name). */
  readonly name: string;
  readonly periodMs: number;
  readonly dependsOn: ReadonlyArray<string>;
  /** Frames of this model completed so far (on time or late). */
  readonly completed: number;
  /** Released, unfinished jobs of this model, oldest first. */
  readonly queue: ReadonlyArray<JobView>;
  readonly costs: ModelCosts;
  /** Whole-model latency in cycles on each accelerator. */
  readonly wholeCycles: Float64Array;
  /** [l] = optimistic time (each layer on its fastest accelerator) of layers l..end, ms (expected, with exits/skips). */
  readonly optimisticRemainingMs: Float64Array;
  /**
   * Expected optimistic work of a frame's cascade descendants (trigger probability × their work),
   * which share the frame's deadline window: a parent that finishes late starves its children.
   */
  readonly cascadeRemainingMs: number;
  /** The direct cascade children and the expected work each adds to a frame of this model. */
  readonly cascadeChildren: ReadonlyArray<{ readonly name: string; readonly expectedWorkMs: number }>;
  /** Share of this model's frames that ended late or dropped within the recent window (0 if none ended). */
  readonly recentMissRate: number;
  /** When a frame of this model last completed on time (null: never). */
  readonly lastOnTimeAt: number | null;
}

export interface SchedulerView {
  readonly now: number;
  /** Models in ascending byte order of their names. */
  readonly models: ReadonlyArray<ModelView>;
  readonly accelerators: ReadonlyArray<AccelView>;
  /** Completed-frame count per model name. */
  readonly completedByModel: ReadonlyMap<string, number>;
  /** The run's block size B (layers per dispatch) for block-granular policies. */
  readonly blockSize: number;
}

export interface Dispatch {
  readonly job: string;
  readonly acc: number;
  /** Number of layers of the block, starting at the job's next layer. */
  readonly layerCount: number;
  /** The scores that drove the decision (recorded in the event log; optional). */
  readonly scores?: Readonly<Record<string, number>>;
}

export interface Drop {
  readonly job: string;
  readonly reason: string;
  readonly scores?: Readonly<Record<string, number>>;
}

export interface Decision {
  readonly dispatches: ReadonlyArray<Dispatch>;
  readonly drops: ReadonlyArray<Drop>;
}

export interface Policy {
  readonly name: string;
  readonly description: string;
  /** Resolved parameter values (printed with the results). */
  readonly params: PolicyParams;
  /** "model": a job runs start to end in one block on one accelerator (non-preemptive). */
  readonly granularity: "model" | "block";
  readonly decide: (view: SchedulerView) => Decision;
}

/** A named, documented, tunable parameter of a policy. */
export interface ParamSpec {
  readonly name: string;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly description: string;
}

export type PolicyParams = Readonly<Record<string, number>>;

/** How the catalogue builds a policy: with its parameters resolved (defaults + overrides). */
export interface PolicyFactory {
  readonly name: string;
  readonly description: string;
  /** What it reproduces and from where (paper, adaptation). */
  readonly source: string;
  readonly params: ReadonlyArray<ParamSpec>;
  readonly create: (params: PolicyParams) => Policy;
}
