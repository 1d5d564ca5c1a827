/**
 * A step's working copy of a kernel state (kernel-step.ts runs the event loop on it): it copies
 * what the step changes — the per-step maps and arrays, a model, a job or a chunk of the job table
 * on its first change — and shares everything else with the state it came from, which it never
 * writes. `done()` gives the next state.
 *
 * Transient mode (`StepMode`): for a driver that feeds one lineage of states and never looks at an
 * earlier one (SchedulerKernel: the direct engine, replay, resume), the draft changes the state's
 * containers (maps, the model and accelerator arrays, the job table's chunks) in place instead of
 * copying them — the same step, the same effects and the same next state, without the copies. Jobs
 * are copied on write and frozen in both modes, so a view handed to a policy never changes. The
 * actor's machine always steps persistently (XState's `transition` contract).
 */
import { type Outcome, PROTOCOL_VERSION } from "../contracts/messages";
import { modelOfJob } from "../contracts/job-id";
import type { Policy } from "../policies/types";
import {
  type AppendLog,
  JOB_CHUNK,
  type Job,
  KernelState,
  type KernelStatic,
  type ModelDyn,
  type Running,
  type Step,
  type TuneStep,
  type Window,
  copyJob,
  jobAt,
  appendTo,
  recordOf,
  tuneTimeAfter,
} from "./kernel-state";
import type { AheadReleases } from "./kernel-release";
import type { KernelEffect, KernelReply } from "./kernel-types";

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** persistent: the state a step starts from is left as it was; transient: it is changed in place (see above). */
export type StepMode = "persistent" | "transient";

/**
 * The window with `item` appended. `inPlace` (transient steps): appended to the window's own array
 * when it ends there (compacted when most of it is behind the window); otherwise the window's items
 * are copied, so the window it came from stays as it was.
 */
export const pushWindow = <T>(w: Window<T>, item: T, inPlace = false): Window<T> => {
  if (inPlace && w.end === w.items.length && w.start * 2 <= w.items.length) {
    (w.items as T[]).push(item);
    return { items: w.items, start: w.start, end: w.end + 1 };
  }
  const items = w.items.slice(w.start, w.end);
  items.push(item);
  return { items, start: 0, end: items.length };
};

/** The first layer at or after `layer` that the job does not skip. */
export const pastSkips = (job: Pick<Job, "skipLayers">, layer: number): number => {
  let l = layer;
  for (let moved = true; moved; ) {
    moved = false;
    for (const [from, to] of job.skipLayers) {
      if (l >= from && l <= to) {
        l = to + 1;
        moved = true;
      }
    }
  }
  return l;
};

/** How many layers from nextLayer the job runs before a skipped range or its end. */
export const runLength = (job: Pick<Job, "skipLayers" | "nextLayer" | "endLayer">): number => {
  let end = job.endLayer;
  for (const [from] of job.skipLayers) if (from > job.nextLayer && from < end) end = from;
  return end - job.nextLayer;
};

/** A step's working copy of a state. */
export class DraftState {
  readonly fixed: KernelStatic;
  now: number;
  step: Step;
  corrSeq: number;
  pending: Map<number, KernelReply | undefined>;
  /** Copied on the first change (rarely changed). */
  parentOutcome: ReadonlyMap<number, Outcome>;
  inflight: ReadonlyMap<number, number>;
  releases: AheadReleases | undefined;
  readonly models: ModelDyn[];
  readonly running: Array<Running | undefined>;
  jobs: { chunks: ReadonlyArray<Job>[]; length: number };
  decisions: number;
  policy: Policy;
  nextTuneAt: number;
  lastTuneAt: number;
  tuneLog: AppendLog<TuneStep>;
  blockEnergyMJ: number;
  blocks: number;
  lagMs: AppendLog<number>;
  liveNow: number;
  /** Models, chunks and jobs this step has copied (changed in place until the step shares them): a few per step, in lists. */
  private ownModels: number[] = [];
  private ownChunks: Array<ReadonlyArray<Job>> = [];
  private ownJobs: Job[] = [];
  /** Whether the chunk list is this step's copy yet. */
  private ownTable = false;

  private chunkForWrite(c: number): ReadonlyArray<Job> {
    if (this.transient) {
      if (c === this.jobs.chunks.length) this.jobs.chunks.push([]);
      return this.jobs.chunks[c]!;
    }
    if (!this.ownTable) {
      this.jobs.chunks = [...this.jobs.chunks];
      this.ownTable = true;
    }
    if (c === this.jobs.chunks.length) this.jobs.chunks.push([]);
    let chunk = this.jobs.chunks[c]!;
    if (!this.ownChunks.includes(chunk)) {
      chunk = [...chunk];
      this.ownChunks.push(chunk);
      this.jobs.chunks[c] = chunk;
    }
    return chunk;
  }

  constructor(
    s: KernelState,
    protected readonly transient = false,
  ) {
    this.fixed = s.fixed;
    this.now = s.now;
    this.step = s.step;
    this.corrSeq = s.corrSeq;
    this.pending = transient ? (s.pending as Map<number, KernelReply | undefined>) : new Map(s.pending);
    this.parentOutcome = s.parentOutcome;
    this.inflight = s.inflight;
    this.releases = s.releases;
    this.models = transient ? (s.models as ModelDyn[]) : [...s.models];
    this.running = transient ? (s.running as Array<Running | undefined>) : [...s.running];
    this.jobs = transient ? (s.jobs as { chunks: ReadonlyArray<Job>[]; length: number }) : { chunks: s.jobs.chunks as ReadonlyArray<Job>[], length: s.jobs.length };
    this.decisions = s.decisions;
    this.policy = s.policy;
    this.nextTuneAt = s.nextTuneAt;
    this.lastTuneAt = s.lastTuneAt;
    this.tuneLog = s.tuneLog;
    this.blockEnergyMJ = s.blockEnergyMJ;
    this.blocks = s.blocks;
    this.lagMs = s.lagMs;
    this.liveNow = s.liveNow;
  }

  /** The next state (the draft is not used after this). */
  done(): KernelState {
    this.sealJobs();
    return new KernelState({
      fixed: this.fixed,
      now: this.now,
      step: this.step,
      corrSeq: this.corrSeq,
      pending: this.pending,
      parentOutcome: this.parentOutcome,
      inflight: this.inflight,
      releases: this.releases,
      models: this.models,
      running: this.running,
      jobs: this.jobs,
      decisions: this.decisions,
      policy: this.policy,
      nextTuneAt: this.nextTuneAt,
      lastTuneAt: this.lastTuneAt,
      tuneLog: this.tuneLog,
      blockEnergyMJ: this.blockEnergyMJ,
      blocks: this.blocks,
      lagMs: this.lagMs,
      liveNow: this.liveNow,
    });
  }

  /** Shares the models this step copied: the next change copies again (views are reused by model: kernel-view.ts). */
  protected sealModels() {
    if (this.ownModels.length > 0) this.ownModels = [];
  }

  /** Shares the jobs this step made or copied: frozen, so the next change copies again (a view handed out stays as it was). */
  protected sealJobs() {
    if (this.ownJobs.length === 0) return;
    for (const j of this.ownJobs) Object.freeze(j);
    this.ownJobs = [];
  }

  // ─── copy on write ────────────────────────────────────────────────────────────────────────

  protected job(i: number): Job {
    return jobAt(this.jobs, i);
  }

  protected mutJob(i: number): Mutable<Job> {
    const chunk = this.chunkForWrite(Math.floor(i / JOB_CHUNK));
    let job = chunk[i % JOB_CHUNK]!;
    if (!this.ownJobs.includes(job)) {
      job = copyJob(job);
      this.ownJobs.push(job);
      (chunk as Job[])[i % JOB_CHUNK] = job;
    }
    return job as Mutable<Job>;
  }

  protected addJob(job: Job) {
    (this.chunkForWrite(Math.floor(job.index / JOB_CHUNK)) as Job[]).push(job);
    this.ownJobs.push(job);
    this.jobs.length++;
  }

  protected model(i: number): Mutable<ModelDyn> {
    if (!this.transient && !this.ownModels.includes(i)) {
      this.models[i] = { ...this.models[i]! };
      this.ownModels.push(i);
    }
    return this.models[i] as Mutable<ModelDyn>;
  }

  /** A tuning point: the tuner sees the frames that ended since the last one and may re-parameterise the policy. */
  protected tune(out: KernelEffect[]) {
    const tuning = this.fixed.cfg.tuning!;
    const since = this.lastTuneAt;
    // only the frames that ended in this window (not a record of every frame of the run per step)
    const ended = [];
    for (const chunk of this.jobs.chunks) {
      for (const j of chunk) if (j.endedAt !== undefined && j.endedAt >= since && j.endedAt < this.now) ended.push(recordOf(this.fixed, j));
    }
    const result = tuning.tuner({ now: this.now, policy: this.policy, ended });
    this.policy = result.policy;
    this.tuneLog = appendTo(this.tuneLog, { at: this.now, step: result.step, params: result.policy.params, info: result.info });
    this.lastTuneAt = this.now;
    this.nextTuneAt = tuneTimeAfter(this.fixed.cfg, this.now);
    out.push({
      kind: "event",
      event: { _tag: "tune", v: PROTOCOL_VERSION, run: this.fixed.cfg.run, at: this.now, step: result.step, params: { ...result.policy.params }, info: { ...result.info } },
    });
  }

  protected nothingCanHappen(): boolean {
    return this.running.every((r) => r === undefined) && this.models.every((m) => m.nextAt === null);
  }

  protected modelIndex(name: string): number {
    const i = this.fixed.modelIndex.get(name);
    if (i === undefined) throw new Error(`unknown model ${name}`);
    return i;
  }

  protected findJob(id: string): number {
    const ji = this.models[this.modelIndex(modelOfJob(id))]!.queue.find((j) => this.job(j).id === id);
    if (ji === undefined) throw new Error(`policy ${this.policy.name} named unknown or finished job ${id}`);
    return ji;
  }
}
