/**
 * One step of the scheduler kernel: `kernelStep(state, input)` → the next state and the effects to
 * carry out, as data. The state it is given is never changed: the step works on a draft that
 * copies what it changes (the per-step maps and arrays at once; a model, a job or a chunk of the
 * job table on its first change) and shares everything else. Inside, the step is imperative.
 *
 * Each event time t goes through these steps, each of which may wait for replies:
 *   inject   model tasks that are due release frames (task.tick → task.released)
 *   retire   finished blocks end; a job whose last block finished completes (on time or late);
 *            with cascade semantics its children's tasks are told (task.parentEnded → released)
 *   chain    bounded chains (kernel-chain.ts, when on): jobs' next blocks behind their own
 *   decide   runtime drops, then the policy's drops and dispatches (block.dispatch → block.result);
 *            children of dropped frames are told, and their frames end as dropped
 *   extend   bounded chains again: the chains the policy has just started
 *   advance  to the next event (the time source decides when that is: kernel-time.ts)
 * Replies are applied in request order, never in arrival order (DESIGN.md §4).
 */
import { jobId } from "../contracts/job-id";
import type { DispatchDecision, DropDecision, Outcome, ReleasedFrame, TaskReleased } from "../contracts/messages";
import { PROTOCOL_VERSION } from "../contracts/messages";
import type { Dispatch, SchedulerView } from "../policies/types";
import { type Job, type KernelFields, KernelState, type Running, type Step, appendTo } from "./kernel-state";
import { type Mutable, type StepMode, pastSkips, pushWindow, runLength } from "./kernel-draft";
import type { KernelEffect, KernelInput, KernelReply } from "./kernel-types";
import { buildView } from "./kernel-view";
import { commitPoint, nextInQueue, queueEnd, takesBlock } from "./kernel-queue";
import { cancelQueuedOf, holdsBlock } from "./kernel-chain";
import { BlockDraft } from "./kernel-blocks";
import { awaited, releaseArrived, releaseAsked, releaseTaken, releasesOpen } from "./kernel-release";

/** The fields of a decision event the kernel stamps itself. */
type Stamped = "_tag" | "v" | "run" | "at" | "n" | "scores";

/**
 * Applies `input` to `state`: the next state and the effects. `state` is left as it was — unless
 * `mode` is "transient" (a driver that never looks at an earlier state: kernel-draft.ts).
 */
export const kernelStep = (state: KernelState, input: KernelInput, mode: StepMode = "persistent"): { readonly state: KernelState; readonly effects: KernelEffect[] } => {
  if (mode === "persistent" && input.kind === "reply" && input.at === undefined && state.pending.get(input.corr) === undefined && state.pending.has(input.corr)) {
    // a reply that does not complete its step only joins the others (no draft needed)
    let outstanding = 0;
    for (const r of state.pending.values()) if (r === undefined) outstanding++;
    if (outstanding > 1) {
      state.fixed.time.checkReply(input.corr, input.at);
      return { state: new KernelState({ ...fieldsOf(state), pending: new Map(state.pending).set(input.corr, input.reply) }), effects: [] };
    }
  }
  const draft = new Draft(state, mode === "transient");
  const effects = input.kind === "start" ? draft.start() : input.kind === "clock" ? draft.onClock(input.at) : draft.onReply(input.corr, input.reply, input.at);
  return { state: draft.done(), effects };
};

const fieldsOf = (s: KernelState): KernelFields => s;

/** The event loop, on a draft of the state. */
class Draft extends BlockDraft {
  // ─── inputs ───────────────────────────────────────────────────────────────────────────────

  start(): KernelEffect[] {
    if (this.step !== "new") throw new Error("kernel already started");
    return this.beginEvent();
  }

  /**
   * Apply the reply to request `corr`; returns the next effects (empty while replies are
   * outstanding). Live mode: `at` is the clock reading when the reply arrived.
   */
  onReply(corr: number, reply: KernelReply, at?: number): KernelEffect[] {
    this.fixed.time.checkReply(corr, at);
    if (at !== undefined && at > this.liveNow) this.liveNow = at;
    const a = this.inflight.get(corr);
    if (a !== undefined) {
      // a request that did not hold its step (live: every request; virtual time: a release asked ahead)
      const inflight = new Map(this.inflight);
      inflight.delete(corr);
      this.inflight = inflight;
      if (a < 0 && reply._tag === "task.released") {
        // releases asked ahead: a task's answer is kept, applied when due (kernel-release.ts)
        this.releases = releaseArrived(this.releases!, corr, reply, this.modelIndex(reply.model), this.parentOutcome.has(corr));
        return this.step === "waiting" ? this.advance() : [];
      }
      if (reply._tag !== "block.result") throw new Error(`request ${corr} dispatched a block, the reply is ${reply._tag}`);
      const out = this.blockOver(a, reply);
      return this.step === "waiting" ? out.concat(this.advance()) : out;
    }
    if (!this.pending.has(corr)) throw new Error(`unexpected reply to request ${corr}`);
    if (this.pending.get(corr) !== undefined) throw new Error(`duplicate reply to request ${corr}`);
    this.pending.set(corr, reply);
    for (const r of this.pending.values()) if (r === undefined) return [];
    const out: KernelEffect[] = [];
    if (this.pending.size === 1) {
      // the step's one reply (depth 1: every block)
      this.pending.clear();
      this.applyReply(corr, reply, out);
    } else {
      const replies = [...this.pending.entries()].sort((a, b) => a[0] - b[0]);
      this.pending.clear();
      for (const [c, r] of replies) this.applyReply(c, r!, out);
    }
    const next = this.continueFrom(this.step);
    if (out.length === 0) return next;
    for (const e of next) out.push(e);
    return out;
  }

  /** Live mode: the clock reads `at` (the host's wake-up after a `wait` effect). */
  onClock(at: number): KernelEffect[] {
    this.fixed.time.checkClock();
    if (at > this.liveNow) this.liveNow = at;
    return this.step === "waiting" ? this.advance() : [];
  }

  // ─── steps ────────────────────────────────────────────────────────────────────────────────

  /** Runs the steps after `done` until one must wait for replies (or the run ends); a chain step runs again until it commits nothing. */
  private continueFrom(done: Step): KernelEffect[] {
    const order: Step[] = ["inject", "retire", "chain", "decide", "extend"];
    const out: KernelEffect[] = [];
    for (let i = order.indexOf(done) + (done === "chain" || done === "extend" ? 0 : 1); i < order.length; i++) {
      this.step = order[i]!;
      if (this.step === "retire") this.retire(out);
      else if (this.step === "decide") this.decide(out);
      else this.continueChains(out);
      if (this.pending.size > 0) return out;
    }
    return out.concat(this.advance());
  }

  private beginEvent(): KernelEffect[] {
    this.step = "inject";
    const out: KernelEffect[] = [];
    if (this.now >= this.nextTuneAt) this.tune(out);
    const cascades = this.releases?.cascades ?? [];
    if (cascades.length > 0) this.releases = { ...this.releases!, cascades: [] };
    for (const c of cascades) this.applyReply(c.corr, this.injectedNow(c.reply), out);
    for (let i = 0; i < this.models.length; i++) {
      const nextAt = this.models[i]!.nextAt;
      if (nextAt !== null && nextAt <= this.now) {
        if (this.releases === undefined) this.tick(i, this.now, out);
        else this.releaseDue(i, out);
      }
    }
    if (this.pending.size > 0) return out;
    return out.concat(this.continueFrom("inject"));
  }

  /**
   * Asks model task `i` for the frame due by `at`. Releases asked ahead: a tick for a later time does
   * not hold the step (virtual time waits for its answer before the clock reaches `at`: advance).
   */
  private tick(i: number, at: number, out: KernelEffect[]) {
    const m = this.model(i);
    m.ticks++;
    const message = { _tag: "task.tick", v: PROTOCOL_VERSION, run: this.fixed.cfg.run, at, n: m.ticks } as const;
    const to = { kind: "task", name: this.fixed.models[i]!.cfg.name } as const;
    const holds = this.releases !== undefined && at > this.now ? false : this.fixed.time.holdsStep(to);
    const corr = this.request(out, to, message, holds);
    // a tick that holds the step (virtual time, due now) is answered and injected within it
    if (this.releases !== undefined && !holds) this.releases = releaseAsked(this.releases, i, corr);
  }

  /** Releases asked ahead: model `i`'s release is due — its kept answer is injected (and the next release asked), or the release is asked (kernel-release.ts). */
  private releaseDue(i: number, out: KernelEffect[]) {
    const kept = this.releases!.answered.get(i);
    if (kept !== undefined) {
      this.releases = releaseTaken(this.releases!, i);
      this.applyReply(kept.corr, this.injectedNow(kept.reply), out);
    } else if (!this.releases!.asked.has(i)) this.tick(i, Math.max(this.models[i]!.nextAt!, this.now), out);
  }

  /** An answer asked ahead, its frames stamped with the time they are injected. */
  private injectedNow(reply: TaskReleased): TaskReleased {
    return { ...reply, frames: reply.frames.map((f) => ({ ...f, injectAt: this.now })) };
  }

  private applyReply(corr: number, reply: KernelReply, out: KernelEffect[]) {
    if (reply._tag === "task.released") {
      const i = this.modelIndex(reply.model);
      const parentOutcome = this.parentOutcome.get(corr);
      if (parentOutcome !== undefined) {
        const rest = new Map(this.parentOutcome);
        rest.delete(corr);
        this.parentOutcome = rest;
      }
      if (parentOutcome === undefined) this.model(i).nextAt = reply.nextAt;
      for (const f of reply.frames) this.inject(i, f, parentOutcome === "dropped", out);
      // releases asked ahead: the model's next release is asked as soon as this one is injected
      if (parentOutcome === undefined && this.releases !== undefined && reply.nextAt !== null && !this.releases.asked.has(i)) {
        this.tick(i, Math.max(reply.nextAt, this.now), out);
      }
      return;
    }
    const a = this.fixed.accelIndex.get(reply.acc) ?? -1;
    if (this.running[a]?.queued !== undefined && this.queuedReply(a, reply)) return;
    const r = this.blockInFlight(a, reply);
    this.running[a] = { ...r, completesAt: reply.completesAt };
    this.account(r.job, reply, this.now, out);
  }

  private inject(mi: number, f: ReleasedFrame, orphan: boolean, out: KernelEffect[]) {
    const fixed = this.fixed.models[mi]!;
    // (the fields in copyJob's order: one object shape for every job)
    const job: Mutable<Job> = {
      id: jobId(fixed.cfg.name, f.frame), model: fixed.cfg.name, modelIndex: mi, index: this.jobs.length, variant: 0, frame: f.frame,
      releaseAt: f.releaseAt, injectAt: f.injectAt, deadline: f.deadline, layerCount: fixed.cfg.costs.layerCount,
      endLayer: f.exitAfter === undefined ? fixed.cfg.costs.layerCount : f.exitAfter + 1, skipLayers: f.skipLayers ?? [], nextLayer: 0,
      running: false, started: false, lastRanAt: f.injectAt, dispatchAt: undefined, completionAt: undefined, acc: undefined, energyMJ: 0,
      outcome: undefined, endedAt: undefined, orphan,
    };
    job.nextLayer = pastSkips(job, 0);
    this.addJob(job);
    const m = this.model(mi);
    m.queue = [...m.queue, job.index];
    out.push({ kind: "event", event: { _tag: "frame.released", v: PROTOCOL_VERSION, run: this.fixed.cfg.run, at: this.now, frame: f } });
    if (orphan) this.end(job.index, "dropped", out, "cascade parent was dropped");
    else if (job.nextLayer >= job.endLayer) {
      job.completionAt = this.now; // every layer skipped: nothing to run
      this.end(job.index, this.now <= job.deadline ? "onTime" : "late", out);
    }
  }

  private retire(out: KernelEffect[]) {
    const { time, semantics } = this.fixed;
    for (let a = 0; a < this.running.length; a++) {
      for (let r = this.running[a]; r !== undefined && time.blockOver(r, this.now, semantics.finishToleranceMs); r = this.running[a]) {
        const next = r.queued === undefined ? undefined : nextInQueue(r);
        this.running[a] = next;
        // live: the lag counts from the block's due completion to the clock's reading when its
        // accelerator is free again (with a tolerance the kernel's time may be the due time)
        if (r.dueAt !== undefined && r.cancelled !== true) this.lagMs = appendTo(this.lagMs, this.liveNow - r.dueAt);
        if (r.cancelled !== true) this.finishBlock(r, a, out);
        // the next queued block starts: booked now (a cancelled one is idle time)
        if (next?.result !== undefined && next.cancelled !== true) this.account(next.job, next.result, this.now, out);
      }
    }
  }

  /** Block `r` of accelerator `a` is over: its job moves on, and ends when that was its last block. */
  private finishBlock(r: Running, a: number, out: KernelEffect[]) {
    const job = this.mutJob(r.job);
    job.running = holdsBlock(this.running[a], r.job); // a chain's next block may be queued behind it
    job.nextLayer = pastSkips(job, job.nextLayer + r.layerCount);
    job.lastRanAt = r.completesAt;
    if (job.outcome !== undefined) return; // dropped while its last block ran
    if (job.nextLayer < job.endLayer) return;
    job.completionAt = r.completesAt;
    this.end(r.job, r.completesAt <= job.deadline ? "onTime" : "late", out);
  }

  private decide(out: KernelEffect[]) {
    this.runtimeDrops(out);
    const decision = this.policy.decide(this.view());
    for (const d of decision.drops) {
      const job = this.findJob(d.job);
      this.recordDecision(out, { action: "drop", job: this.job(job).id, reason: d.reason }, d.scores);
      this.end(job, "dropped", out, d.reason);
    }
    for (const d of decision.dispatches) this.dispatch(d, out);
    if (this.fixed.semantics.dropsStranded && this.pending.size === 0 && this.nothingCanHappen()) {
      // Nothing runs, nothing will be released: jobs the policy left waiting can never run.
      for (let i = 0; i < this.models.length; i++) while (this.models[i]!.queue.length > 0) this.end(this.models[i]!.queue[0]!, "dropped", out, "left unscheduled at the end of the run");
    }
  }

  private runtimeDrops(out: KernelEffect[]) {
    const { semantics } = this.fixed;
    for (let mi = 0; mi < this.models.length; mi++) {
      for (let i = 0; i < this.models[mi]!.queue.length; ) {
        const ji = this.models[mi]!.queue[i]!;
        const j = this.job(ji);
        if (j.started && !this.waitsInQueue(j)) {
          i++;
          continue;
        }
        if (semantics.expired(j.deadline, this.now)) this.end(ji, "dropped", out, "deadline passed before the frame started");
        else if (semantics.dropsOldestOnly) break; // XRBench only drops the oldest queued frame, repeatedly
        else i++;
      }
    }
  }

  /** Dispatch queues: the job's first block is committed but waits behind another (the frame has not started). */
  private waitsInQueue(j: Job): boolean {
    return j.running && (this.fixed.cfg.queueDepth ?? 1) > 1 && this.running[j.acc!]!.job !== j.index && j.nextLayer === pastSkips(j, 0);
  }

  private dispatch(d: Dispatch, out: KernelEffect[]) {
    const { job: id, acc } = d;
    const ji = this.findJob(id);
    const policy = this.policy.name;
    if (this.job(ji).running) throw new Error(`policy ${policy} dispatched job ${id}, which already has a block in flight`);
    const head = this.running[acc];
    if (acc < 0 || acc >= this.running.length || !takesBlock(head, this.now, this.fixed.cfg.queueDepth ?? 1, this.fixed.cfg.lookaheadMs)) {
      throw new Error(`policy ${policy} dispatched ${id} to busy or unknown accelerator ${acc}`);
    }
    // dispatch queues: a block committed to a busy accelerator starts when its queue ends (kernel-queue.ts),
    // never before now (live: a block whose reply is overdue has an end estimate in the past)
    const startAt = head === undefined ? undefined : Math.max(this.now, queueEnd(head, this.now));
    if (startAt !== undefined && Number.isNaN(startAt)) throw new Error(`policy ${policy} dispatched ${id} to accelerator ${acc} behind a block whose completion is not known yet`);
    const job = this.mutJob(ji);
    const fixed = this.fixed.models[job.modelIndex]!;
    if (!job.started) {
      // the variant is chosen at the first block and never changes (a later block's d.variant is ignored)
      const variant = d.variant ?? 0;
      const count = fixed.variants?.length ?? 1;
      if (!(Number.isInteger(variant) && variant >= 0 && variant < count)) {
        throw new Error(`policy ${policy} dispatched ${id} as variant ${variant}; model ${fixed.cfg.name} has ${count} variant(s)`);
      }
      job.variant = variant;
      if (variant > 0) this.model(job.modelIndex).downgraded++;
    }
    const layerCount = Math.max(1, Math.min(d.layerCount, runLength(job)));
    this.recordDecision(
      out,
      { action: "dispatch", job: job.id, acc: this.fixed.cfg.accelerators[acc]!.id, firstLayer: job.nextLayer, layerCount, ...(fixed.variants !== undefined ? { variant: job.variant } : {}) },
      d.scores,
    );
    this.commit(ji, acc, job.nextLayer, layerCount, startAt, undefined, out);
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
        run: this.fixed.cfg.run,
        at: this.now,
        n: this.decisions,
        ...what,
        ...(scores === undefined ? {} : { scores }),
      },
    });
  }

  private end(ji: number, outcome: Outcome, out: KernelEffect[], reason?: string) {
    const job = this.mutJob(ji);
    if (job.running && this.running[job.acc!]!.queued !== undefined) {
      // its queued blocks have not started: cancelled, their places in the queue stay as idle time (kernel-queue.ts)
      this.running[job.acc!] = cancelQueuedOf(this.running[job.acc!]!, ji);
      job.running = holdsBlock(this.running[job.acc!], ji);
    }
    job.outcome = outcome;
    job.endedAt = this.now;
    const fixed = this.fixed.models[job.modelIndex]!;
    const m = this.model(job.modelIndex);
    const i = m.queue.indexOf(ji);
    if (i >= 0) {
      m.queue = m.queue.filter((_, k) => k !== i);
      if (job.variant > 0) m.downgraded--;
    }
    if (outcome !== "dropped") m.completed++;
    if (outcome === "onTime") m.lastOnTimeAt = this.now;
    m.recent = pushWindow(m.recent, { at: this.now, missed: outcome !== "onTime" }, this.transient);
    const run = this.fixed.cfg.run;
    const name = fixed.cfg.name;
    out.push({
      kind: "event",
      event: { _tag: "frame.ended", v: PROTOCOL_VERSION, run, at: this.now, job: job.id, outcome, ...(reason === undefined ? {} : { reason }) },
    });
    out.push({
      kind: "notify",
      to: { kind: "task", name },
      message: { _tag: "task.frameEnded", v: PROTOCOL_VERSION, run, at: this.now, model: name, frame: job.frame, outcome },
    });
    if (!this.fixed.semantics.cascades || job.orphan) return;
    for (const child of fixed.children) {
      const corr = this.request(out, { kind: "task", name: child }, {
        _tag: "task.parentEnded",
        v: PROTOCOL_VERSION,
        run,
        at: this.now,
        parent: name,
        frame: job.frame,
        releaseAt: job.releaseAt,
        outcome,
      });
      this.parentOutcome = new Map(this.parentOutcome).set(corr, outcome);
    }
  }

  private advance(): KernelEffect[] {
    const { semantics, time, cfg } = this.fixed;
    const idle = this.running.every((r) => r === undefined);
    const exhausted = this.models.every((m) => m.nextAt === null);
    const drained = this.models.every((m) => m.queue.length === 0);
    const asking = this.parentOutcome.size > 0 || (this.releases !== undefined && releasesOpen(this.releases));
    if (semantics.over(exhausted, idle, drained) && !asking) {
      this.step = "done";
      return [{ kind: "event", event: { _tag: "run.finished", v: PROTOCOL_VERSION, run: cfg.run, at: this.now } }, { kind: "finished" }];
    }
    let tick = time.live ? Number.POSITIVE_INFINITY : semantics.nextTick(this.now, cfg.baseTickMs, this.models);
    // look-ahead: wake when a busy accelerator's queue comes within it (kernel-queue.ts)
    if (cfg.lookaheadMs !== undefined) {
      for (const r of this.running) {
        const at = commitPoint(r, this.now, cfg.queueDepth ?? 1, cfg.lookaheadMs);
        if (at < tick) tick = at;
      }
    }
    const next = time.next(this, tick, semantics.sameTimeEvents);
    if (next.kind === "event" && !time.live && this.releases !== undefined && awaited(this.releases, this.models, next.at)) {
      // virtual time: a release due by then was asked ahead and is not answered yet; its answer advances (onReply)
      this.step = "waiting";
      return [];
    }
    if (next.kind === "wait") {
      this.step = "waiting";
      return [{ kind: "wait", until: next.until }];
    }
    this.now = next.at;
    return this.beginEvent();
  }

  // ─── the policy's view ────────────────────────────────────────────────────────────────────

  private view(): SchedulerView {
    const since = this.now - this.fixed.cfg.missWindowMs;
    for (let i = 0; i < this.models.length; i++) {
      const w = this.models[i]!.recent;
      let start = w.start;
      while (start < w.end && w.items[start]!.at < since) start++;
      if (start !== w.start) this.model(i).recent = { items: w.items, start, end: w.end };
    }
    this.sealJobs(); // the policy (and whoever keeps the view) sees values no later change reaches
    this.sealModels();
    return buildView({
      now: this.now,
      blockSize: this.fixed.cfg.blockSize,
      quantumMs: this.fixed.cfg.quantumMs ?? 0,
      queueDepth: this.fixed.cfg.queueDepth ?? 1,
      lookaheadMs: this.fixed.cfg.lookaheadMs,
      accelerators: this.fixed.cfg.accelerators,
      fixed: this.fixed.models,
      models: this.models,
      running: this.running,
      jobs: this.jobs,
      reuse: !this.transient,
    });
  }
}
