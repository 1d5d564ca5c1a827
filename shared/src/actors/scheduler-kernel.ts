/**
 * The scheduler's runtime kernel: the discrete-event loop that owns the virtual clock, the job
 * queues and the accelerators' occupancy, and asks the policy for decisions.
 *
 * It is a deterministic reducer: `start()` and `onReply(corr, reply)` return the effects to carry
 * out (requests to model tasks and accelerators, notifications, recorded events) as data; it never
 * performs I/O and never reads a clock. The clock advances only when every request of a step has
 * been answered, and replies are applied in request order, never in arrival order (DESIGN.md §4).
 *
 * Each event time t goes through these steps, each of which may wait for replies:
 *   inject   model tasks that are due release frames (task.tick → task.released)
 *   retire   finished blocks end; a job whose last block finished completes (on time or late);
 *            in `exact` mode its cascade children's tasks are told (task.parentEnded → released)
 *   decide   runtime drops, then the policy's drops and dispatches (block.dispatch → block.result);
 *            children of dropped frames are told, and their frames end as dropped
 *   advance  to the next event: the next release, the next block completion (xrbench: also the
 *            next base tick)
 *
 * Mode `xrbench` reproduces the official XRBench runtime (shared/data/xrbench/PROVENANCE.md):
 * events at 0, base ticks k·B and completions; a job is finished at t when t + 0.01 ms ≥ its
 * completion; queued frames whose deadline < t are dropped (models in byte order); cascades are
 * gated by parents' completion counts (in the policy); the run ends after the event at which every
 * model has injected its last frame, leaving frames still queued or running `unfinished`.
 *
 * Mode `exact` is the project's semantics (DESIGN.md §5): layer(-block) granularity, a frame whose
 * deadline passes before its first block starts is dropped, a started one runs on unless the policy
 * drops it, cascaded children are released on the parent's completion (seeded Bernoulli draw in
 * the child's task) and dropped with their parent, energy of dropped work counts. Releases stop at
 * the run's duration; the run then drains, so every released frame ends exactly once.
 *
 * Live mode (`KernelConfig.live`, exact mode only; DESIGN.md §4, docs/live.md): the host's wall
 * clock, scaled, drives time. Inputs carry the clock reading (`at`); block dispatches do not hold
 * the step: a block ends when its accelerator's reply arrives (the accelerator really waits), at
 * the time the scheduler handles it; the kernel asks the host to wake it (`wait` effect) at the next
 * release or tuning point and reacts to replies as they come. Scheduler lag — handling time minus
 * the block's due completion — is sampled per block. Replaying the recorded inputs (with their
 * clock readings) reproduces every decision.
 *
 * Supernets (docs/supernets.md): a model may have variants (KernelModel.variants, index 0 = the
 * full model). A job's variant is the one its first dispatch names (default 0) and never changes;
 * the view presents started jobs of variant v > 0 in a ModelView of their own with v's costs, so
 * every policy computes them at the costs they run at; block.dispatch, decision and
 * block.dispatched carry the variant, frame records the variant and its relative accuracy.
 */
import type { BlockDispatch, BlockResult, DispatchDecision, DropDecision, Outcome, ReleasedFrame, RunEvent, TaskCommand, TaskReleased, Timing } from "../contracts/messages";
import { type JobId, jobId, modelOfJob } from "../contracts/job-id";
import { PROTOCOL_VERSION } from "../contracts/messages";
import type { FrameRecord } from "../domain/metrics";
import type { ModelCosts, RunVariant, ScenarioModel } from "../domain/types";
import type { AccelView, Dispatch, JobView, ModelView, Policy, PolicyParams, SchedulerView, VariantView } from "../policies/types";

/** XRBench treats a job as finished at t when t + 0.01 ms ≥ its completion time. */
export const XRBENCH_FINISH_TOLERANCE_MS = 0.01;

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
  /** Window over which a model's recent deadline-miss share is measured (fairness). */
  readonly missWindowMs: number;
  /** Online tuning (exact mode): the tuner is called every `intervalMs` and at each phase start. */
  readonly tuning?: TuningConfig;
  /** Live mode (exact mode only): wall-clock time scaled by `speed` (0.1 = ten times slower than real). */
  readonly live?: { readonly speed: number };
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
  | { readonly kind: "request"; readonly corr: number; readonly to: Target; readonly message: TaskCommand | BlockDispatch }
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

/** Feeds one input to a kernel (what the scheduler machine does, and what a replay does). */
export const applyInput = (kernel: SchedulerKernel, input: KernelInput): KernelEffect[] =>
  input.kind === "start" ? kernel.start() : input.kind === "clock" ? kernel.onClock(input.at) : kernel.onReply(input.corr, input.reply, input.at);

/** The fields of a decision event the kernel stamps itself. */
type Stamped = "_tag" | "v" | "run" | "at" | "n" | "scores";

interface Job extends JobView {
  readonly id: JobId;
  readonly modelIndex: number;
  /** Supernet variant (0 = the full model; set at the first dispatch). */
  variant: number;
  /** Exclusive end of the layers this frame runs (an early exit drawn at release ends it sooner). */
  readonly endLayer: number;
  /** Layer ranges [from, to] this frame skips. */
  readonly skipLayers: ReadonlyArray<readonly [number, number]>;
  nextLayer: number;
  running: boolean;
  started: boolean;
  lastRanAt: number;
  dispatchAt: number | undefined;
  completionAt: number | undefined;
  acc: number | undefined;
  energyMJ: number;
  outcome: Outcome | undefined;
  endedAt: number | undefined;
  /** Released as the child of a dropped parent: ends dropped at once. */
  readonly orphan: boolean;
}

interface Running {
  readonly job: Job;
  readonly firstLayer: number;
  readonly layerCount: number;
  /** Virtual: set by the reply. Live: the estimate until the accelerator's reply, then the time it was handled. */
  completesAt: number;
  /** Live mode: the dispatch time and whether the accelerator has replied (the block is over). */
  readonly startedAt: number;
  done: boolean;
}

interface ModelState {
  readonly cfg: KernelModel;
  readonly index: number;
  readonly wholeCycles: Float64Array;
  readonly optimisticRemainingMs: Float64Array;
  /** Supernet models: every variant with its derived figures (index 0 = the full model); else undefined. */
  readonly variants: ReadonlyArray<VariantView> | undefined;
  /** Queued jobs that run a variant v > 0 (0: the view needs no split). */
  downgraded: number;
  readonly children: ReadonlyArray<string>;
  /** Expected optimistic work of the frame's cascade descendants (exact mode; 0 in xrbench mode). */
  cascadeRemainingMs: number;
  /** Per direct child: its expected work (trigger probability × its work and its descendants'). */
  cascadeChildren: ReadonlyArray<{ readonly name: string; readonly expectedWorkMs: number }>;
  /** Released, unfinished jobs, oldest first. */
  readonly queue: Job[];
  completed: number;
  /** Ticks sent to the task so far (names each tick: TaskTick.n). */
  ticks: number;
  /** Next nominal release reported by the task; 0 before the first tick; null when it has no timer left. */
  nextAt: number | null;
  /** (time, missed) of frames ended within the miss window. */
  readonly recent: Array<{ at: number; missed: boolean }>;
  lastOnTimeAt: number | null;
}

type Step = "new" | "inject" | "retire" | "decide" | "waiting" | "done";

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The first layer at or after `layer` that the job does not skip. */
const pastSkips = (job: Pick<Job, "skipLayers">, layer: number): number => {
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
const runLength = (job: Pick<Job, "skipLayers" | "nextLayer" | "endLayer">): number => {
  let end = job.endLayer;
  for (const [from] of job.skipLayers) if (from > job.nextLayer && from < end) end = from;
  return end - job.nextLayer;
};

/**
 * [l] = optimistic time of layers l..end, each on its fastest accelerator. With early exits and
 * skippable layers it is the expected remaining work, given the job has reached layer l:
 * E[l] = p_exec(l)·min_a lat(l, a) + (1 − q_exit(l))·E[l+1] (document: docs/architecture.md).
 */
export const optimisticRemaining = (costs: ModelCosts, dynamics: Pick<KernelModel, "exits" | "skips"> = {}): Float64Array => {
  const out = new Float64Array(costs.layerCount + 1);
  // P(no exit after l | reached l). The task draws every exit separately (task-logic pathOf), so
  // exits after the same layer combine: 1 − q_exit(l) = Π(1 − q_i).
  const stayAfter = new Float64Array(costs.layerCount).fill(1);
  const execute = new Float64Array(costs.layerCount).fill(1);
  for (const x of dynamics.exits ?? []) stayAfter[x.afterLayer] = stayAfter[x.afterLayer]! * (1 - x.probability);
  for (const x of dynamics.skips ?? []) for (let l = x.fromLayer; l <= x.toLayer; l++) execute[l] = x.probability;
  for (let l = costs.layerCount - 1; l >= 0; l--) {
    let best = Number.POSITIVE_INFINITY;
    for (const lat of costs.latencyMs) best = Math.min(best, lat[l]!);
    out[l] = execute[l]! * best + stayAfter[l]! * out[l + 1]!;
  }
  return out;
};

/** A model's variants with their derived figures, after checking them against the full model. */
const checkedVariants = (m: KernelModel, whole: (costs: ModelCosts) => Float64Array): VariantView[] => {
  const variants = m.variants ?? [];
  if (variants.length === 0) throw new Error(`model ${m.name}: an empty list of supernet variants`);
  return variants.map((v, i) => {
    const costs = i === 0 ? m.costs : v.costs;
    if (costs.layerCount !== m.costs.layerCount || costs.cycles.length !== m.costs.cycles.length) {
      throw new Error(`model ${m.name}: variant ${i} has costs for ${costs.cycles.length} accelerators × ${costs.layerCount} layers, the model ${m.costs.cycles.length} × ${m.costs.layerCount}`);
    }
    if (!(v.accuracy > 0 && v.accuracy <= 1)) throw new Error(`model ${m.name}: variant ${i} has accuracy ${v.accuracy}, expected (0, 1]`);
    return { width: v.width, accuracy: v.accuracy, costs, wholeCycles: whole(costs), optimisticRemainingMs: optimisticRemaining(costs, m) };
  });
};

export class SchedulerKernel {
  private now = 0;
  private step: Step = "new";
  private corrSeq = 0;
  private readonly pending = new Map<number, KernelReply | undefined>();
  /** Outcome of the parent for each outstanding task.parentEnded request. */
  private readonly parentOutcome = new Map<number, Outcome>();
  private readonly models: ModelState[];
  private readonly modelIndex = new Map<string, number>();
  private readonly running: Array<Running | undefined>;
  private readonly records: Job[] = [];
  private readonly timing: Timing;
  /** Number of policy decisions taken (one per dispatch or drop). */
  decisions = 0;
  /** The policy in force (the online tuner may replace it with re-parameterised ones). */
  policy: Policy;
  private nextTuneAt = Number.POSITIVE_INFINITY;
  /** Every online tuning step taken (the trajectory). */
  readonly tuneLog: Array<{ readonly at: number; readonly step: number; readonly params: PolicyParams; readonly info: Readonly<Record<string, number>> }> = [];
  private lastTuneAt = 0;
  /** Energy of every executed block, as the accelerators reported it (the accounting invariant's reference). */
  blockEnergyMJ = 0;
  /** Blocks executed. */
  blocks = 0;
  /** Live mode: per block, the scheduler lag (handling time − due completion), ms of run time. */
  readonly lagMs: number[] = [];
  private readonly live: boolean;
  /** Live mode: the latest clock reading an input carried. */
  private liveNow = 0;
  /** Live mode: outstanding block dispatches (they do not hold the step), corr → accelerator index. */
  private readonly inflight = new Map<number, number>();

  constructor(readonly cfg: KernelConfig) {
    const sorted = [...cfg.models].sort((a, b) => byteOrder(a.name, b.name));
    const whole = (costs: ModelCosts) => Float64Array.from(costs.cycles, (perLayer) => perLayer.reduce((s, c) => s + c, 0));
    this.models = sorted.map((m, index) => ({
      cfg: m,
      index,
      wholeCycles: whole(m.costs),
      optimisticRemainingMs: optimisticRemaining(m.costs, m),
      variants: m.variants === undefined ? undefined : checkedVariants(m, whole),
      downgraded: 0,
      children: sorted.filter((c) => c.dependsOn.includes(m.name)).map((c) => c.name),
      cascadeRemainingMs: 0,
      cascadeChildren: [],
      queue: [],
      completed: 0,
      ticks: 0,
      nextAt: 0,
      recent: [],
      lastOnTimeAt: null,
    }));
    this.models.forEach((m, i) => this.modelIndex.set(m.cfg.name, i));
    if (cfg.mode === "exact") {
      for (const m of this.models) {
        m.cascadeChildren = m.children.map((name) => {
          const child = this.modelState(name);
          return {
            name,
            expectedWorkMs: (child.cfg.probability ?? 1) * (child.optimisticRemainingMs[0]! + this.descendantsWork(child, new Set([m.cfg.name, name]))),
          };
        });
        m.cascadeRemainingMs = m.cascadeChildren.reduce((sum, c) => sum + c.expectedWorkMs, 0);
      }
    }
    this.running = cfg.accelerators.map(() => undefined);
    this.timing = cfg.mode === "xrbench" ? "xrbench-f32" : "exact";
    this.live = cfg.live !== undefined;
    if (this.live && cfg.mode !== "exact") throw new Error("live mode needs the exact kernel mode (the xrbench policy reproduces a virtual-time tool)");
    if (cfg.live !== undefined && !(cfg.live.speed > 0 && cfg.live.speed <= 1000)) throw new Error(`live speed ${cfg.live.speed}: expected a number in (0, 1000]`);
    this.policy = cfg.policy;
    if (cfg.tuning !== undefined && cfg.mode === "exact") this.nextTuneAt = this.tuneTimeAfter(-1);
  }

  get time(): number {
    return this.now;
  }

  get finished(): boolean {
    return this.step === "done";
  }

  start(): KernelEffect[] {
    if (this.step !== "new") throw new Error("kernel already started");
    return this.beginEvent();
  }

  /**
   * Apply the reply to request `corr`; returns the next effects (empty while replies are
   * outstanding). Live mode: `at` is the clock reading when the reply arrived.
   */
  onReply(corr: number, reply: KernelReply, at?: number): KernelEffect[] {
    if (this.live) {
      if (at === undefined) throw new Error(`live mode: the reply to request ${corr} carries no clock reading`);
      if (at > this.liveNow) this.liveNow = at;
      const a = this.inflight.get(corr);
      if (a !== undefined) {
        if (reply._tag !== "block.result") throw new Error(`request ${corr} dispatched a block, the reply is ${reply._tag}`);
        this.inflight.delete(corr);
        const out = this.blockOver(a, reply);
        return this.step === "waiting" ? out.concat(this.advance()) : out;
      }
    } else if (at !== undefined) {
      throw new Error(`virtual time: the reply to request ${corr} carries a clock reading`);
    }
    if (!this.pending.has(corr)) throw new Error(`unexpected reply to request ${corr}`);
    if (this.pending.get(corr) !== undefined) throw new Error(`duplicate reply to request ${corr}`);
    this.pending.set(corr, reply);
    for (const r of this.pending.values()) if (r === undefined) return [];
    const replies = [...this.pending.entries()].sort((a, b) => a[0] - b[0]);
    this.pending.clear();
    const out: KernelEffect[] = [];
    for (const [c, r] of replies) this.applyReply(c, r!, out);
    return out.concat(this.continueFrom(this.step));
  }

  /** Live mode: the clock reads `at` (the host's wake-up after a `wait` effect). */
  onClock(at: number): KernelEffect[] {
    if (!this.live) throw new Error("a clock input in virtual time");
    if (at > this.liveNow) this.liveNow = at;
    return this.step === "waiting" ? this.advance() : [];
  }

  /** Live mode: block dispatches still waiting for their accelerator's reply. */
  get blocksInFlight(): number {
    return this.inflight.size;
  }

  /** Frame records of every released frame (complete once finished). */
  frameRecords(): FrameRecord[] {
    return this.records.map((j) => this.recordOf(j));
  }

  private recordOf(j: Job): FrameRecord {
      const variants = this.models[j.modelIndex]!.variants;
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
  }

  // ─── steps ────────────────────────────────────────────────────────────────────────────────

  /** Runs the steps after `done` until one must wait for replies (or the run ends). */
  private continueFrom(done: Step): KernelEffect[] {
    const order: Step[] = ["inject", "retire", "decide"];
    const out: KernelEffect[] = [];
    for (let i = order.indexOf(done) + 1; i < order.length; i++) {
      this.step = order[i]!;
      if (this.step === "retire") this.retire(out);
      else this.decide(out);
      if (this.pending.size > 0) return out;
    }
    return out.concat(this.advance());
  }

  private beginEvent(): KernelEffect[] {
    this.step = "inject";
    const out: KernelEffect[] = [];
    if (this.now >= this.nextTuneAt) this.tune(out);
    for (const m of this.models) {
      if (m.nextAt !== null && m.nextAt <= this.now) {
        this.request(out, { kind: "task", name: m.cfg.name }, { _tag: "task.tick", v: PROTOCOL_VERSION, run: this.cfg.run, at: this.now, n: ++m.ticks });
      }
    }
    if (this.pending.size > 0) return out;
    return out.concat(this.continueFrom("inject"));
  }

  private request(out: KernelEffect[], to: Target, message: TaskCommand | BlockDispatch): number {
    const corr = ++this.corrSeq;
    if (this.live && to.kind === "accel") this.inflight.set(corr, this.cfg.accelerators.findIndex((x) => x.id === to.id));
    else this.pending.set(corr, undefined);
    out.push({ kind: "request", corr, to, message });
    return corr;
  }

  private applyReply(corr: number, reply: KernelReply, out: KernelEffect[]) {
    if (reply._tag === "task.released") {
      const m = this.modelState(reply.model);
      const parentOutcome = this.parentOutcome.get(corr);
      this.parentOutcome.delete(corr);
      if (parentOutcome === undefined) m.nextAt = reply.nextAt;
      for (const f of reply.frames) this.inject(m, f, parentOutcome === "dropped", out);
      return;
    }
    const a = this.cfg.accelerators.findIndex((x) => x.id === reply.acc);
    const r = this.blockInFlight(a, reply);
    r.completesAt = reply.completesAt;
    this.account(r, reply, this.now, out);
  }

  private blockInFlight(a: number, reply: BlockResult): Running {
    const r = this.running[a];
    if (r === undefined || r.job.id !== reply.job || r.firstLayer !== reply.firstLayer || this.cfg.accelerators[a]?.id !== reply.acc) {
      throw new Error(`block result for ${reply.job} from ${reply.acc} does not match the block in flight`);
    }
    return r;
  }

  /**
   * Live mode: accelerator `a`'s reply says its block is over; it ends when the scheduler handles
   * it (now), never before its due completion. Retired at the next event.
   */
  private blockOver(a: number, reply: BlockResult): KernelEffect[] {
    const r = this.blockInFlight(a, reply);
    const due = reply.completesAt;
    r.completesAt = Math.max(this.liveNow, due);
    r.done = true;
    this.lagMs.push(r.completesAt - due);
    return this.account(r, { ...reply, completesAt: r.completesAt }, r.startedAt, []);
  }

  /** Books an executed block's energy and records it (`at`: when it was dispatched). */
  private account(r: Running, reply: BlockResult, at: number, out: KernelEffect[]): KernelEffect[] {
    r.job.energyMJ += reply.energyMJ;
    this.blockEnergyMJ += reply.energyMJ;
    this.blocks++;
    out.push({
      kind: "event",
      event: {
        _tag: "block.dispatched",
        v: PROTOCOL_VERSION,
        run: this.cfg.run,
        at,
        acc: reply.acc,
        job: reply.job,
        firstLayer: reply.firstLayer,
        layerCount: reply.layerCount,
        completesAt: reply.completesAt,
        energyMJ: reply.energyMJ,
        ...(this.models[r.job.modelIndex]!.variants === undefined ? {} : { variant: r.job.variant }),
      },
    });
    return out;
  }

  private inject(m: ModelState, f: ReleasedFrame, orphan: boolean, out: KernelEffect[]) {
    const job: Job = {
      id: jobId(m.cfg.name, f.frame),
      model: m.cfg.name,
      modelIndex: m.index,
      variant: 0,
      frame: f.frame,
      releaseAt: f.releaseAt,
      injectAt: f.injectAt,
      deadline: f.deadline,
      layerCount: m.cfg.costs.layerCount,
      endLayer: f.exitAfter === undefined ? m.cfg.costs.layerCount : f.exitAfter + 1,
      skipLayers: f.skipLayers ?? [],
      nextLayer: 0,
      running: false,
      started: false,
      lastRanAt: f.injectAt,
      dispatchAt: undefined,
      completionAt: undefined,
      acc: undefined,
      energyMJ: 0,
      outcome: undefined,
      endedAt: undefined,
      orphan,
    };
    job.nextLayer = pastSkips(job, 0);
    m.queue.push(job);
    this.records.push(job);
    out.push({ kind: "event", event: { _tag: "frame.released", v: PROTOCOL_VERSION, run: this.cfg.run, at: this.now, frame: f } });
    if (orphan) this.end(job, "dropped", out, "cascade parent was dropped");
    else if (job.nextLayer >= job.endLayer) {
      job.completionAt = this.now; // every layer skipped: nothing to run
      this.end(job, this.now <= job.deadline ? "onTime" : "late", out);
    }
  }

  private retire(out: KernelEffect[]) {
    const tolerance = this.cfg.mode === "xrbench" ? XRBENCH_FINISH_TOLERANCE_MS : 0;
    for (let a = 0; a < this.running.length; a++) {
      const r = this.running[a];
      if (r === undefined || (this.live ? !r.done || r.completesAt > this.now : this.now + tolerance < r.completesAt)) continue;
      this.running[a] = undefined;
      const job = r.job;
      job.running = false;
      job.nextLayer = pastSkips(job, job.nextLayer + r.layerCount);
      job.lastRanAt = r.completesAt;
      if (job.outcome !== undefined) continue; // dropped while its last block ran
      if (job.nextLayer < job.endLayer) continue;
      job.completionAt = r.completesAt;
      this.end(job, r.completesAt <= job.deadline ? "onTime" : "late", out);
    }
  }

  private decide(out: KernelEffect[]) {
    this.runtimeDrops(out);
    const decision = this.policy.decide(this.view());
    for (const d of decision.drops) {
      const job = this.findJob(d.job);
      this.recordDecision(out, { action: "drop", job: job.id, reason: d.reason }, d.scores);
      this.end(job, "dropped", out, d.reason);
    }
    for (const d of decision.dispatches) this.dispatch(d, out);
    if (this.cfg.mode === "exact" && this.pending.size === 0 && this.nothingCanHappen()) {
      // Nothing runs, nothing will be released: jobs the policy left waiting can never run.
      for (const m of this.models) while (m.queue.length > 0) this.end(m.queue[0]!, "dropped", out, "left unscheduled at the end of the run");
    }
  }

  private runtimeDrops(out: KernelEffect[]) {
    const xrbench = this.cfg.mode === "xrbench";
    for (const m of this.models) {
      for (let i = 0; i < m.queue.length; ) {
        const j = m.queue[i]!;
        if (j.started) {
          i++;
          continue;
        }
        if (xrbench ? j.deadline < this.now : j.deadline <= this.now) this.end(j, "dropped", out, "deadline passed before the frame started");
        else if (xrbench) break; // XRBench only drops the oldest queued frame, repeatedly
        else i++;
      }
    }
  }

  private dispatch(d: Dispatch, out: KernelEffect[]) {
    const { job: id, acc } = d;
    const job = this.findJob(id);
    const policy = this.policy.name;
    if (job.running) throw new Error(`policy ${policy} dispatched job ${id}, which already has a block in flight`);
    if (this.running[acc] !== undefined || acc < 0 || acc >= this.running.length) {
      throw new Error(`policy ${policy} dispatched ${id} to busy or unknown accelerator ${acc}`);
    }
    const m = this.models[job.modelIndex]!;
    if (!job.started) {
      // the variant is chosen at the first block and never changes (a later block's d.variant is ignored)
      const variant = d.variant ?? 0;
      const count = m.variants?.length ?? 1;
      if (!(Number.isInteger(variant) && variant >= 0 && variant < count)) {
        throw new Error(`policy ${policy} dispatched ${id} as variant ${variant}; model ${m.cfg.name} has ${count} variant(s)`);
      }
      job.variant = variant;
      if (variant > 0) m.downgraded++;
    }
    const supernet = m.variants !== undefined;
    const layerCount = Math.max(1, Math.min(d.layerCount, runLength(job)));
    const accId = this.cfg.accelerators[acc]!.id;
    this.recordDecision(
      out,
      { action: "dispatch", job: job.id, acc: accId, firstLayer: job.nextLayer, layerCount, ...(supernet ? { variant: job.variant } : {}) },
      d.scores,
    );
    job.running = true;
    job.started = true;
    job.acc = acc;
    job.dispatchAt ??= this.now;
    this.running[acc] = {
      job,
      firstLayer: job.nextLayer,
      layerCount,
      // live: the policy sees the block's estimated completion until its accelerator replies
      completesAt: this.live ? this.now + this.blockLatencyMs(job, acc, layerCount) : Number.NaN,
      startedAt: this.now,
      done: false,
    };
    this.request(out, { kind: "accel", id: accId }, {
      _tag: "block.dispatch",
      v: PROTOCOL_VERSION,
      run: this.cfg.run,
      at: this.now,
      acc: accId,
      job: job.id,
      model: job.model,
      frame: job.frame,
      firstLayer: job.nextLayer,
      layerCount,
      timing: this.timing,
      ...(supernet ? { variant: job.variant } : {}),
      ...(this.cfg.live === undefined ? {} : { speed: this.cfg.live.speed }),
    });
  }

  /** Latency of layers nextLayer.. of `job` (its variant's costs) on accelerator `acc`. */
  private blockLatencyMs(job: Job, acc: number, layerCount: number): number {
    const m = this.models[job.modelIndex]!;
    const costs = job.variant === 0 || m.variants === undefined ? m.cfg.costs : m.variants[job.variant]!.costs;
    const lat = costs.latencyMs[acc]!;
    let ms = 0;
    for (let l = job.nextLayer; l < job.nextLayer + layerCount; l++) ms += lat[l]!;
    return ms;
  }

  /** Counts a policy decision and records it, with the scores that drove it. */
  private recordDecision(
    out: KernelEffect[],
    what: Omit<DispatchDecision, Stamped> | Omit<DropDecision, Stamped>,
    scores: Readonly<Record<string, number>> | undefined,
  ) {
    this.decisions++;
    out.push({
      kind: "event",
      event: {
        _tag: "decision",
        v: PROTOCOL_VERSION,
        run: this.cfg.run,
        at: this.now,
        n: this.decisions,
        ...what,
        ...(scores === undefined ? {} : { scores }),
      },
    });
  }

  private end(job: Job, outcome: Outcome, out: KernelEffect[], reason?: string) {
    job.outcome = outcome;
    job.endedAt = this.now;
    const m = this.models[job.modelIndex]!;
    const i = m.queue.indexOf(job);
    if (i >= 0) {
      m.queue.splice(i, 1);
      if (job.variant > 0) m.downgraded--;
    }
    if (outcome !== "dropped") m.completed++;
    if (outcome === "onTime") m.lastOnTimeAt = this.now;
    m.recent.push({ at: this.now, missed: outcome !== "onTime" });
    const run = this.cfg.run;
    out.push({
      kind: "event",
      event: { _tag: "frame.ended", v: PROTOCOL_VERSION, run, at: this.now, job: job.id, outcome, ...(reason === undefined ? {} : { reason }) },
    });
    out.push({
      kind: "notify",
      to: { kind: "task", name: m.cfg.name },
      message: { _tag: "task.frameEnded", v: PROTOCOL_VERSION, run, at: this.now, model: m.cfg.name, frame: job.frame, outcome },
    });
    if (this.cfg.mode !== "exact" || job.orphan) return;
    for (const child of m.children) {
      const corr = this.request(out, { kind: "task", name: child }, {
        _tag: "task.parentEnded",
        v: PROTOCOL_VERSION,
        run,
        at: this.now,
        parent: m.cfg.name,
        frame: job.frame,
        releaseAt: job.releaseAt,
        outcome,
      });
      this.parentOutcome.set(corr, outcome);
    }
  }

  private nothingCanHappen(): boolean {
    return this.running.every((r) => r === undefined) && this.models.every((m) => m.nextAt === null);
  }

  private advance(): KernelEffect[] {
    const idle = this.running.every((r) => r === undefined);
    const exhausted = this.models.every((m) => m.nextAt === null);
    const drained = this.models.every((m) => m.queue.length === 0);
    if (exhausted && (this.cfg.mode === "xrbench" || (idle && drained))) {
      this.step = "done";
      return [{ kind: "event", event: { _tag: "run.finished", v: PROTOCOL_VERSION, run: this.cfg.run, at: this.now } }, { kind: "finished" }];
    }
    if (this.live) return this.advanceLive();
    let next = Number.POSITIVE_INFINITY;
    if (this.cfg.mode === "xrbench") next = (Math.floor(this.now / this.cfg.baseTickMs) + 1) * this.cfg.baseTickMs;
    else for (const m of this.models) if (m.nextAt !== null && m.nextAt < next) next = m.nextAt;
    for (const r of this.running) if (r !== undefined && r.completesAt < next) next = r.completesAt;
    if (this.nextTuneAt < next) next = this.nextTuneAt;
    if (!(next > this.now) && !(this.cfg.mode === "exact" && next === this.now)) {
      throw new Error(`virtual clock cannot advance from ${this.now} ms`);
    }
    this.now = Math.max(next, this.now);
    return this.beginEvent();
  }

  /**
   * Live mode: the next event is the next release, tuning point or end of a block that is over. Due
   * events happen now (the clock's latest reading); otherwise the host is asked for a wake-up.
   */
  private advanceLive(): KernelEffect[] {
    let next = this.nextTuneAt;
    for (const m of this.models) if (m.nextAt !== null && m.nextAt < next) next = m.nextAt;
    // a block is over once its reply is handled, never before its due completion
    for (const r of this.running) if (r !== undefined && r.done && r.completesAt < next) next = r.completesAt;
    if (next <= this.liveNow) {
      this.now = Math.max(this.now, this.liveNow);
      return this.beginEvent();
    }
    this.step = "waiting";
    return [{ kind: "wait", until: next }];
  }

  // ─── the policy's view ────────────────────────────────────────────────────────────────────

  private view(): SchedulerView {
    const completedByModel = new Map<string, number>();
    const since = this.now - this.cfg.missWindowMs;
    const models: ModelView[] = [];
    for (const m of this.models) {
      completedByModel.set(m.cfg.name, m.completed);
      while (m.recent.length > 0 && m.recent[0]!.at < since) m.recent.shift();
      const missed = m.recent.reduce((s, r) => s + (r.missed ? 1 : 0), 0);
      const full: ModelView = {
        name: m.cfg.name,
        variant: 0,
        ...(m.variants === undefined ? {} : { variants: m.variants }),
        periodMs: m.cfg.periodMs,
        dependsOn: m.cfg.dependsOn,
        completed: m.completed,
        queue: m.downgraded === 0 ? m.queue : m.queue.filter((j) => j.variant === 0),
        costs: m.cfg.costs,
        wholeCycles: m.wholeCycles,
        optimisticRemainingMs: m.optimisticRemainingMs,
        cascadeRemainingMs: m.cascadeRemainingMs,
        cascadeChildren: m.cascadeChildren,
        recentMissRate: m.recent.length === 0 ? 0 : missed / m.recent.length,
        lastOnTimeAt: m.lastOnTimeAt,
      };
      models.push(full);
      if (m.downgraded === 0 || m.variants === undefined) continue;
      // The view trick: started jobs of variant v > 0 in a view of their own, with v's costs.
      for (let v = 1; v < m.variants.length; v++) {
        const queue = m.queue.filter((j) => j.variant === v);
        if (queue.length === 0) continue;
        const { variants: _all, ...shared } = full;
        const vv = m.variants[v]!;
        models.push({ ...shared, variant: v, queue, costs: vv.costs, wholeCycles: vv.wholeCycles, optimisticRemainingMs: vv.optimisticRemainingMs });
      }
    }
    const accelerators: AccelView[] = this.running.map((r, index) => ({
      index,
      id: this.cfg.accelerators[index]!.id,
      idle: r === undefined,
      busyUntil: r === undefined ? this.now : r.completesAt,
    }));
    return { now: this.now, models, accelerators, completedByModel, blockSize: this.cfg.blockSize, quantumMs: this.cfg.quantumMs ?? 0 };
  }

  /** The first tuning point strictly after `t`: the next multiple of the interval or phase start. */
  private tuneTimeAfter(t: number): number {
    const tuning = this.cfg.tuning!;
    let next = (Math.floor(t / tuning.intervalMs) + 1) * tuning.intervalMs;
    for (const p of tuning.at) if (p > t && p < next) next = p;
    return next;
  }

  private tune(out: KernelEffect[]) {
    const tuning = this.cfg.tuning!;
    const since = this.lastTuneAt;
    // only the frames that ended in this window (not a record of every frame of the run per step)
    const ended = this.records
      .filter((j) => j.endedAt !== undefined && j.endedAt >= since && j.endedAt < this.now)
      .map((j) => this.recordOf(j));
    const result = tuning.tuner({ now: this.now, policy: this.policy, ended });
    this.policy = result.policy;
    this.tuneLog.push({ at: this.now, step: result.step, params: result.policy.params, info: result.info });
    this.lastTuneAt = this.now;
    this.nextTuneAt = this.tuneTimeAfter(this.now);
    out.push({
      kind: "event",
      event: { _tag: "tune", v: PROTOCOL_VERSION, run: this.cfg.run, at: this.now, step: result.step, params: { ...result.policy.params }, info: { ...result.info } },
    });
  }

  /** Σ over children of p_child × (child's whole optimistic work + its own descendants). */
  private descendantsWork(m: ModelState, seen: Set<string>): number {
    let total = 0;
    for (const name of m.children) {
      if (seen.has(name)) continue;
      const child = this.modelState(name);
      const next = new Set(seen).add(name);
      total += (child.cfg.probability ?? 1) * (child.optimisticRemainingMs[0]! + this.descendantsWork(child, next));
    }
    return total;
  }

  private modelState(name: string): ModelState {
    const i = this.modelIndex.get(name);
    if (i === undefined) throw new Error(`unknown model ${name}`);
    return this.models[i]!;
  }

  private findJob(id: string): Job {
    const job = this.modelState(modelOfJob(id)).queue.find((j) => j.id === id);
    if (job === undefined) throw new Error(`policy ${this.policy.name} named unknown or finished job ${id}`);
    return job;
  }
}
