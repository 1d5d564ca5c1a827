/**
 * The dashboard's state: a pure reducer over what the dashboard observes of a run — its RunEvents
 * (decoded at the edge), registrations and run control on the ctl subjects, slot leases, and
 * messages that did not decode — and the views the page draws (wire types below).
 *
 * No I/O and no clock: the sources (NATS, a replayed log) pass the wall time in. Metrics over the
 * sliding window reuse the run metrics of shared/src/domain/metrics.ts (modelMetrics, runSummary),
 * fed with FrameRecords rebuilt from the window's frames, so "UXCost" here means what it means in
 * every run result.
 */
import { type ControlMessage, type RunEvent, jobId, modelOfJob } from "@sdrm3/shared/contracts";
import { type FrameRecord, type ModelInfo, modelMetrics, runSummary } from "@sdrm3/shared/domain";

// ─── wire types (server → page, JSON over Server-Sent Events) ──────────────────────────────

/** What the dashboard knows about the run before any traffic (from flags or a log header). */
export interface RunInfo {
  readonly run: string;
  readonly mode: "live" | "replay";
  /** NATS URL (credentials masked) or the log's path. */
  readonly source: string;
  /** Replay speed (virtual ms per wall ms). */
  readonly speed?: number;
  readonly scenario?: string;
  readonly hardware?: string;
  readonly policy?: { readonly name: string; readonly params: Readonly<Record<string, number>> };
  readonly durationMs?: number;
  /** Accelerator slots, in index order (empty: learnt from traffic). */
  readonly accelerators: ReadonlyArray<{ readonly id: string; readonly dataflow: string; readonly numPes: number }>;
  /** Scenario models (empty: learnt from traffic, without ideal energies, so without UXCost). */
  readonly models: ReadonlyArray<ModelInfo & { readonly widths?: ReadonlyArray<number> }>;
}

/** One dispatched block: a bar on its accelerator's lane. */
export interface BlockView {
  readonly acc: string;
  readonly model: string;
  readonly job: string;
  readonly start: number;
  readonly end: number;
  readonly variant?: number;
}

/** A dropped frame: a mark on the drops lane (and on the lane of its last block, if it had one). */
export interface DropView {
  readonly model: string;
  readonly job: string;
  readonly at: number;
  readonly acc?: string;
}

export type AccState = "waiting" | "up" | "gone" | "released";

export interface AccView {
  readonly id: string;
  readonly dataflow?: string;
  readonly owner?: string;
  readonly state: AccState;
  /** Blocks dispatched to it so far. */
  readonly blocks: number;
  /** What happened to its ownership: virtual time (the run's now when seen) and text. */
  readonly history: ReadonlyArray<{ readonly at: number; readonly wall: number; readonly text: string; readonly kind: "claimed" | "gone" | "takeover" | "released" }>;
}

export interface ModelView {
  readonly name: string;
  readonly color: number;
  /** Target frame rate; `estimated` when learnt from the deadlines (no --scenario). */
  readonly targetFps: number | null;
  readonly estimated: boolean;
  readonly fps: number;
  readonly missRate: number;
  readonly energyPerFrameMJ: number | null;
  /** Width of the supernet variant of its latest block (1 = the full model). */
  readonly width: number | null;
  readonly released: number;
  readonly onTime: number;
  readonly late: number;
  readonly dropped: number;
  readonly uxCost: number | null;
}

export interface TuneView {
  readonly step: number;
  readonly at: number;
  readonly params: Readonly<Record<string, number>>;
  readonly info: Readonly<Record<string, number>>;
}

/** "damaged": the replayed log is truncated or has a gap (its lines say where); what came before it is shown. */
export type Phase = "waiting" | "running" | "finished" | "stopped" | "damaged";

export interface Snapshot {
  readonly phase: Phase;
  /** What the page says at the top (e.g. "no events for run r yet"). */
  readonly message: string;
  /** Virtual time of the latest event, ms. */
  readonly now: number;
  readonly events: number;
  readonly malformed: number;
  readonly lastMalformed?: string;
  readonly control: number;
  readonly windowMs: number;
  readonly accelerators: ReadonlyArray<AccView>;
  readonly models: ReadonlyArray<ModelView>;
  readonly params: Readonly<Record<string, number>>;
  readonly tunes: ReadonlyArray<TuneView>;
  readonly uxCost: number | null;
  readonly uxSeries: ReadonlyArray<{ readonly at: number; readonly v: number }>;
}

/** One push: the blocks and drops since the last one, and the whole (small) snapshot. */
export interface Update {
  readonly blocks: ReadonlyArray<BlockView>;
  readonly drops: ReadonlyArray<DropView>;
  readonly snapshot: Snapshot;
}

// ─── the reducer ────────────────────────────────────────────────────────────────────────────

interface OpenFrame {
  model: string;
  frame: number;
  releaseAt: number;
  injectAt: number;
  deadline: number;
  energyMJ: number;
  dispatchAt: number | undefined;
  lastCompletesAt: number | undefined;
  acc: string | undefined;
  variant: number | undefined;
}

interface EndedFrame {
  readonly endAt: number;
  readonly record: FrameRecord;
}

interface AccState_ {
  id: string;
  dataflow: string | undefined;
  owner: string | undefined;
  state: AccState;
  blocks: number;
  history: Array<AccView["history"][number]>;
}

export interface ModelOptions {
  /** Sliding window of the per-model figures and UXCost, virtual ms. Default 1000. */
  readonly windowMs?: number;
  /** Blocks kept for a page that connects later (the most recent). Default 20 000. */
  readonly keepBlocks?: number;
}

/** After this long (wall ms) with no traffic, no registration and no lease bucket, the run is "not found". */
export const NOT_FOUND_AFTER_MS = 5_000;

export class DashboardModel {
  readonly windowMs: number;
  private readonly keepBlocks: number;
  private readonly infos = new Map<string, ModelInfo & { readonly widths?: ReadonlyArray<number> }>();
  private readonly estimated = new Map<string, ModelInfo>();
  private readonly modelOrder: string[] = [];
  private readonly accs = new Map<string, AccState_>();
  private readonly open = new Map<string, OpenFrame>();
  private ended: EndedFrame[] = [];
  private readonly variantOf = new Map<string, number>();
  private readonly released = new Map<string, { released: number; onTime: number; late: number; dropped: number }>();
  private blocks: BlockView[] = [];
  private blocksBase = 0;
  private drops: DropView[] = [];
  private dropsBase = 0;
  private params: Record<string, number>;
  private readonly tunes: TuneView[] = [];
  private readonly uxSeries: Array<{ at: number; v: number }> = [];
  private phase: Phase = "waiting";
  private stopReason: string | undefined;
  private defect: string | undefined;
  private now = 0;
  private events = 0;
  private malformed = 0;
  private lastMalformed: string | undefined;
  private control = 0;
  private bucketSeen = false;
  private readonly startedWall: number;

  constructor(
    readonly info: RunInfo,
    startedWall: number,
    opts: ModelOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 1_000;
    this.keepBlocks = opts.keepBlocks ?? 20_000;
    this.startedWall = startedWall;
    for (const m of info.models) {
      this.infos.set(m.name, m);
      this.modelOrder.push(m.name);
    }
    for (const a of info.accelerators) this.acc(a.id).dataflow = a.dataflow;
    this.params = { ...(info.policy?.params ?? {}) };
  }

  private acc(id: string): AccState_ {
    let a = this.accs.get(id);
    if (a === undefined) {
      a = { id, dataflow: undefined, owner: undefined, state: "waiting", blocks: 0, history: [] };
      this.accs.set(id, a);
    }
    return a;
  }

  private model(name: string): void {
    if (!this.modelOrder.includes(name)) this.modelOrder.push(name);
  }

  /** A message on an event subject that did not decode (or belongs to another run): skipped, counted. */
  malformedEvent(reason: string): void {
    this.malformed++;
    this.lastMalformed = reason.length > 200 ? `${reason.slice(0, 197)}...` : reason;
  }

  /**
   * The replayed log is damaged (a missing, repeated or cut line, or no run.finished at its end):
   * the page says so from then on, whatever the events say; the first defect is kept.
   */
  logDefect(reason: string): void {
    this.defect ??= reason.length > 300 ? `${reason.slice(0, 297)}...` : reason;
  }

  /** A decoded run event. */
  event(e: RunEvent): void {
    this.events++;
    if (this.phase === "waiting") this.phase = "running";
    if (e.at > this.now) this.now = e.at;
    switch (e._tag) {
      case "frame.released": {
        const f = e.frame;
        this.model(f.model);
        if (!this.infos.has(f.model) && !this.estimated.has(f.model) && f.deadline > f.releaseAt) {
          const period = f.deadline - f.releaseAt;
          this.estimated.set(f.model, { name: f.model, periodMs: period, targetFps: 1000 / period, idealFrameEnergyMJ: Number.NaN, optimisticLatencyMs: 0 });
        }
        this.open.set(jobId(f.model, f.frame), {
          model: f.model,
          frame: f.frame,
          releaseAt: f.releaseAt,
          injectAt: f.injectAt,
          deadline: f.deadline,
          energyMJ: 0,
          dispatchAt: undefined,
          lastCompletesAt: undefined,
          acc: undefined,
          variant: undefined,
        });
        this.count(f.model).released++;
        return;
      }
      case "block.dispatched": {
        const f = this.open.get(e.job);
        const model = f?.model ?? modelOfJob(e.job);
        this.model(model);
        if (f !== undefined) {
          f.energyMJ += e.energyMJ;
          f.dispatchAt ??= e.at;
          f.lastCompletesAt = e.completesAt;
          f.acc = e.acc;
          if (e.variant !== undefined) f.variant = e.variant;
        }
        if (e.variant !== undefined) this.variantOf.set(model, e.variant);
        const a = this.acc(e.acc);
        a.blocks++;
        if (a.state === "waiting") a.state = "up";
        this.blocks.push({ acc: e.acc, model, job: e.job, start: e.at, end: e.completesAt, ...(e.variant === undefined ? {} : { variant: e.variant }) });
        if (this.blocks.length > 2 * this.keepBlocks) {
          const cut = this.blocks.length - this.keepBlocks;
          this.blocks = this.blocks.slice(cut);
          this.blocksBase += cut;
        }
        return;
      }
      case "frame.ended": {
        const f = this.open.get(e.job);
        const model = f?.model ?? modelOfJob(e.job);
        const c = this.count(model);
        c[e.outcome]++;
        if (e.outcome === "dropped") {
          this.drops.push({ model, job: e.job, at: e.at, ...(f?.acc === undefined ? {} : { acc: f.acc }) });
          if (this.drops.length > 2 * this.keepBlocks) {
            const cut = this.drops.length - this.keepBlocks;
            this.drops = this.drops.slice(cut);
            this.dropsBase += cut;
          }
        }
        if (f === undefined) return;
        this.open.delete(e.job);
        this.ended.push({
          endAt: e.at,
          record: {
            model: f.model,
            frame: f.frame,
            releaseAt: f.releaseAt,
            injectAt: f.injectAt,
            deadline: f.deadline,
            outcome: e.outcome,
            dispatchAt: f.dispatchAt,
            completionAt: e.outcome === "dropped" ? undefined : f.lastCompletesAt,
            acc: undefined,
            energyMJ: f.energyMJ,
            ...(f.variant === undefined ? {} : { variant: f.variant }),
          },
        });
        return;
      }
      case "tune":
        this.params = { ...this.params, ...e.params };
        this.tunes.push({ step: e.step, at: e.at, params: e.params, info: e.info });
        if (this.tunes.length > 50) this.tunes.shift();
        return;
      case "run.finished":
        this.phase = "finished";
        return;
      case "decision":
        return;
    }
  }

  private count(model: string) {
    let c = this.released.get(model);
    if (c === undefined) {
      c = { released: 0, onTime: 0, late: 0, dropped: 0 };
      this.released.set(model, c);
    }
    return c;
  }

  /** A decoded message on the run's ctl subjects (registrations, run control). */
  controlMessage(m: ControlMessage, wall: number): void {
    this.control++;
    switch (m._tag) {
      case "accel.register":
        this.acc(m.acc).dataflow ??= m.dataflow;
        this.owner(m.acc, m.host, wall);
        return;
      case "run.control":
        if (m.op === "finished") this.phase = "finished";
        else if (m.op === "stop") {
          this.phase = "stopped";
          this.stopReason = m.reason;
        }
        return;
      default:
        return;
    }
  }

  /** The lease bucket of the run exists (a run by that id has started). */
  leaseBucket(exists: boolean): void {
    if (exists) this.bucketSeen = true;
  }

  /** What the slot's lease says now: its owner, or none (never claimed, released or expired). */
  lease(slot: string, owner: string | undefined, wall: number): void {
    if (owner !== undefined) {
      this.owner(slot, owner, wall);
      return;
    }
    const a = this.accs.get(slot);
    if (a === undefined || a.state !== "up") return;
    if (this.phase === "finished" || this.phase === "stopped") {
      a.state = "released";
      a.history.push({ at: this.now, wall, text: `${a.owner ?? "owner"} released it (run over)`, kind: "released" });
    } else {
      a.state = "gone";
      a.history.push({ at: this.now, wall, text: `${a.owner ?? "owner"} gone: its lease lapsed`, kind: "gone" });
    }
  }

  private owner(slot: string, owner: string, wall: number): void {
    const a = this.acc(slot);
    if (a.owner === owner && a.state === "up") return;
    const previous = a.owner;
    if (previous !== undefined && previous !== owner && a.state === "up") {
      // the new owner claimed it before we saw the gap: the old one is gone all the same
      a.history.push({ at: this.now, wall, text: `${previous} gone: its lease lapsed`, kind: "gone" });
    }
    const takeover = previous !== undefined && previous !== owner;
    a.owner = owner;
    a.state = "up";
    a.history.push(
      takeover
        ? { at: this.now, wall, text: `spare ${owner} took over from ${previous}`, kind: "takeover" }
        : { at: this.now, wall, text: `claimed by ${owner}`, kind: "claimed" },
    );
    if (a.history.length > 20) a.history.shift();
  }

  /** Blocks and drops from a position on (for a page's next push), and the new positions. */
  since(pos: { blocks: number; drops: number }): { blocks: BlockView[]; drops: DropView[]; pos: { blocks: number; drops: number } } {
    const b = Math.max(0, pos.blocks - this.blocksBase);
    const d = Math.max(0, pos.drops - this.dropsBase);
    return {
      blocks: this.blocks.slice(Math.max(b, this.blocks.length - this.keepBlocks)),
      drops: this.drops.slice(Math.max(d, this.drops.length - this.keepBlocks)),
      pos: { blocks: this.blocksBase + this.blocks.length, drops: this.dropsBase + this.drops.length },
    };
  }

  /** The snapshot at wall time `wall` (also samples the UXCost series). */
  snapshot(wall: number): Snapshot {
    const w = this.windowMs;
    const from = this.now - w;
    if (this.ended.length > 0 && this.ended[0]!.endAt < from) this.ended = this.ended.filter((f) => f.endAt >= from);
    // before a whole window has passed, the window is the time so far
    const span = Math.max(1e-9, Math.min(w, this.now));
    const byModel = new Map<string, FrameRecord[]>();
    for (const f of this.ended) {
      const list = byModel.get(f.record.model);
      if (list === undefined) byModel.set(f.record.model, [f.record]);
      else list.push(f.record);
    }
    const metrics = this.modelOrder.map((name) => {
      const info = this.infos.get(name) ?? this.estimated.get(name);
      const frames = byModel.get(name) ?? [];
      return { name, info, m: info === undefined ? undefined : modelMetrics(info, frames, span), frames };
    });
    const exact = metrics.filter((x) => this.infos.has(x.name) && x.m !== undefined && x.frames.length > 0).map((x) => x.m!);
    const uxCost = this.infos.size === 0 || exact.length === 0 ? null : runSummary(exact, span).uxCost;
    const step = w / 50;
    const lastSample = this.uxSeries[this.uxSeries.length - 1];
    if (uxCost !== null && (lastSample === undefined || this.now >= lastSample.at + step)) {
      this.uxSeries.push({ at: this.now, v: uxCost });
      if (this.uxSeries.length > 500) this.uxSeries.shift();
    }
    const models: ModelView[] = metrics.map(({ name, info, m, frames }, color) => {
      const exactInfo = this.infos.get(name);
      const variant = this.variantOf.get(name);
      const counts = this.released.get(name) ?? { released: 0, onTime: 0, late: 0, dropped: 0 };
      return {
        name,
        color,
        targetFps: info?.targetFps ?? null,
        estimated: exactInfo === undefined,
        fps: m?.achievedFps ?? 0,
        missRate: m?.deadlineMissRate ?? 0,
        energyPerFrameMJ: m === undefined || frames.length === 0 ? null : m.energyMJ / frames.length,
        width: variant === undefined ? null : (exactInfo?.widths?.[variant] ?? null),
        ...counts,
        uxCost: exactInfo === undefined ? null : (m?.uxCost ?? null),
      };
    });
    const quiet = this.events === 0 && this.control === 0 && !this.bucketSeen;
    const message =
      this.defect !== undefined
        ? `run ${this.info.run}: the log is damaged, ${this.defect}; shown up to there`
        : this.phase === "stopped"
        ? `run ${this.info.run} stopped: ${this.stopReason ?? "no reason given"}`
        : this.phase === "finished"
          ? `run ${this.info.run} finished at ${this.now.toFixed(1)} ms`
          : this.events > 0
            ? `run ${this.info.run}: ${this.info.mode === "replay" ? "replaying" : "running"}`
            : quiet && wall - this.startedWall >= NOT_FOUND_AFTER_MS && this.info.mode === "live"
              ? `run ${this.info.run} not found: no events, registrations or slot leases for it yet`
              : `no events for run ${this.info.run} yet`;
    return {
      phase: this.defect === undefined ? this.phase : "damaged",
      message,
      now: this.now,
      events: this.events,
      malformed: this.malformed,
      ...(this.lastMalformed === undefined ? {} : { lastMalformed: this.lastMalformed }),
      control: this.control,
      windowMs: w,
      accelerators: [...this.accs.values()].map((a) => ({
        id: a.id,
        ...(a.dataflow === undefined ? {} : { dataflow: a.dataflow }),
        ...(a.owner === undefined ? {} : { owner: a.owner }),
        state: a.state,
        blocks: a.blocks,
        history: [...a.history],
      })),
      models,
      params: { ...this.params },
      tunes: [...this.tunes],
      uxCost,
      uxSeries: [...this.uxSeries],
    };
  }

  /** Slots known so far (from the hardware, registrations and dispatches). */
  slots(): string[] {
    return [...this.accs.keys()];
  }
}
