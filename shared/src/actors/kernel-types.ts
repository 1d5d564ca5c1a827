/**
 * The scheduler kernel's vocabulary: its configuration, what it is fed (inputs) and what it asks
 * for (effects, as data). The kernel itself: scheduler-kernel.ts; its state: kernel-state.ts.
 */
import type { BlockDispatch, BlockResult, RunEvent, TaskCommand, TaskReleased } from "../contracts/messages";
import type { FrameRecord } from "../domain/metrics";
import type { ModelCosts, RunVariant, ScenarioModel } from "../domain/types";
import type { Policy } from "../policies/types";
import type { ReleaseMode } from "./kernel-release";

export type KernelMode = "xrbench" | "exact";

export interface KernelModel {
  readonly name: string;
  readonly periodMs: number;
  readonly dependsOn: ReadonlyArray<string>;
  readonly costs: ModelCosts;
  /** Trigger probability of this model's frames (as a cascade child); default 1. */
  readonly probability?: number;
  /** Early exits and skippable layers (exact mode): ToGo* estimates use the expected remaining work. */
  readonly exits?: ScenarioModel["exits"];
  readonly skips?: ScenarioModel["skips"];
  /**
   * Supernet variants (docs/supernets.md): index 0 is the full model (its costs are `costs`), each
   * with the same layer count. A job's variant is chosen by the policy at its first block (default
   * 0) and never changes; the view presents started jobs of variant v > 0 in a view of their own.
   */
  readonly variants?: ReadonlyArray<RunVariant>;
}

/** A live run's clock speed, how it asks for releases (kernel-release.ts) and the lateness it absorbs (kernel-time.ts). */
export interface LiveSetting {
  readonly speed: number;
  readonly releases?: ReleaseMode;
  /**
   * Timing tolerance, wall ms (docs/live.md "Timing tolerance"): an event handled no later than
   * this after its due time is handled at its due time, and the kernel waits up to this long past
   * a block's due completion for its report before it moves on. Absent or 0: every event at the
   * clock reading when it is handled (how live logs recorded before it replay).
   */
  readonly toleranceMs?: number;
}

export interface KernelConfig {
  readonly run: string;
  readonly mode: KernelMode;
  readonly policy: Policy;
  readonly models: ReadonlyArray<KernelModel>;
  readonly accelerators: ReadonlyArray<{ readonly id: string }>;
  readonly durationMs: number;
  /** xrbench: base tick B = 1000 div (largest FPS). Unused in exact mode. */
  readonly baseTickMs: number;
  /** Default block size (layers per dispatch) handed to block-granular policies. */
  readonly blockSize: number;
  /** Dispatch quantum, ms, handed to the policies with the block size (policies/common blockLayers); absent or 0: blocks of `blockSize`. */
  readonly quantumMs?: number;
  /** Dispatch queues (kernel-queue.ts): blocks an accelerator may hold committed, the running one included; absent: 1 (no queue). */
  readonly queueDepth?: number;
  /** Bounded chains (kernel-chain.ts): a job's next block committed behind its own for up to this much run time, ms; absent: off (depth ≥ 2 only). */
  readonly chainMs?: number;
  /**
   * Look-ahead (kernel-queue.ts, depth ≥ 2 only): a busy accelerator takes a block behind its queue
   * only once its queue ends within this many ms of now, and the kernel wakes at that point; absent:
   * any room in its queue counts.
   */
  readonly lookaheadMs?: number;
  /** Window over which a model's recent deadline-miss share is measured (fairness). */
  readonly missWindowMs: number;
  /** Online tuning (exact mode): the tuner is called every `intervalMs` and at each phase start. */
  readonly tuning?: TuningConfig;
  /**
   * Live mode (exact mode only): wall-clock time scaled by `speed` (0.1 = ten times slower than
   * real); `releases` how frame releases are asked (kernel-release.ts; absent: "ahead", "held" is
   * how live logs recorded before it replay).
   */
  readonly live?: LiveSetting;
  /**
   * Virtual time, exact mode: how frame releases are asked (kernel-release.ts). "ahead": a model's
   * next release is asked as soon as the current one is injected and its answer is awaited only
   * before the clock reaches its due time; absent or "held": asked when due, holding the step (the
   * xrbench mode, and every log recorded before releases were asked ahead in virtual time).
   */
  readonly releases?: ReleaseMode;
}

/** What the online tuner sees at a tuning point. */
export interface TuneContext {
  readonly now: number;
  readonly policy: Policy;
  /** Frames that ended since the previous tuning point. */
  readonly ended: ReadonlyArray<FrameRecord>;
}

export interface TuneResult {
  readonly policy: Policy;
  /** Tuning step number (1, 2, …) and figures for the trajectory (e.g. look-ahead and windowed UXCost). */
  readonly step: number;
  readonly info: Readonly<Record<string, number>>;
}

/** A deterministic function of the sequence of contexts it is given (it may keep state). */
export type Tuner = (ctx: TuneContext) => TuneResult;

export interface TuningConfig {
  readonly intervalMs: number;
  /** Extra tuning points (phase starts). */
  readonly at: ReadonlyArray<number>;
  readonly tuner: Tuner;
}

export type Target = { readonly kind: "task"; readonly name: string } | { readonly kind: "accel"; readonly id: string };

export type KernelEffect =
  /**
   * `ahead`: virtual time, a release asked ahead — it does not hold its step, and its answer is
   * handed over when the kernel waits for one (runtime/reply-order.ts).
   */
  | { readonly kind: "request"; readonly corr: number; readonly to: Target; readonly message: TaskCommand | BlockDispatch; readonly ahead?: true }
  | { readonly kind: "notify"; readonly to: Target; readonly message: TaskCommand }
  | { readonly kind: "event"; readonly event: RunEvent }
  /** Live mode: wake the kernel with a `clock` input once the clock reads `until` (Infinity: only replies can). */
  | { readonly kind: "wait"; readonly until: number }
  | { readonly kind: "finished" };

export type KernelReply = TaskReleased | BlockResult;

/**
 * Everything the kernel is fed: the start, and each reply (in arrival order); in live mode also
 * the clock's wake-ups, and replies carry the clock reading at their arrival (`at`). Replaying
 * these reproduces every effect.
 */
export type KernelInput =
  | { readonly kind: "start" }
  | { readonly kind: "reply"; readonly corr: number; readonly reply: KernelReply; readonly at?: number }
  | { readonly kind: "clock"; readonly at: number };

