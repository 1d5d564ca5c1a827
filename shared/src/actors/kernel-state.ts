/**
 * The scheduler kernel's state as a value: what one step hands to the next. A step never changes
 * the state it starts from (XState's `transition` contract): it works on a draft (kernel-step.ts)
 * that copies what the step changes — scalars, the small per-step containers, the models and jobs
 * it touches — and shares the rest with the state it came from. The run's jobs live in a chunked
 * table (a changed job copies its chunk, not the table); append-only logs are immutable cells.
 * Nothing reachable from a state is ever written after the step that made it.
 */
import type { JobId } from "../contracts/job-id";
import type { BlockResult, Outcome, Timing } from "../contracts/messages";
import type { FrameRecord } from "../domain/metrics";
import { cascadeFigures, optimisticRemaining, wholeCycles } from "../domain/remaining-work";
import type { ModelCosts } from "../domain/types";
import type { JobView, Policy, PolicyParams, VariantView } from "../policies/types";
import type { KernelConfig, KernelModel, KernelReply } from "./kernel-types";
import { type AheadReleases, noReleases, releasesAhead } from "./kernel-release";
import { type Semantics, semanticsOf } from "./kernel-semantics";
import { type TimeSource, timeSourceOf } from "./kernel-time";

export interface Job extends JobView {
  readonly id: JobId;
  readonly modelIndex: number;
  /** Position in the run's job table (release order). */
  readonly index: number;
  /** Supernet variant (0 = the full model; set at the first dispatch). */
  readonly variant: number;
  /** Exclusive end of the layers this frame runs (an early exit drawn at release ends it sooner). */
  readonly endLayer: number;
  /** Layer ranges [from, to] this frame skips. */
  readonly skipLayers: ReadonlyArray<readonly [number, number]>;
  readonly dispatchAt: number | undefined;
  readonly completionAt: number | undefined;
  readonly acc: number | undefined;
  readonly energyMJ: number;
  readonly outcome: Outcome | undefined;
  readonly endedAt: number | undefined;
  /** Released as the child of a dropped parent: ends dropped at once. */
  readonly orphan: boolean;
}

/** A block in flight on an accelerator. */
export interface Running {
  /** Index of its job in the job table. */
  readonly job: number;
  readonly firstLayer: number;
  readonly layerCount: number;
  /** Virtual: set by the reply. Live: the estimate until the accelerator's reply, then the time it was handled. */
  readonly completesAt: number;
  /** Live mode: the dispatch time and whether the accelerator has replied (the block is over). */
  readonly startedAt: number;
  readonly done: boolean;
  /** Live mode, once the accelerator replied: the completion it reported (the block's due time); its lag is counted when it retires. */
  readonly dueAt?: number;
  /** Dispatch queues (kernel-queue.ts), on the head only: the blocks committed behind it, in the order they run. */
  readonly queued?: ReadonlyArray<Running>;
  /** A queued block: the accelerator's answer (virtual time), booked when the block starts. */
  readonly result?: BlockResult;
  /** A queued block cancelled (its frame ended before it started): its place stays as idle time. */
  readonly cancelled?: boolean;
  /** Bounded chains (kernel-chain.ts), when on: the start of the chain this block belongs to. */
  readonly chainFrom?: number;
}

/** What the kernel knows of a model for the whole run (never changes). */
export interface ModelStatic {
  readonly cfg: KernelModel;
  readonly index: number;
  readonly wholeCycles: Float64Array;
  readonly optimisticRemainingMs: Float64Array;
  /** Supernet models: every variant with its derived figures (index 0 = the full model); else undefined. */
  readonly variants: ReadonlyArray<VariantView> | undefined;
  readonly children: ReadonlyArray<string>;
  /** Expected optimistic work of the frame's cascade descendants (0 without cascade semantics). */
  readonly cascadeRemainingMs: number;
  /** Per direct child: its expected work (trigger probability × its work and its descendants'). */
  readonly cascadeChildren: ReadonlyArray<{ readonly name: string; readonly expectedWorkMs: number }>;
}

/** An append-only list as immutable cells, newest first (appending shares every older cell). */
export type AppendLog<T> = { readonly last: T; readonly before: AppendLog<T>; readonly length: number } | undefined;

export const appendTo = <T>(log: AppendLog<T>, item: T): AppendLog<T> => ({ last: item, before: log, length: (log?.length ?? 0) + 1 });

export const itemsOf = <T>(log: AppendLog<T>): T[] => {
  const out = new Array<T>(log?.length ?? 0);
  for (let c = log; c !== undefined; c = c.before) out[c.length - 1] = c.last;
  return out;
};

/** A window onto a list: [start, end) of `items` (entries leave at the front; a step that adds one copies the window). */
export interface Window<T> {
  readonly items: ReadonlyArray<T>;
  readonly start: number;
  readonly end: number;
}

/** What changes about a model during a run. */
export interface ModelDyn {
  /** Released, unfinished jobs (job-table indices), oldest first. */
  readonly queue: ReadonlyArray<number>;
  /** Queued jobs that run a variant v > 0 (0: the view needs no split). */
  readonly downgraded: number;
  readonly completed: number;
  /** Ticks sent to the task so far (names each tick: TaskTick.n). */
  readonly ticks: number;
  /** Next nominal release reported by the task; 0 before the first tick; null when it has no timer left. */
  readonly nextAt: number | null;
  /** (time, missed) of frames ended within the miss window. */
  readonly recent: Window<{ readonly at: number; readonly missed: boolean }>;
  readonly lastOnTimeAt: number | null;
}

/** Chunked table of the run's jobs: a step that changes a job copies its chunk and the chunk list, never the table. */
export interface JobTable {
  readonly chunks: ReadonlyArray<ReadonlyArray<Job>>;
  readonly length: number;
}
export const JOB_CHUNK = 32;

/** `chain` and `extend`: bounded chains continued before and after the policy decides (kernel-chain.ts). */
export type Step = "new" | "inject" | "retire" | "chain" | "decide" | "extend" | "waiting" | "done";

export interface TuneStep {
  readonly at: number;
  readonly step: number;
  readonly params: PolicyParams;
  readonly info: Readonly<Record<string, number>>;
}

/** Everything about the run that does not change (shared by every state of the run). */
export interface KernelStatic {
  readonly cfg: KernelConfig;
  readonly semantics: Semantics;
  readonly time: TimeSource;
  readonly timing: Timing;
  readonly models: ReadonlyArray<ModelStatic>;
  readonly modelIndex: ReadonlyMap<string, number>;
  readonly accelIndex: ReadonlyMap<string, number>;
}

/** The kernel's state between two inputs. Treat as immutable: every step returns a new one. */
export interface KernelFields {
  readonly fixed: KernelStatic;
  readonly now: number;
  readonly step: Step;
  readonly corrSeq: number;
  /** Requests of the current step that hold it, with their replies once in. */
  readonly pending: ReadonlyMap<number, KernelReply | undefined>;
  /** Outcome of the parent for each outstanding task.parentEnded request. */
  readonly parentOutcome: ReadonlyMap<number, Outcome>;
  /** Outstanding requests that do not hold the step (live: every request; virtual time: a release asked ahead), corr → accelerator index (-1: a task's). */
  readonly inflight: ReadonlyMap<number, number>;
  /** Releases asked ahead (kernel-release.ts: live mode, and virtual time in exact mode); undefined otherwise. */
  readonly releases: AheadReleases | undefined;
  readonly models: ReadonlyArray<ModelDyn>;
  readonly running: ReadonlyArray<Running | undefined>;
  readonly jobs: JobTable;
  /** Number of policy decisions taken (one per dispatch or drop). */
  readonly decisions: number;
  /** The policy in force (the online tuner may replace it with re-parameterised ones). */
  readonly policy: Policy;
  readonly nextTuneAt: number;
  readonly lastTuneAt: number;
  readonly tuneLog: AppendLog<TuneStep>;
  /** Energy of every executed block, as the accelerators reported it (the accounting invariant's reference). */
  readonly blockEnergyMJ: number;
  readonly blocks: number;
  /** Live mode: per block, the scheduler lag (when it retired − its due completion), ms of run time. */
  readonly lagMs: AppendLog<number>;
  /** Live mode: the latest clock reading an input carried. */
  readonly liveNow: number;
}

/** The state with the queries a finished (or running) run is read by (never written after the step that made it). */
export interface KernelState extends KernelFields {}
export class KernelState {
  constructor(f: KernelFields) {
    // field by field, always in this order (one hidden class): Object.assign onto an instance was a slow copy per step
    const t = this as { -readonly [K in keyof KernelFields]: KernelFields[K] };
    t.fixed = f.fixed;
    t.now = f.now;
    t.step = f.step;
    t.corrSeq = f.corrSeq;
    t.pending = f.pending;
    t.parentOutcome = f.parentOutcome;
    t.inflight = f.inflight;
    t.releases = f.releases;
    t.models = f.models;
    t.running = f.running;
    t.jobs = f.jobs;
    t.decisions = f.decisions;
    t.policy = f.policy;
    t.nextTuneAt = f.nextTuneAt;
    t.lastTuneAt = f.lastTuneAt;
    t.tuneLog = f.tuneLog;
    t.blockEnergyMJ = f.blockEnergyMJ;
    t.blocks = f.blocks;
    t.lagMs = f.lagMs;
    t.liveNow = f.liveNow;
  }

  get cfg(): KernelConfig {
    return this.fixed.cfg;
  }

  get time(): number {
    return this.now;
  }

  get finished(): boolean {
    return this.step === "done";
  }

  /** Every model has released its last frame: the run only drains what is queued and running. */
  get draining(): boolean {
    return this.models.every((m) => m.nextAt === null);
  }

  /** Virtual time: the kernel waits for the answer to a release asked ahead (no request of a step is pending). */
  get waitsForAnswer(): boolean {
    return this.step === "waiting" && this.pending.size === 0;
  }

  /** Live mode: block dispatches still waiting for their accelerator's reply. */
  get blocksInFlight(): number {
    return this.inflight.size;
  }

  /** Every online tuning step taken (the trajectory). */
  get tuneSteps(): ReadonlyArray<TuneStep> {
    return itemsOf(this.tuneLog);
  }

  /** Live mode: the scheduler lag of every block. */
  get lagSamples(): ReadonlyArray<number> {
    return itemsOf(this.lagMs);
  }

  /** Frame records of every released frame, in release order (complete once finished). */
  frameRecords(): FrameRecord[] {
    const out: FrameRecord[] = [];
    for (const chunk of this.jobs.chunks) for (const j of chunk) out.push(recordOf(this.fixed, j));
    return out;
  }
}

/** A copy of `j` (one object shape for every job, so the policies' reads stay monomorphic). */
export const copyJob = (j: Job): Job => ({
  id: j.id,
  model: j.model,
  modelIndex: j.modelIndex,
  index: j.index,
  variant: j.variant,
  frame: j.frame,
  releaseAt: j.releaseAt,
  injectAt: j.injectAt,
  deadline: j.deadline,
  layerCount: j.layerCount,
  endLayer: j.endLayer,
  skipLayers: j.skipLayers,
  nextLayer: j.nextLayer,
  running: j.running,
  started: j.started,
  lastRanAt: j.lastRanAt,
  dispatchAt: j.dispatchAt,
  completionAt: j.completionAt,
  acc: j.acc,
  energyMJ: j.energyMJ,
  outcome: j.outcome,
  endedAt: j.endedAt,
  orphan: j.orphan,
});

export const jobAt = (jobs: JobTable, i: number): Job => jobs.chunks[Math.floor(i / JOB_CHUNK)]![i % JOB_CHUNK]!;

export const recordOf = (fixed: KernelStatic, j: Job): FrameRecord => {
  const variants = fixed.models[j.modelIndex]!.variants;
  return {
    model: j.model,
    frame: j.frame,
    releaseAt: j.releaseAt,
    injectAt: j.injectAt,
    deadline: j.deadline,
    outcome: j.outcome ?? "unfinished",
    dispatchAt: j.dispatchAt,
    completionAt: j.completionAt,
    acc: j.acc,
    energyMJ: j.energyMJ,
    // supernet models: the variant a started frame ran, and its relative accuracy
    ...(variants === undefined || !j.started ? {} : { variant: j.variant, accuracy: variants[j.variant]!.accuracy }),
  };
};

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A model's variants with their derived figures, after checking them against the full model. */
const checkedVariants = (m: KernelModel): VariantView[] => {
  const variants = m.variants ?? [];
  if (variants.length === 0) throw new Error(`model ${m.name}: an empty list of supernet variants`);
  return variants.map((v, i) => {
    const costs: ModelCosts = i === 0 ? m.costs : v.costs;
    if (costs.layerCount !== m.costs.layerCount || costs.cycles.length !== m.costs.cycles.length) {
      throw new Error(`model ${m.name}: variant ${i} has costs for ${costs.cycles.length} accelerators × ${costs.layerCount} layers, the model ${m.costs.cycles.length} × ${m.costs.layerCount}`);
    }
    if (!(v.accuracy > 0 && v.accuracy <= 1)) throw new Error(`model ${m.name}: variant ${i} has accuracy ${v.accuracy}, expected (0, 1]`);
    return { width: v.width, accuracy: v.accuracy, costs, wholeCycles: wholeCycles(costs), optimisticRemainingMs: optimisticRemaining(costs, m) };
  });
};

/** The state of a run of configuration `cfg` before its start (refuses a configuration the kernel cannot run). */
export const initialState = (cfg: KernelConfig): KernelState => {
  const semantics = semanticsOf(cfg.mode);
  const time = timeSourceOf(cfg);
  const sorted = [...cfg.models].sort((a, b) => byteOrder(a.name, b.name));
  const remaining = sorted.map((m) => optimisticRemaining(m.costs, m));
  const cascades = semantics.cascades
    ? cascadeFigures(sorted.map((m, i) => ({ name: m.name, dependsOn: m.dependsOn, workMs: remaining[i]![0]!, ...(m.probability === undefined ? {} : { probability: m.probability }) })))
    : undefined;
  const models: ModelStatic[] = sorted.map((m, index) => ({
    cfg: m,
    index,
    wholeCycles: wholeCycles(m.costs),
    optimisticRemainingMs: remaining[index]!,
    variants: m.variants === undefined ? undefined : checkedVariants(m),
    children: sorted.filter((c) => c.dependsOn.includes(m.name)).map((c) => c.name),
    cascadeRemainingMs: cascades?.get(m.name)!.remainingMs ?? 0,
    cascadeChildren: cascades?.get(m.name)!.children ?? [],
  }));
  const fixed: KernelStatic = {
    cfg,
    semantics,
    time,
    timing: semantics.timing,
    models,
    modelIndex: new Map(models.map((m, i) => [m.cfg.name, i])),
    accelIndex: new Map(cfg.accelerators.map((a, i) => [a.id, i])),
  };
  const tunes = cfg.tuning !== undefined && semantics.tunes;
  return new KernelState({
    fixed,
    now: 0,
    step: "new",
    corrSeq: 0,
    pending: new Map(),
    parentOutcome: new Map(),
    inflight: new Map(),
    releases: releasesAhead(cfg) ? noReleases : undefined,
    models: models.map(() => ({ queue: [], downgraded: 0, completed: 0, ticks: 0, nextAt: 0, recent: { items: [], start: 0, end: 0 }, lastOnTimeAt: null })),
    running: cfg.accelerators.map(() => undefined),
    jobs: { chunks: [], length: 0 },
    decisions: 0,
    policy: cfg.policy,
    nextTuneAt: tunes ? tuneTimeAfter(cfg, -1) : Number.POSITIVE_INFINITY,
    lastTuneAt: 0,
    tuneLog: undefined,
    blockEnergyMJ: 0,
    blocks: 0,
    lagMs: undefined,
    liveNow: 0,
  });
};

/** The first tuning point strictly after `t`: the next multiple of the interval or phase start. */
export const tuneTimeAfter = (cfg: KernelConfig, t: number): number => {
  const tuning = cfg.tuning!;
  let next = (Math.floor(t / tuning.intervalMs) + 1) * tuning.intervalMs;
  for (const p of tuning.at) if (p > t && p < next) next = p;
  return next;
};
