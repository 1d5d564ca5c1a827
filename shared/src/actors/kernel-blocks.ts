/**
 * The blocks on the accelerators, for a step's draft (kernel-step.ts runs the event loop on it):
 * committing a block (the dispatch request), continuing bounded chains (kernel-chain.ts), matching
 * an accelerator's reply to its block (the head or a queued one: kernel-queue.ts) and booking an
 * executed block (its energy and `block.dispatched`).
 */
import type { BlockDispatch, BlockResult, TaskCommand } from "../contracts/messages";
import { PROTOCOL_VERSION } from "../contracts/messages";
import { blockLayers } from "../policies/common";
import type { Job, Running } from "./kernel-state";
import { DraftState, pastSkips, runLength } from "./kernel-draft";
import type { KernelEffect, Target } from "./kernel-types";
import { enqueueBlock, queuedBlockIndex, updateQueued } from "./kernel-queue";
import { chainTail } from "./kernel-chain";

/** A draft with the block operations of the event loop. */
export class BlockDraft extends DraftState {
  /** Sends a request; `holds`: whether it holds the step (default: the time source's rule for `to`). */
  protected request(out: KernelEffect[], to: Target, message: TaskCommand | BlockDispatch, holds = this.fixed.time.holdsStep(to)): number {
    const corr = ++this.corrSeq;
    if (holds) this.pending.set(corr, undefined);
    else this.inflight = new Map(this.inflight).set(corr, this.fixed.accelIndex.get(to.kind === "accel" ? to.id : "") ?? -1);
    out.push(holds || this.fixed.time.live ? { kind: "request", corr, to, message } : { kind: "request", corr, to, message, ahead: true });
    return corr;
  }

  /** Virtual time: the answer to a block committed behind another is kept until the block starts (false: not a queued block). */
  protected queuedReply(a: number, reply: BlockResult): boolean {
    const head = this.running[a]!;
    const i = queuedBlockIndex(head, reply, (j) => this.job(j).id);
    if (i < 0) return false;
    this.running[a] = updateQueued(head, i, (b) => ({ ...b, completesAt: reply.completesAt, result: reply }));
    return true;
  }

  protected blockInFlight(a: number, reply: BlockResult): Running {
    const r = this.running[a];
    if (r === undefined || this.job(r.job).id !== reply.job || r.firstLayer !== reply.firstLayer || this.fixed.cfg.accelerators[a]?.id !== reply.acc) {
      throw new Error(`block result for ${reply.job} from ${reply.acc} does not match the block in flight`);
    }
    return r;
  }

  /**
   * Live mode: accelerator `a`'s reply says its block is over; it ends when the scheduler handles
   * it (the clock reading, less the timing tolerance: kernel-time.ts), never before its due
   * completion nor before now. Retired at the next event (a queued block's, after the blocks
   * before it; a cancelled block's is not booked).
   */
  protected blockOver(a: number, reply: BlockResult): KernelEffect[] {
    const head = this.running[a];
    const qi = head === undefined || (this.job(head.job).id === reply.job && head.firstLayer === reply.firstLayer) ? -1 : queuedBlockIndex(head, reply, (j) => this.job(j).id);
    const r = qi >= 0 ? head!.queued![qi]! : this.blockInFlight(a, reply);
    const due = reply.completesAt;
    // (the clock never reads less than the kernel's time: with no tolerance this is max(clock, due))
    const completesAt = Math.max(this.now, due, this.liveNow - this.fixed.time.toleranceMs);
    this.running[a] = qi >= 0 ? updateQueued(head!, qi, (b) => ({ ...b, completesAt, done: true, dueAt: due })) : { ...r, completesAt, done: true, dueAt: due };
    if (r.cancelled === true) return [];
    return this.account(r.job, { ...reply, completesAt }, r.startedAt, []);
  }

  /** Books an executed block's energy and records it (`at`: when it was dispatched). */
  protected account(jobIndex: number, reply: BlockResult, at: number, out: KernelEffect[]): KernelEffect[] {
    const job = this.mutJob(jobIndex);
    job.energyMJ += reply.energyMJ;
    this.blockEnergyMJ += reply.energyMJ;
    this.blocks++;
    out.push({
      kind: "event",
      event: {
        _tag: "block.dispatched", v: PROTOCOL_VERSION, run: this.fixed.cfg.run, at, acc: reply.acc, job: reply.job,
        firstLayer: reply.firstLayer, layerCount: reply.layerCount, completesAt: reply.completesAt, energyMJ: reply.energyMJ,
        ...(this.fixed.models[job.modelIndex]!.variants === undefined ? {} : { variant: job.variant }),
      },
    });
    return out;
  }

  /**
   * Commits layers firstLayer.. of job `ji` to accelerator `acc` (at the end of its queue: `startAt`,
   * undefined when idle) and sends the dispatch. `chainFrom`: the chain it continues (undefined:
   * a policy's block, which starts one when chains are on).
   */
  protected commit(ji: number, acc: number, firstLayer: number, layerCount: number, startAt: number | undefined, chainFrom: number | undefined, out: KernelEffect[]) {
    const job = this.mutJob(ji);
    const accId = this.fixed.cfg.accelerators[acc]!.id;
    job.running = true;
    job.started = true;
    job.acc = acc;
    job.dispatchAt ??= this.now;
    const start = startAt ?? this.now;
    const block: Running = {
      job: ji,
      firstLayer,
      layerCount,
      completesAt: this.fixed.time.estimate(start, () => this.blockLatencyMs(job, acc, firstLayer, layerCount)),
      startedAt: start,
      done: false,
      ...(this.fixed.cfg.chainMs === undefined ? {} : { chainFrom: chainFrom ?? start }),
    };
    const head = this.running[acc];
    this.running[acc] = head === undefined ? block : enqueueBlock(head, block);
    this.request(out, { kind: "accel", id: accId }, {
      _tag: "block.dispatch", v: PROTOCOL_VERSION, run: this.fixed.cfg.run, at: this.now, acc: accId, job: job.id, model: job.model, frame: job.frame,
      firstLayer, layerCount, timing: this.fixed.timing,
      ...(this.fixed.models[job.modelIndex]!.variants !== undefined ? { variant: job.variant } : {}),
      ...this.fixed.time.dispatchFields,
      ...(startAt === undefined ? {} : { startAt }),
      ...(this.fixed.time.toleranceMs > 0 ? { sentAt: this.liveNow } : {}),
    });
  }

  /** Bounded chains (kernel-chain.ts): each accelerator whose tail's chain goes on gets its job's next block. */
  protected continueChains(out: KernelEffect[]) {
    const { chainMs, queueDepth, blockSize, quantumMs } = this.fixed.cfg;
    if (chainMs === undefined) return;
    for (let a = 0; a < this.running.length; a++) {
      for (let tail = chainTail(this.running[a], queueDepth ?? 1, chainMs); tail !== undefined; tail = chainTail(this.running[a], queueDepth ?? 1, chainMs)) {
        const job = this.job(tail.job);
        const from = pastSkips(job, tail.firstLayer + tail.layerCount);
        if (job.outcome !== undefined || from >= job.endLayer) break;
        const m = this.fixed.models[job.modelIndex]!;
        const at = { nextLayer: from, layerCount: job.layerCount, skipLayers: job.skipLayers, endLayer: job.endLayer };
        const costs = job.variant === 0 || m.variants === undefined ? m.cfg.costs : m.variants[job.variant]!.costs;
        const layerCount = Math.max(1, Math.min(blockLayers({ blockSize, quantumMs: quantumMs ?? 0 }, { costs }, at), runLength(at)));
        this.commit(tail.job, a, from, layerCount, Math.max(this.now, tail.completesAt), tail.chainFrom, out);
      }
    }
  }

  /** Latency of layers firstLayer.. of `job` (its variant's costs) on accelerator `acc`. */
  private blockLatencyMs(job: Job, acc: number, firstLayer: number, layerCount: number): number {
    const m = this.fixed.models[job.modelIndex]!;
    const costs = job.variant === 0 || m.variants === undefined ? m.cfg.costs : m.variants[job.variant]!.costs;
    const lat = costs.latencyMs[acc]!;
    let ms = 0;
    for (let l = firstLayer; l < firstLayer + layerCount; l++) ms += lat[l]!;
    return ms;
  }
}
