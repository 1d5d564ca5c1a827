/**
 * The scheduler's runtime kernel: the discrete-event loop that owns the virtual clock, the job
 * queues and the accelerators' occupancy, and asks the policy for decisions.
 *
 * It is a deterministic reducer: `start()` and `onReply(corr, reply)` return the effects to carry
 * out (requests to model tasks and accelerators, notifications, recorded events) as data; it never
 * performs I/O and never reads a clock. The clock advances only when every request it sent has been
 * answered, and replies are applied in request order, never in arrival order (DESIGN.md §4).
 *
 * Mode `xrbench` reproduces the official XRBench runtime (shared/data/xrbench/PROVENANCE.md):
 * events at time 0, at the base ticks k·B and at job completions; at each event, in order:
 * injection (model tasks), retirement (accelerators in index order, finished if t + 0.01 ms ≥
 * completion), drops (oldest queued frame whose deadline < t, models in byte order, repeated),
 * dispatch (the policy). The run ends after the event at which every model has injected its last
 * frame; frames still running or queued then are `unfinished` (XRBench never logs them).
 */
import type {
  BlockDispatch,
  BlockResult,
  ReleasedFrame,
  RunEvent,
  TaskCommand,
  TaskReleased,
  Timing,
} from "../contracts/messages";
import { type Outcome, PROTOCOL_VERSION } from "../contracts/messages";
import type { FrameRecord } from "../domain/metrics";
import type { ModelCosts } from "../domain/types";
import type { AccelView, JobView, ModelView, Policy, SchedulerView } from "../policies/types";

/** XRBench treats a job as finished at t when t + 0.01 ms ≥ its completion time. */
export const XRBENCH_FINISH_TOLERANCE_MS = 0.01;

export interface KernelModel {
  readonly name: string;
  readonly periodMs: number;
  readonly dependsOn: ReadonlyArray<string>;
  readonly costs: ModelCosts;
}

export interface KernelConfig {
  readonly run: string;
  readonly mode: "xrbench";
  readonly policy: Policy;
  readonly models: ReadonlyArray<KernelModel>;
  readonly accelerators: ReadonlyArray<{ readonly id: string }>;
  readonly durationMs: number;
  /** xrbench: base tick B = 1000 div (largest FPS). */
  readonly baseTickMs: number;
}

export type Target = { readonly kind: "task"; readonly name: string } | { readonly kind: "accel"; readonly id: string };

export type KernelEffect =
  | { readonly kind: "request"; readonly corr: number; readonly to: Target; readonly message: TaskCommand | BlockDispatch }
  | { readonly kind: "notify"; readonly to: Target; readonly message: TaskCommand }
  | { readonly kind: "event"; readonly event: RunEvent }
  | { readonly kind: "finished" };

export type KernelReply = TaskReleased | BlockResult;

interface Job {
  readonly id: string;
  readonly model: string;
  readonly modelIndex: number;
  readonly frame: number;
  readonly releaseAt: number;
  readonly injectAt: number;
  readonly deadline: number;
  readonly layerCount: number;
  nextLayer: number;
  running: boolean;
  dispatchAt: number | undefined;
  completionAt: number | undefined;
  acc: number | undefined;
  energyMJ: number;
  outcome: FrameRecord["outcome"] | undefined;
}

interface Running {
  readonly job: Job;
  readonly firstLayer: number;
  readonly layerCount: number;
  completesAt: number;
  energyMJ: number;
}

interface ModelState {
  readonly cfg: KernelModel;
  readonly wholeCycles: Float64Array;
  readonly queue: Job[];
  completed: number;
  /** Next nominal release reported by the task; 0 before the first tick; null when exhausted. */
  nextAt: number | null;
}

type Phase = "new" | "inject" | "dispatch" | "done";

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class SchedulerKernel {
  private now = 0;
  private phase: Phase = "new";
  private corrSeq = 0;
  private readonly pending = new Map<number, KernelReply | undefined>();
  private readonly models: ModelState[];
  private readonly modelIndex = new Map<string, number>();
  private readonly running: Array<Running | undefined>;
  private readonly records: Job[] = [];
  private readonly timing: Timing;
  /** Number of policy decisions taken (one per dispatch or drop). */
  decisions = 0;

  constructor(readonly cfg: KernelConfig) {
    const sorted = [...cfg.models].sort((a, b) => byteOrder(a.name, b.name));
    this.models = sorted.map((m) => ({
      cfg: m,
      wholeCycles: Float64Array.from(m.costs.cycles, (perLayer) => perLayer.reduce((s, c) => s + c, 0)),
      queue: [],
      completed: 0,
      nextAt: 0,
    }));
    this.models.forEach((m, i) => this.modelIndex.set(m.cfg.name, i));
    this.running = cfg.accelerators.map(() => undefined);
    this.timing = cfg.mode === "xrbench" ? "xrbench-f32" : "exact";
  }

  get time(): number {
    return this.now;
  }

  get finished(): boolean {
    return this.phase === "done";
  }

  start(): KernelEffect[] {
    if (this.phase !== "new") throw new Error("kernel already started");
    return this.beginEvent();
  }

  /** Apply the reply to request `corr`; returns the next effects (empty while replies are outstanding). */
  onReply(corr: number, reply: KernelReply): KernelEffect[] {
    if (!this.pending.has(corr)) throw new Error(`unexpected reply to request ${corr}`);
    if (this.pending.get(corr) !== undefined) throw new Error(`duplicate reply to request ${corr}`);
    this.pending.set(corr, reply);
    for (const r of this.pending.values()) if (r === undefined) return [];
    const replies = [...this.pending.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1] as KernelReply);
    this.pending.clear();
    if (this.phase === "inject") return this.applyReleases(replies);
    if (this.phase === "dispatch") return this.applyDispatchResults(replies);
    throw new Error(`reply in phase ${this.phase}`);
  }

  /** Frame records of every released frame (valid once finished). */
  frameRecords(): FrameRecord[] {
    return this.records.map((j) => ({
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
    }));
  }

  // ─── the event cycle ──────────────────────────────────────────────────────────────────────

  private request(out: KernelEffect[], to: Target, message: TaskCommand | BlockDispatch) {
    const corr = ++this.corrSeq;
    this.pending.set(corr, undefined);
    out.push({ kind: "request", corr, to, message });
  }

  private beginEvent(): KernelEffect[] {
    const out: KernelEffect[] = [];
    for (const m of this.models) {
      if (m.nextAt !== null && m.nextAt <= this.now) {
        this.request(out, { kind: "task", name: m.cfg.name }, {
          _tag: "task.tick",
          v: PROTOCOL_VERSION,
          run: this.cfg.run,
          at: this.now,
        });
      }
    }
    if (this.pending.size > 0) {
      this.phase = "inject";
      return out;
    }
    return out.concat(this.afterInjection());
  }

  private applyReleases(replies: ReadonlyArray<KernelReply>): KernelEffect[] {
    const out: KernelEffect[] = [];
    for (const reply of replies) {
      if (reply._tag !== "task.released") throw new Error(`expected task.released, got ${reply._tag}`);
      const m = this.modelState(reply.model);
      m.nextAt = reply.nextAt;
      for (const f of reply.frames) this.inject(m, f, out);
    }
    return out.concat(this.afterInjection());
  }

  private inject(m: ModelState, f: ReleasedFrame, out: KernelEffect[]) {
    const job: Job = {
      id: `${m.cfg.name}:${f.frame}`,
      model: m.cfg.name,
      modelIndex: this.modelIndex.get(m.cfg.name)!,
      frame: f.frame,
      releaseAt: f.releaseAt,
      injectAt: f.injectAt,
      deadline: f.deadline,
      layerCount: m.cfg.costs.layerCount,
      nextLayer: 0,
      running: false,
      dispatchAt: undefined,
      completionAt: undefined,
      acc: undefined,
      energyMJ: 0,
      outcome: undefined,
    };
    m.queue.push(job);
    this.records.push(job);
    out.push({ kind: "event", event: { _tag: "frame.released", v: PROTOCOL_VERSION, run: this.cfg.run, at: this.now, frame: f } });
  }

  private afterInjection(): KernelEffect[] {
    const out: KernelEffect[] = [];
    this.retire(out);
    this.dropExpired(out);
    this.dispatch(out);
    if (this.pending.size > 0) {
      this.phase = "dispatch";
      return out;
    }
    return out.concat(this.advance());
  }

  private retire(out: KernelEffect[]) {
    for (let a = 0; a < this.running.length; a++) {
      const r = this.running[a];
      if (r === undefined || this.now + XRBENCH_FINISH_TOLERANCE_MS < r.completesAt) continue;
      this.running[a] = undefined;
      const job = r.job;
      job.running = false;
      job.nextLayer += r.layerCount;
      if (job.nextLayer < job.layerCount) continue;
      job.completionAt = r.completesAt;
      this.end(job, r.completesAt <= job.deadline ? "onTime" : "late", out);
      this.models[job.modelIndex]!.completed++;
    }
  }

  private dropExpired(out: KernelEffect[]) {
    for (const m of this.models) {
      while (m.queue.length > 0 && !m.queue[0]!.running && m.queue[0]!.dispatchAt === undefined && m.queue[0]!.deadline < this.now) {
        this.end(m.queue[0]!, "dropped", out, "deadline passed before the frame started");
      }
    }
  }

  private end(job: Job, outcome: Outcome, out: KernelEffect[], reason?: string) {
    job.outcome = outcome;
    const m = this.models[job.modelIndex]!;
    const i = m.queue.indexOf(job);
    if (i >= 0) m.queue.splice(i, 1);
    const run = this.cfg.run;
    out.push({
      kind: "event",
      event: {
        _tag: "frame.ended",
        v: PROTOCOL_VERSION,
        run,
        at: this.now,
        job: job.id,
        outcome,
        ...(reason === undefined ? {} : { reason }),
      },
    });
    out.push({
      kind: "notify",
      to: { kind: "task", name: m.cfg.name },
      message: { _tag: "task.frameEnded", v: PROTOCOL_VERSION, run, at: this.now, model: m.cfg.name, frame: job.frame, outcome },
    });
  }

  private view(): SchedulerView {
    const completedByModel = new Map<string, number>();
    const models: ModelView[] = this.models.map((m) => {
      completedByModel.set(m.cfg.name, m.completed);
      return {
        name: m.cfg.name,
        periodMs: m.cfg.periodMs,
        dependsOn: m.cfg.dependsOn,
        completed: m.completed,
        queue: m.queue as ReadonlyArray<JobView>,
        costs: m.cfg.costs,
        wholeCycles: m.wholeCycles,
      };
    });
    const accelerators: AccelView[] = this.running.map((r, index) => ({
      index,
      id: this.cfg.accelerators[index]!.id,
      idle: r === undefined,
      busyUntil: r === undefined ? this.now : r.completesAt,
    }));
    return { now: this.now, models, accelerators, completedByModel };
  }

  private dispatch(out: KernelEffect[]) {
    const decision = this.cfg.policy.decide(this.view());
    for (const d of decision.drops) {
      const job = this.findJob(d.job);
      if (job.running) throw new Error(`policy ${this.cfg.policy.name} dropped running job ${d.job}`);
      this.decisions++;
      this.end(job, "dropped", out, d.reason);
    }
    for (const d of decision.dispatches) {
      const job = this.findJob(d.job);
      if (job.running || job.outcome !== undefined) throw new Error(`policy ${this.cfg.policy.name} dispatched unavailable job ${d.job}`);
      if (this.running[d.acc] !== undefined) throw new Error(`policy ${this.cfg.policy.name} dispatched to busy accelerator ${d.acc}`);
      const layerCount = Math.min(d.layerCount, job.layerCount - job.nextLayer);
      this.decisions++;
      job.running = true;
      job.acc = d.acc;
      job.dispatchAt ??= this.now;
      this.running[d.acc] = { job, firstLayer: job.nextLayer, layerCount, completesAt: Number.NaN, energyMJ: 0 };
      const acc = this.cfg.accelerators[d.acc]!.id;
      this.request(out, { kind: "accel", id: acc }, {
        _tag: "block.dispatch",
        v: PROTOCOL_VERSION,
        run: this.cfg.run,
        at: this.now,
        acc,
        job: job.id,
        model: this.models[job.modelIndex]!.cfg.name,
        frame: job.frame,
        firstLayer: job.nextLayer,
        layerCount,
        timing: this.timing,
      });
    }
  }

  private applyDispatchResults(replies: ReadonlyArray<KernelReply>): KernelEffect[] {
    const out: KernelEffect[] = [];
    for (const reply of replies) {
      if (reply._tag !== "block.result") throw new Error(`expected block.result, got ${reply._tag}`);
      const a = this.cfg.accelerators.findIndex((x) => x.id === reply.acc);
      const r = this.running[a];
      if (r === undefined || r.job.id !== reply.job || r.firstLayer !== reply.firstLayer) {
        throw new Error(`block result for ${reply.job} from ${reply.acc} does not match the block in flight`);
      }
      r.completesAt = reply.completesAt;
      r.energyMJ = reply.energyMJ;
      r.job.energyMJ += reply.energyMJ;
      out.push({
        kind: "event",
        event: {
          _tag: "block.dispatched",
          v: PROTOCOL_VERSION,
          run: this.cfg.run,
          at: this.now,
          acc: reply.acc,
          job: reply.job,
          firstLayer: reply.firstLayer,
          layerCount: reply.layerCount,
          completesAt: reply.completesAt,
          energyMJ: reply.energyMJ,
        },
      });
    }
    return out.concat(this.advance());
  }

  private advance(): KernelEffect[] {
    if (this.models.every((m) => m.nextAt === null)) {
      this.phase = "done";
      return [{ kind: "event", event: { _tag: "run.finished", v: PROTOCOL_VERSION, run: this.cfg.run, at: this.now } }, { kind: "finished" }];
    }
    const b = this.cfg.baseTickMs;
    let next = (Math.floor(this.now / b) + 1) * b;
    for (const r of this.running) if (r !== undefined && r.completesAt < next) next = r.completesAt;
    this.now = next;
    return this.beginEvent();
  }

  private modelState(name: string): ModelState {
    const i = this.modelIndex.get(name);
    if (i === undefined) throw new Error(`unknown model ${name}`);
    return this.models[i]!;
  }

  private findJob(id: string): Job {
    const name = id.slice(0, id.lastIndexOf(":"));
    const job = this.modelState(name).queue.find((j) => j.id === id);
    if (job === undefined) throw new Error(`unknown or finished job ${id}`);
    return job;
  }
}
