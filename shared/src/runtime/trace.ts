/**
 * Timeline export to the Chrome / Perfetto trace-event format (JSON object form:
 * {"displayTimeUnit":"ms","otherData":{…},"traceEvents":[…]}), streamed from a run's events with
 * flat memory (DESIGN.md §9, docs/event-log.md):
 *
 *   pid 1        the SoC ("<hardware> — <scenario> / <policy>")
 *   tid i+1      accelerator i (thread_name "acc0 WS 2048 PEs"): one complete slice "X" per block,
 *                name = model, args: model, frame, job, layers, energy, decision number, scores
 *   tid n+1      "frames": instant events "i" for drops (with the reason) and deadline misses, and
 *                for other run events (an online tuning step, with its parameters)
 *   counters     "C" "ready queue" (released, unfinished jobs per model) and "energy mJ" (cumulative)
 *
 * Times are virtual ms × 1000 (µs), rounded to the nanosecond. In the xrbench mode the runtime
 * treats a block as finished up to 0.01 ms before its completion time, so the next block on that
 * accelerator may start before the previous one's recorded end: each accelerator holds its last
 * slice back and clamps its end to the next start (args.clampedMs says by how much), so slices on
 * one track never overlap.
 */
import type { LogHeader } from "../contracts/log";
import { jobId, modelOfJob, parseJobId } from "../contracts/job-id";
import type { RunEvent } from "../contracts/messages";

export type TraceMeta = Pick<LogHeader, "run" | "scenario" | "hardware" | "policy" | "seed" | "durationMs" | "mode"> & {
  readonly sdrm3Version?: string;
};

const PID = 1;
const ns = (ms: number) => Math.round(ms * 1e6);

interface HeldSlice {
  readonly tsNs: number;
  readonly endNs: number;
  readonly name: string;
  readonly args: Record<string, unknown>;
}

export interface TraceStats {
  slices: number;
  instants: number;
  counters: number;
  bytes: number;
}

/**
 * Builds a trace from RunEvents fed in order (`event`), writing JSON text in chunks of about
 * `chunkChars` to `write`; `finish()` closes the document.
 */
export class TraceBuilder {
  readonly stats: TraceStats = { slices: 0, instants: 0, counters: 0, bytes: 0 };
  private chunk: string[] = [];
  private chunkLen = 0;
  private first = true;
  private readonly accTid = new Map<string, number>();
  private readonly framesTid: number;
  private readonly held = new Map<number, HeldSlice>();
  private readonly scoresOf = new Map<string, { n: number; scores: Readonly<Record<string, number>> | undefined }>();
  private readonly deadlineOf = new Map<string, number>();
  private readonly queue = new Map<string, number>();
  private queueDirtyAt: number | undefined;
  private energy = 0;
  private energyDirtyAt: number | undefined;
  private finished = false;

  constructor(
    meta: TraceMeta,
    private readonly write: (text: string) => void,
    private readonly chunkChars = 64 * 1024,
  ) {
    this.raw(
      `{"displayTimeUnit":"ms","otherData":${JSON.stringify({
        run: meta.run,
        scenario: meta.scenario.name,
        hardware: meta.hardware.name,
        policy: meta.policy.name,
        params: meta.policy.params,
        seed: meta.seed,
        durationMs: meta.durationMs,
        mode: meta.mode,
        ...(meta.sdrm3Version === undefined ? {} : { sdrm3Version: meta.sdrm3Version }),
        timeUnit: "virtual ms x 1000 = us",
      })},"traceEvents":[\n`,
    );
    const accs = meta.hardware.accelerators;
    this.framesTid = accs.length + 1;
    this.emit({ ph: "M", pid: PID, tid: 0, name: "process_name", args: { name: `${meta.hardware.name} — ${meta.scenario.name} / ${meta.policy.name}` } });
    accs.forEach((a, i) => {
      this.accTid.set(a.id, i + 1);
      this.emit({ ph: "M", pid: PID, tid: i + 1, name: "thread_name", args: { name: `${a.id} ${a.dataflow} ${a.numPes} PEs` } });
      this.emit({ ph: "M", pid: PID, tid: i + 1, name: "thread_sort_index", args: { sort_index: i } });
    });
    this.emit({ ph: "M", pid: PID, tid: this.framesTid, name: "thread_name", args: { name: "frames (drops, deadline misses)" } });
    this.emit({ ph: "M", pid: PID, tid: this.framesTid, name: "thread_sort_index", args: { sort_index: accs.length } });
    for (const m of meta.scenario.models) this.queue.set(m.name, 0);
  }

  event(e: RunEvent): void {
    switch (e._tag) {
      case "frame.released": {
        const job = jobId(e.frame.model, e.frame.frame);
        this.deadlineOf.set(job, e.frame.deadline);
        this.bumpQueue(e.frame.model, +1, e.at);
        return;
      }
      case "decision":
        if (e.action === "dispatch") this.scoresOf.set(`${e.job}@${e.firstLayer}`, { n: e.n, scores: e.scores });
        return;
      case "block.dispatched": {
        const tid = this.accTid.get(e.acc);
        if (tid === undefined) return;
        const key = `${e.job}@${e.firstLayer}`;
        const decision = this.scoresOf.get(key);
        this.scoresOf.delete(key);
        const tsNs = ns(e.at);
        this.releaseHeld(tid, tsNs);
        const { model, frame } = parseJobId(e.job);
        this.held.set(tid, {
          tsNs,
          endNs: Math.max(tsNs, ns(e.completesAt)),
          name: model,
          args: {
            model,
            frame,
            job: e.job,
            layers: `${e.firstLayer}..${e.firstLayer + e.layerCount - 1}`,
            layerCount: e.layerCount,
            energyMJ: e.energyMJ,
            ...(e.variant === undefined ? {} : { variant: e.variant }),
            ...(decision === undefined ? {} : { decision: decision.n }),
            ...(decision?.scores === undefined ? {} : { scores: decision.scores }),
          },
        });
        this.flushCounters(e.at);
        this.energy += e.energyMJ;
        this.energyDirtyAt = e.at;
        return;
      }
      case "frame.ended": {
        const deadline = this.deadlineOf.get(e.job);
        this.deadlineOf.delete(e.job);
        const model = modelOfJob(e.job);
        this.bumpQueue(model, -1, e.at);
        if (e.outcome === "onTime") return;
        const dropped = e.outcome === "dropped";
        this.emit({
          ph: "i",
          s: "t",
          cat: "frame",
          name: `${dropped ? "drop" : "deadline miss"} ${e.job}`,
          pid: PID,
          tid: this.framesTid,
          ts: ns(e.at) / 1000,
          args: {
            job: e.job,
            model,
            outcome: e.outcome,
            ...(e.reason === undefined ? {} : { reason: e.reason }),
            ...(deadline === undefined ? {} : { deadlineMs: deadline, lateByMs: e.at - deadline }),
          },
        });
        this.stats.instants++;
        return;
      }
      case "run.finished":
        return;
      default: {
        // other events (e.g. an online tuning step): an instant on the frames track with their fields
        const { _tag, v: _v, run: _run, at, ...args } = e as { _tag: string; v: unknown; run: unknown; at: number };
        this.flushCounters(at);
        this.emit({ ph: "i", s: "t", cat: "run", name: _tag, pid: PID, tid: this.framesTid, ts: ns(at) / 1000, args });
        this.stats.instants++;
        return;
      }
    }
  }

  /** Writes what is held back and closes the JSON document. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.flushCounters(Number.POSITIVE_INFINITY);
    for (const tid of [...this.held.keys()].sort((a, b) => a - b)) this.releaseHeld(tid, Number.POSITIVE_INFINITY);
    this.raw("\n]}\n");
    this.drain();
  }

  private releaseHeld(tid: number, nextStartNs: number) {
    const h = this.held.get(tid);
    if (h === undefined) return;
    this.held.delete(tid);
    const endNs = Math.min(h.endNs, nextStartNs);
    const args = endNs < h.endNs ? { ...h.args, clampedMs: (h.endNs - endNs) / 1e6 } : h.args;
    this.emit({ ph: "X", cat: "block", name: h.name, pid: PID, tid, ts: h.tsNs / 1000, dur: (endNs - h.tsNs) / 1000, args });
    this.stats.slices++;
  }

  private bumpQueue(model: string, delta: number, at: number) {
    this.flushCounters(at);
    this.queue.set(model, (this.queue.get(model) ?? 0) + delta);
    this.queueDirtyAt = at;
  }

  /** Counter values change many times per instant: write each counter once per timestamp, when time moves on. */
  private flushCounters(now: number) {
    if (this.queueDirtyAt !== undefined && this.queueDirtyAt !== now) {
      this.emit({ ph: "C", name: "ready queue", pid: PID, tid: 0, ts: ns(this.queueDirtyAt) / 1000, args: Object.fromEntries(this.queue) });
      this.stats.counters++;
      this.queueDirtyAt = undefined;
    }
    if (this.energyDirtyAt !== undefined && this.energyDirtyAt !== now) {
      this.emit({ ph: "C", name: "energy mJ", pid: PID, tid: 0, ts: ns(this.energyDirtyAt) / 1000, args: { energy: this.energy } });
      this.stats.counters++;
      this.energyDirtyAt = undefined;
    }
  }

  private emit(obj: Record<string, unknown>) {
    this.raw(this.first ? JSON.stringify(obj) : `,\n${JSON.stringify(obj)}`);
    this.first = false;
  }

  private raw(text: string) {
    this.chunk.push(text);
    this.chunkLen += text.length;
    if (this.chunkLen >= this.chunkChars) this.drain();
  }

  private drain() {
    if (this.chunk.length === 0) return;
    const text = this.chunk.join("");
    this.chunk = [];
    this.chunkLen = 0;
    this.stats.bytes += Buffer.byteLength(text, "utf8");
    this.write(text);
  }
}
