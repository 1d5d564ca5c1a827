/**
 * How a run is set up, whatever engine runs it: the options, the configurations of the kernel and
 * the model tasks, each accelerator's cost column, and the result with its metrics (after the
 * accounting invariant is checked). Shared by the actor system (run.ts) and the direct engine.
 */
import type { WarmUpReport } from "./warm-up";
import type { AccelModelCosts } from "../actors/accelerator-logic";
import { checkLookaheadValue, checkQueueDepthValue } from "../actors/kernel-queue";
import { checkChainValue } from "../actors/kernel-chain";
import type { KernelConfig, KernelMode, LiveSetting, SchedulerKernel, Tuner } from "../actors/scheduler-kernel";
import type { ReleaseMode } from "../actors/kernel-release";
import { type TaskConfig, taskPeriodMs } from "../actors/task-logic";
import { jobId } from "../contracts/job-id";
import type { RunEvent } from "../contracts/messages";
import {
  type FrameRecord,
  type ModelInfo,
  type ModelMetrics,
  type RunSummary,
  UXCOST_DEFINITION,
  modelMetrics,
  quantile,
  runSummary,
} from "../domain/metrics";
import type { Hardware, ModelCosts, RunVariant, Scenario } from "../domain/types";
import { checkLiveCapable } from "../policies/catalogue";
import type { Policy, PolicyParams } from "../policies/types";
import type { Bus } from "./bus";
import type { KernelObserver, RejectListener } from "./host";
import { RunConfigError, Sdrm3Error } from "../contracts/errors";

export interface RunOptions {
  readonly scenario: Scenario;
  readonly hardware: Hardware;
  /** Per scenario model name: its costs on every accelerator of `hardware`. */
  readonly costs: ReadonlyMap<string, ModelCosts>;
  readonly policy: Policy;
  readonly durationMs: number;
  readonly seed: number;
  /** Layers per dispatched block (block-granular policies); default 1 (layer granularity). */
  readonly blockSize?: number;
  /**
   * Dispatch quantum, ms (docs/live.md "Quantum blocks"): > 0, a job's consecutive layers are
   * grouped into a block until their latency reaches it, and `blockSize` is not used; default 0
   * (blocks of `blockSize` layers). Checked by checkQuantumMs.
   */
  readonly quantumMs?: number;
  /**
   * Dispatch queues (docs/architecture.md "Dispatch queues"): blocks an accelerator may hold
   * committed, the running one included; default 1 (no queue: a block goes to an idle accelerator
   * only). Virtual time only so far. Checked by checkQueueDepth.
   */
  readonly queueDepth?: number;
  /**
   * Bounded chains (docs/architecture.md "Dispatch queues"), ms: a job's next block committed behind
   * its own for up to this much run time; 0 or absent: off. Needs `queueDepth` ≥ 2. Checked by checkChainMs.
   */
  readonly chainMs?: number;
  /**
   * Look-ahead (docs/architecture.md "Dispatch queues"), ms: a busy accelerator takes a block behind
   * its queue only once the queue ends within it; absent: any room. Needs `queueDepth` ≥ 2. Checked by checkLookaheadMs.
   */
  readonly lookaheadMs?: number;
  /** Seeded phase offsets of model tasks (exact mode); default true. */
  readonly phase?: boolean;
  /** Bound of the seeded release delay, ms (exact mode); default 0. */
  readonly jitterMs?: number;
  /** Window of the per-model recent miss rate, ms; default 1000. */
  readonly missWindowMs?: number;
  /**
   * Supernets (docs/supernets.md): every scenario model may run as one of its `variants`, chosen
   * by the policy when a job starts (sdrm3's load rule; the baselines always run the full model).
   * Default false: `variants` is then ignored.
   */
  readonly supernet?: boolean;
  /**
   * Per scenario model name, its variants on `hardware` (index 0 = the full model, width 1, whose
   * costs are `costs`' entry): required for every scenario model when `supernet` is on. Built by
   * resolveRunSpec with scenarioVariants (shared/src/data/variants.ts): ×1.0, ×0.75, ×0.5.
   */
  readonly variants?: ReadonlyMap<string, ReadonlyArray<RunVariant>>;
  /** Run id (subject token); default "embedded". */
  readonly run?: string;
  /** Default: a fresh in-memory bus, closed after the run. */
  readonly bus?: Bus;
  readonly onEvent?: (event: RunEvent) => void;
  readonly onReject?: RejectListener;
  /** Tap on the scheduler kernel's inputs and effects (event log recording). */
  readonly observer?: KernelObserver;
  /**
   * Virtual time, exact mode: block replies predicted from the cost table and confirmed by the
   * accelerators, at most this many unconfirmed at once (runtime/speculation.ts); 0: every step
   * waits for its replies. The result does not depend on it. Default 32.
   */
  readonly speculate?: number;
  /**
   * Live mode (docs/live.md): wall-clock time scaled by `speed` (0.1 = ten times slower than real);
   * the accelerators really wait, the scheduler reacts as messages arrive. Default: virtual time.
   */
  readonly live?: LiveSetting;
  /**
   * Virtual time, exact mode: how frame releases are asked (actors/kernel-release.ts); default
   * "ahead", "held" is how logs recorded before replay. Not used in live mode (`live.releases`) nor xrbench mode.
   */
  readonly releases?: ReleaseMode;
  /**
   * Live runs: simulated ms of the virtual-time warm-up run before the clock starts (runtime/warm-up.ts,
   * docs/live.md "Warm-up"); default LIVE_WARM_UP_MS, 0: none. Not used in virtual time.
   */
  readonly warmUpMs?: number;
}

/** `opts` without what ties a run to its caller — its hooks, its bus, its live clock: a private virtual-time run of the same spec (warm-ups, the tuner's look-aheads). */
export const isolatedRun = (opts: RunOptions): RunOptions => {
  const { onEvent: _onEvent, onReject: _onReject, observer: _observer, bus: _bus, live: _live, warmUpMs: _warmUpMs, ...base } = opts;
  return base;
};

/**
 * Live runs: the clock speed, how the run dispatched (its dispatch settings, live runs having their
 * own defaults: docs/live.md), and the scheduler lag (when each block retired − its due completion,
 * ms of run time). Besides its quantiles, the lag's mean and its **share**: the summed lag over the
 * accelerators' run time (accelerators × the run's duration). At queue depth 1 an accelerator gets
 * its next block only once the scheduler has handled the last one's completion, so the share is the
 * part of the accelerators' time the emulated system lost to the scheduler and the bus — what the
 * quantiles hide when most blocks are handled on time and many a little late (docs/live.md).
 */
export interface LiveFigures {
  readonly speed: number;
  /** The timing tolerance, wall ms (docs/live.md "Timing tolerance"; 0: none). */
  readonly toleranceMs?: number;
  /** The run's dispatch settings (quantum 0: blocks of `blockSize` layers; depth 1: no queue; chain 0: off). */
  readonly dispatch?: { readonly blockSize: number; readonly quantumMs: number; readonly queueDepth: number; readonly chainMs: number; readonly lookaheadMs?: number };
  readonly lag: {
    readonly blocks: number;
    readonly p50Ms: number | null;
    readonly p99Ms: number | null;
    readonly maxMs: number | null;
    readonly meanMs: number | null;
    readonly share: number | null;
    /** Blocks retired later than the tolerance after their due completion (their lateness beyond it is the run's; with a tolerance only). */
    readonly beyondTolerance?: number;
  };
  /** The warm-up run before the clock started (runtime/warm-up.ts). */
  readonly warmUp?: WarmUpReport;
}

export interface RunResult {
  readonly run: string;
  readonly scenario: string;
  readonly hardware: string;
  readonly policy: string;
  readonly params: PolicyParams;
  readonly seed: number;
  readonly durationMs: number;
  /** Simulated time at which the run ended. */
  readonly endedAtMs: number;
  readonly models: ReadonlyArray<ModelMetrics>;
  readonly summary: RunSummary;
  readonly frames: ReadonlyArray<FrameRecord>;
  readonly decisions: number;
  readonly uxCostDefinition: string;
  /** Payloads refused at the edge during the run. */
  readonly rejected: number;
  /** The online tuning trajectory (empty unless tuning was on). */
  readonly tuning: SchedulerKernel["tuneLog"];
  /** Supernet variants were offered (RunOptions.supernet; docs/supernets.md). */
  readonly supernet: boolean;
  /** Live runs only: the clock speed and the scheduler lag. */
  readonly live?: LiveFigures;
}

/** Ideal frame energy and optimistic latency of a model on a hardware (DESIGN.md §7). */
export const modelInfo = (name: string, targetFps: number, periodMs: number, costs: ModelCosts): ModelInfo => {
  let ideal = 0;
  let optimistic = 0;
  for (let l = 0; l < costs.layerCount; l++) {
    let e = Number.POSITIVE_INFINITY;
    let t = Number.POSITIVE_INFINITY;
    for (let a = 0; a < costs.energyMJ.length; a++) {
      e = Math.min(e, costs.energyMJ[a]![l]!);
      t = Math.min(t, costs.latencyMs[a]![l]!);
    }
    ideal += e;
    optimistic += t;
  }
  return { name, targetFps, periodMs, idealFrameEnergyMJ: ideal, optimisticLatencyMs: optimistic };
};

const costsOf = (costs: ReadonlyMap<string, ModelCosts>, model: string): ModelCosts => {
  const c = costs.get(model);
  if (c === undefined) throw new RunConfigError(`no costs for scenario model ${model}`);
  return c;
};

/**
 * The slice of the cost table one accelerator needs: its own column, per model — and, given a
 * run's supernet `variants` (RunOptions.variants), each variant's column too (index 0 = the full model).
 */
export const acceleratorCosts = (
  costs: ReadonlyMap<string, ModelCosts>,
  accIndex: number,
  variants?: ReadonlyMap<string, ReadonlyArray<RunVariant>>,
): Map<string, AccelModelCosts> =>
  new Map(
    [...costs].map(([name, c]) => {
      const column = { cycles: c.cycles[accIndex]!, energyMJ: c.energyMJ[accIndex]! };
      const vs = variants?.get(name);
      if (vs === undefined) return [name, column];
      return [name, { ...column, variants: vs.map((v, i) => (i === 0 ? column : { cycles: v.costs.cycles[accIndex]!, energyMJ: v.costs.energyMJ[accIndex]! })) }];
    }),
  );

/** The variants of the run's models when supernets are on (checked: every model, full model first); else undefined. */
export const runVariants = (opts: RunOptions): ReadonlyMap<string, ReadonlyArray<RunVariant>> | undefined => {
  if (opts.supernet !== true) return undefined;
  const variants = opts.variants;
  for (const m of opts.scenario.models) {
    const vs = variants?.get(m.name);
    if (vs === undefined || vs.length === 0) throw new RunConfigError(`supernet run: no variants for scenario model ${m.name}`);
    if (vs[0]!.width !== 1) throw new RunConfigError(`supernet run: variant 0 of ${m.name} must be the full model (width 1), got width ${vs[0]!.width}`);
  }
  return variants;
};

/**
 * The run on a subset of its hardware's accelerators (`serve scheduler --elastic`: the slots that
 * registered): the hardware keeps only those (named `<hardware>[acc0,acc2]`), every cost table
 * only their rows. Throws on an unknown or empty subset.
 */
export const restrictToAccelerators = (opts: RunOptions, ids: ReadonlyArray<string>): RunOptions => {
  const all = opts.hardware.accelerators;
  const keep = all.flatMap((a, i) => (ids.includes(a.id) ? [i] : []));
  const unknown = ids.filter((id) => !all.some((a) => a.id === id));
  if (keep.length === 0 || unknown.length > 0) {
    throw new RunConfigError(`cannot run ${opts.hardware.name} on accelerators [${ids.join(", ")}]: ${unknown.length > 0 ? `unknown ${unknown.join(", ")}` : "none"} (has ${all.map((a) => a.id).join(", ")})`);
  }
  if (keep.length === all.length) return opts;
  const rows = <T>(xs: ReadonlyArray<T>) => keep.map((i) => xs[i]!);
  const costs = (c: ModelCosts): ModelCosts => ({ ...c, cycles: rows(c.cycles), latencyMs: rows(c.latencyMs), energyMJ: rows(c.energyMJ) });
  const { variants, ...rest } = opts;
  return {
    ...rest,
    hardware: { ...opts.hardware, name: `${opts.hardware.name}[${keep.map((i) => all[i]!.id).join(",")}]`, accelerators: rows(all) },
    costs: new Map([...opts.costs].map(([name, c]) => [name, costs(c)])),
    ...(variants === undefined ? {} : { variants: new Map([...variants].map(([name, vs]) => [name, vs.map((v) => ({ ...v, costs: costs(v.costs) }))])) }),
  };
};

/** The kernel mode is the semantics the policy declares (xrbench: the XRBench runtime's own; exact). */
export const modeOf = (policy: Policy): KernelMode => policy.capabilities.semantics;

export const taskConfigsFor = (opts: RunOptions, run: string): TaskConfig[] =>
  opts.scenario.models.map((m) => ({
    run,
    name: m.name,
    fps: m.fps,
    probability: m.probability,
    dependsOn: m.dependsOn,
    mode: modeOf(opts.policy),
    durationMs: opts.durationMs,
    seed: opts.seed,
    phase: opts.phase ?? true,
    jitterMs: opts.jitterMs ?? 0,
    ...(m.active === undefined ? {} : { active: m.active }),
    ...(m.exits === undefined ? {} : { exits: m.exits }),
    ...(m.skips === undefined ? {} : { skips: m.skips }),
  }));

export const kernelConfigFor = (opts: RunOptions, run: string, tuner?: { readonly tuner: Tuner; readonly intervalMs: number }): KernelConfig => {
  const mode = modeOf(opts.policy);
  const dynamic = opts.scenario.models.find((m) => m.active !== undefined || m.exits !== undefined || m.skips !== undefined);
  if (opts.live !== undefined) checkLiveCapable(opts.policy);
  if (mode === "xrbench" && dynamic !== undefined) {
    throw new RunConfigError(`scenario ${opts.scenario.name} is dynamic (model ${dynamic.name}); the xrbench runtime supports static scenarios only`);
  }
  if (mode === "exact") {
    const multi = opts.scenario.models.find((m) => m.dependsOn.length > 1);
    if (multi !== undefined) throw new RunConfigError(`model ${multi.name}: a cascade with more than one parent is not supported`);
  }
  const maxFps = Math.max(...opts.scenario.models.map((m) => m.fps));
  const variants = runVariants(opts);
  return {
    run,
    mode,
    blockSize: opts.blockSize ?? 1,
    ...((opts.quantumMs ?? 0) > 0 ? { quantumMs: checkQuantumMs(opts.quantumMs!) } : {}),
    ...(checkQueueDepth(opts.queueDepth ?? 1) > 1 ? { queueDepth: opts.queueDepth! } : {}),
    ...((opts.chainMs ?? 0) > 0 ? { chainMs: checkChainMs(opts.chainMs!, opts.queueDepth ?? 1) } : {}),
    ...(opts.lookaheadMs === undefined ? {} : { lookaheadMs: checkLookaheadMs(opts.lookaheadMs, opts.queueDepth ?? 1) }),
    missWindowMs: opts.missWindowMs ?? 1000,
    policy: opts.policy,
    models: opts.scenario.models.map((m) => ({
      name: m.name,
      periodMs: taskPeriodMs({ fps: m.fps, mode }),
      dependsOn: m.dependsOn,
      costs: costsOf(opts.costs, m.name),
      probability: m.probability,
      ...(m.exits === undefined ? {} : { exits: m.exits }),
      ...(m.skips === undefined ? {} : { skips: m.skips }),
      ...(variants === undefined ? {} : { variants: variants.get(m.name)! }),
    })),
    accelerators: opts.hardware.accelerators.map((a) => ({ id: a.id })),
    durationMs: checkDurationMs(opts.durationMs),
    ...(opts.live === undefined ? {} : { live: { speed: opts.live.speed, releases: opts.live.releases ?? "ahead", ...(opts.live.toleranceMs ? { toleranceMs: opts.live.toleranceMs } : {}) } }),
    ...(opts.releases !== undefined ? { releases: opts.releases } : opts.live === undefined && mode === "exact" ? { releases: "ahead" as const } : {}),
    baseTickMs: Math.floor(1000 / maxFps),
    ...(tuner === undefined
      ? {}
      : { tuning: { tuner: tuner.tuner, intervalMs: tuner.intervalMs, at: (opts.scenario.phases ?? []).map((p) => p.fromMs).filter((t) => t > 0) } }),
  };
};

/**
 * Longest simulated time a run may ask for, ms (10 minutes): a run keeps every frame for its
 * metrics, about 1.2 MB per simulated second (AR_Assistant on Quad_8K: 127 MB at 5 s, 190 MB at
 * 60 s, measured), so an hour would approach the heap's limit.
 */
export const MAX_DURATION_MS = 600_000;

/** `durationMs` when it is a valid run duration (finite, in (0, MAX_DURATION_MS]); throws RunConfigError otherwise. */
export const checkDurationMs = (durationMs: number): number => {
  if (!(Number.isFinite(durationMs) && durationMs > 0 && durationMs <= MAX_DURATION_MS)) {
    throw new RunConfigError(`run duration: expected a number of ms in (0, ${MAX_DURATION_MS}], got ${durationMs}`);
  }
  return durationMs;
};

/** Largest dispatch quantum a run may ask for, ms (a block is at most MAX_BLOCK_LAYERS layers anyway). */
export const MAX_QUANTUM_MS = 1000;

/** `quantumMs` when it is a valid dispatch quantum (finite, in [0, MAX_QUANTUM_MS]); throws RunConfigError otherwise. */
export const checkQuantumMs = (quantumMs: number): number => {
  if (!(Number.isFinite(quantumMs) && quantumMs >= 0 && quantumMs <= MAX_QUANTUM_MS)) {
    throw new RunConfigError(`dispatch quantum: expected a number of ms in [0, ${MAX_QUANTUM_MS}], got ${quantumMs}`);
  }
  return quantumMs;
};

/** The kernel's own check of a run setting (actors/kernel-queue.ts, kernel-chain.ts), its refusal a RunConfigError. */
const asRunConfig = <T>(check: () => T): T => {
  try {
    return check();
  } catch (e) {
    throw new RunConfigError((e as Error).message);
  }
};

/** `ms` when it is a valid look-ahead (ms in [0, 1000]) for a run of queue depth `queueDepth` (≥ 2); throws RunConfigError otherwise. */
export const checkLookaheadMs = (ms: number, queueDepth: number): number => asRunConfig(() => checkLookaheadValue(ms, queueDepth));

/** `chainMs` when it is a valid chain budget (ms in (0, 1000]) for a run of queue depth `queueDepth` (≥ 2); throws RunConfigError otherwise. */
export const checkChainMs = (chainMs: number, queueDepth: number): number => asRunConfig(() => checkChainValue(chainMs, queueDepth));

/** `queueDepth` when it is a valid dispatch queue depth (an integer in [1, MAX_QUEUE_DEPTH]); throws RunConfigError otherwise. */
export const checkQueueDepth = (queueDepth: number): number => asRunConfig(() => checkQueueDepthValue(queueDepth));

export class AccountingError extends Sdrm3Error {
  readonly _tag = "AccountingError";
  readonly failure = "terminal";
  constructor(message: string) {
    super(`accounting invariant violated: ${message}`);
  }
}

/**
 * The accounting invariant, checked at the end of every run: every released frame ends exactly
 * once (on time, late or dropped; `unfinished` only in xrbench mode, whose runtime never logs
 * them), every started frame of a supernet model records its variant (and no other frame does),
 * and the energy charged to frames equals the energy of the executed blocks (each block costed at
 * its job's variant).
 */
export const checkAccounting = (frames: ReadonlyArray<FrameRecord>, kernel: SchedulerKernel): void => {
  const seen = new Set<string>();
  const supernet = new Set((kernel.cfg.models ?? []).filter((m) => m.variants !== undefined).map((m) => m.name));
  for (const f of frames) {
    const id = jobId(f.model, f.frame);
    if (seen.has(id)) throw new AccountingError(`frame ${id} recorded twice`);
    seen.add(id);
    if (f.outcome === "unfinished" && kernel.cfg.mode !== "xrbench") throw new AccountingError(`frame ${id} never ended`);
    if ((f.outcome === "onTime" || f.outcome === "late") && f.completionAt === undefined) {
      throw new AccountingError(`frame ${id} is ${f.outcome} without a completion time`);
    }
    if (f.dispatchAt !== undefined && supernet.has(f.model) !== (f.variant !== undefined && f.accuracy !== undefined)) {
      throw new AccountingError(`frame ${id} of ${supernet.has(f.model) ? "a supernet model records no variant" : "a model without variants records one"}`);
    }
  }
  const charged = frames.reduce((s, f) => s + f.energyMJ, 0);
  if (Math.abs(charged - kernel.blockEnergyMJ) > 1e-6 * Math.max(1, kernel.blockEnergyMJ)) {
    throw new AccountingError(`frames were charged ${charged} mJ but the executed blocks cost ${kernel.blockEnergyMJ} mJ`);
  }
};

/** Metrics of a finished run from the scheduler kernel's frame records (after checking the accounting invariant). */
export const resultOf = (opts: RunOptions, run: string, kernel: SchedulerKernel, rejected: number): RunResult => {
  const frames = kernel.frameRecords();
  checkAccounting(frames, kernel);
  const periods = new Map(kernel.cfg.models.map((m) => [m.name, m.periodMs]));
  const models = opts.scenario.models.map((m) =>
    modelMetrics(
      modelInfo(m.name, m.fps, periods.get(m.name)!, costsOf(opts.costs, m.name)),
      frames.filter((f) => f.model === m.name),
      opts.durationMs,
    ),
  );
  return {
    run,
    scenario: opts.scenario.name,
    hardware: opts.hardware.name,
    policy: opts.policy.name,
    params: opts.policy.params,
    seed: opts.seed,
    durationMs: opts.durationMs,
    endedAtMs: kernel.time,
    models,
    summary: runSummary(models, opts.durationMs),
    frames,
    decisions: kernel.decisions,
    uxCostDefinition: UXCOST_DEFINITION,
    rejected,
    tuning: kernel.tuneLog,
    supernet: runVariants(opts) !== undefined,
    ...(opts.live === undefined
      ? {}
      : {
          live: {
            ...liveFigures(opts.live.speed, kernel.lagMs, kernel.cfg.accelerators.length * opts.durationMs, opts.live.toleranceMs ?? 0),
            dispatch: {
              blockSize: opts.blockSize ?? 1,
              quantumMs: opts.quantumMs ?? 0,
              queueDepth: opts.queueDepth ?? 1,
              chainMs: opts.chainMs ?? 0,
              ...(opts.lookaheadMs === undefined ? {} : { lookaheadMs: opts.lookaheadMs }),
            },
          },
        }),
  };
};

/** {@link LiveFigures} from the lag of every block, the accelerators' run time (accelerators × duration, ms) and the run's timing tolerance (wall ms). */
export const liveFigures = (speed: number, lagMs: ReadonlyArray<number>, acceleratorMs: number, toleranceMs = 0): LiveFigures => {
  const sorted = [...lagMs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, l) => sum + l, 0);
  const n = sorted.length;
  const tolerance = toleranceMs * speed; // the lag is in ms of run time
  return {
    speed,
    ...(toleranceMs > 0 ? { toleranceMs } : {}),
    lag: {
      blocks: n,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      maxMs: n === 0 ? null : sorted[n - 1]!,
      meanMs: n === 0 ? null : total / n,
      share: n === 0 || !(acceleratorMs > 0) ? null : total / acceleratorMs,
      ...(toleranceMs > 0 ? { beyondTolerance: n - upperBound(sorted, tolerance) } : {}),
    },
  };
};

/** How many of the ascending `sorted` are ≤ `x`. */
const upperBound = (sorted: ReadonlyArray<number>, x: number): number => {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/** Counts payloads refused at the edge, passing them on to the caller's listener. */
export const rejectCounter = (listener?: RejectListener): { onReject: RejectListener; count(): number } => {
  let n = 0;
  return {
    onReject: (subject, message) => {
      n++;
      listener?.(subject, message);
    },
    count: () => n,
  };
};

