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
  /** Free to take a block now (with dispatch queues: its queue has room, it may still be running blocks). */
  readonly idle: boolean;
  /** When its last committed block completes (the end of its queue; ≤ now when it runs nothing). */
  readonly busyUntil: number;
}

/** A supernet variant of a model, as policies see it (index 0 of a model's list = the full model). */
export interface VariantView {
  /** Channel width multiplier in (0, 1]. */
  readonly width: number;
  /** Accuracy relative to the full model, in (0, 1]. */
  readonly accuracy: number;
  /** The variant's costs and the figures derived from them, as ModelView has them for the full model. */
  readonly costs: ModelCosts;
  readonly wholeCycles: Float64Array;
  readonly optimisticRemainingMs: Float64Array;
}

/**
 * One model's jobs and what they cost. A supernet model (docs/supernets.md) appears once per
 * variant in use: the full model's view (`variant` 0, with `variants` listed) holds its jobs that
 * run the full model or have not started (their variant is chosen at their first block), and for
 * each variant v > 0 that started jobs run, a view with `variant` v holds those jobs, with that
 * variant's costs, wholeCycles and optimisticRemainingMs (same name, period and statistics). So a
 * policy that ignores variants computes every job with the costs it really runs at.
 */
export interface ModelView {
  /** Scenario model name (task name). */
  readonly name: string;
  /** Which variant of the model this view's jobs run (0: the full model, or not started yet). */
  readonly variant: number;
  /** On the full model's view of a supernet model: its variants (index 0 = the full model). */
  readonly variants?: ReadonlyArray<VariantView>;
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
  /** Models in ascending byte order of their names (a supernet model's variant views right after its full view, by variant). */
  readonly models: ReadonlyArray<ModelView>;
  readonly accelerators: ReadonlyArray<AccelView>;
  /** Completed-frame count per model name. */
  readonly completedByModel: ReadonlyMap<string, number>;
  /** The run's block size B (layers per dispatch) for block-granular policies. */
  readonly blockSize: number;
  /**
   * The run's dispatch quantum, ms (`--quantum`, `--block auto`): > 0, a block is grouped until its
   * latency reaches it and `blockSize` is not used; 0 or absent: blocks of `blockSize` layers.
   * Policies size blocks with policies/common `blockLayers`, which reads both.
   */
  readonly quantumMs?: number;
}

export interface Dispatch {
  readonly job: string;
  readonly acc: number;
  /** Number of layers of the block, starting at the job's next layer. */
  readonly layerCount: number;
  /**
   * Supernet variant the job runs (index into its model view's `variants`; default 0, the full
   * model). Honoured only on the job's first block: the variant never changes mid-job.
   */
  readonly variant?: number;
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
  /** What the run setup needs to know about it (declared by its factory; see PolicyCapabilities). */
  readonly capabilities: PolicyCapabilities;
  readonly decide: (view: SchedulerView) => Decision;
}

/**
 * What values a parameter takes:
 * - "switch": on/off, exactly 0 or 1 (drop, guard, tune, …);
 * - "integer": a whole number in [min, max] (block sizes, modes);
 * - "number": any finite number in [min, max] (weights, thresholds, durations).
 */
export type ParamKind = "switch" | "integer" | "number";

/** A named, documented, tunable parameter of a policy. */
export interface ParamSpec {
  readonly name: string;
  /** Default "number". Declare on/off parameters with `switchParam` (kind "switch", range [0, 1]). */
  readonly kind?: ParamKind;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly description: string;
}

export type PolicyParams = Readonly<Record<string, number>>;

/**
 * How the kernel releases, retires and times frames for a policy: "xrbench" reproduces the
 * XRBench runtime quirk for quirk (virtual time only, static scenarios); "exact" is DESIGN.md §5.
 */
export type Semantics = "xrbench" | "exact";

/**
 * What a policy can do and what the run setup reads from it instead of from its name. Switches
 * name the policy's own parameters (kind "switch") that turn a run feature on; the run setup
 * reads them (supernet variants, online tuning), the policy's `decide` does not.
 */
export interface PolicyCapabilities {
  readonly semantics: Semantics;
  /** Simulated time of a run that names no duration, ms. */
  readonly defaultDurationMs: number;
  /** Whether it can run with a live clock (docs/live.md); when not, why, for the user. */
  readonly live: { readonly can: true } | { readonly can: false; readonly why: string };
  /** Left out of `compare --policies all` (it can still be named). */
  readonly notInAll: boolean;
  /** `sdrm3 explain` shows its MapScore terms (U, F, P, guards): its decisions come from sdrm3's scorer. */
  readonly mapScore: boolean;
  /** Parameters the online tuner adjusts (empty: it is not tunable online). */
  readonly tunable: ReadonlyArray<string>;
  /**
   * Parameter values that reproduce an earlier scheduling behaviour (the event log's behaviour
   * version): a log of behaviour b records none of the parameters added since, and its replay gives
   * them `earlierBehaviours[b]` (absent: the policy's decisions did not change with the version).
   */
  readonly earlierBehaviours?: Readonly<Record<number, Readonly<Record<string, number>>>>;
  /** Run switches: which of its parameters turns each run feature on (absent: it has no such switch). */
  readonly switches: {
    /** Supernet variants ×1.0/×0.75/×0.5 of every model (docs/supernets.md). */
    readonly supernet?: string;
    /** Online tuning of `tunable`: `on` the switch, `every` ms between steps, `lookahead` ms per evaluation. */
    readonly tune?: { readonly on: string; readonly every: string; readonly lookahead: string };
  };
}

/** How the catalogue builds a policy: with its parameters resolved (defaults + overrides). */
export interface PolicyFactory {
  readonly name: string;
  readonly description: string;
  /** What it reproduces and from where (paper, adaptation). */
  readonly source: string;
  readonly params: ReadonlyArray<ParamSpec>;
  readonly capabilities: PolicyCapabilities;
  /** The decision logic with `params` (already resolved); `buildPolicy` adds the capabilities. */
  readonly create: (params: PolicyParams) => PolicyLogic;
}

/** A policy without its capabilities: what a factory's `create` returns. */
export type PolicyLogic = Omit<Policy, "capabilities">;
