/**
 * Bounded chains (kernel-chain.ts) in the kernel, driven by hand in virtual time: the blocks a
 * policy dispatches and the ones the kernel continues, with their start times, for one job of four
 * 1-ms layers on one accelerator at queue depth 2 and a chain budget of 2.5 ms.
 */
import { describe, expect, it } from "vitest";
import type { BlockDispatch, TaskReleased } from "../contracts/messages";
import { PROTOCOL_VERSION } from "../contracts/messages";
import type { ModelCosts } from "../domain/types";
import { resolvePolicy } from "../policies";
import type { Policy } from "../policies/types";
import { type KernelConfig, type KernelEffect, SchedulerKernel } from "./scheduler-kernel";
import { blockResultOf, oneModelKernel } from "./testing";

const costs: ModelCosts = {
  model: "M",
  layerCount: 4,
  cycles: [Float64Array.from([1e6, 1e6, 1e6, 1e6])],
  latencyMs: [Float64Array.from([1, 1, 1, 1])],
  energyMJ: [Float64Array.from([1, 1, 1, 1])],
};

const config = (over: Partial<KernelConfig> = {}): KernelConfig => oneModelKernel("chain", costs, { queueDepth: 2, chainMs: 2.5, ...over });

const released: TaskReleased = {
  _tag: "task.released",
  v: PROTOCOL_VERSION,
  run: "chain",
  model: "M",
  frames: [{ model: "M", frame: 0, releaseAt: 0, injectAt: 0, deadline: 10 }],
  skipped: [],
  nextAt: null,
};

/** Runs the kernel to its end, answering every request at once; the dispatches and the events in order. */
const drive = (cfg: KernelConfig) => {
  const k = new SchedulerKernel(cfg);
  const log: string[] = [];
  const pending: Array<Extract<KernelEffect, { kind: "request" }>> = [];
  const take = (fx: ReadonlyArray<KernelEffect>) => {
    for (const e of fx) {
      if (e.kind === "request") pending.push(e);
      if (e.kind === "event" && e.event._tag === "decision" && e.event.action === "dispatch") log.push(`decide L${e.event.firstLayer} at ${e.event.at}`);
      if (e.kind === "event" && e.event._tag === "block.dispatched") log.push(`start L${e.event.firstLayer} at ${e.event.at}`);
      if (e.kind === "event" && e.event._tag === "frame.ended") log.push(`end ${e.event.outcome} at ${e.event.at}`);
      if (e.kind === "event" && e.event._tag === "decision" && e.event.action === "drop") log.push(`drop at ${e.event.at}`);
    }
  };
  take(k.start());
  while (pending.length > 0) {
    const r = pending.shift()!;
    if (r.message._tag === "task.tick") {
      take(k.onReply(r.corr, { ...released, frames: r.message.n === 1 ? released.frames : [] }));
      continue;
    }
    const m = r.message as BlockDispatch;
    log.push(`commit L${m.firstLayer} at ${m.at}${m.startAt === undefined ? "" : ` from ${m.startAt}`}`);
    take(k.onReply(r.corr, blockResultOf(costs, m)));
  }
  expect(k.finished).toBe(true);
  return { log, decisions: k.decisions, blocks: k.blocks, energy: k.blockEnergyMJ };
};

describe("bounded chains in the kernel", () => {
  it("continues a job behind its own block until the chain has run the budget, then leaves the room to the policy", () => {
    const { log, decisions, blocks, energy } = drive(config());
    expect(log).toEqual([
      "decide L0 at 0",
      "commit L0 at 0",
      "start L0 at 0",
      // after the policy's dispatch: the chain (0 → 1 ms so far) goes on behind it
      "commit L1 at 0 from 1",
      // L0 retires at 1; before the policy decides, the chain (0 → 2 ms) goes on once more
      "start L1 at 1",
      "commit L2 at 1 from 2",
      // at 2 the chain has run 3 ms ≥ 2.5: the room is the policy's (fcfs has nothing else to run)
      "start L2 at 2",
      // at 3 the job is free again: the policy dispatches its last layer (a new chain)
      "decide L3 at 3",
      "commit L3 at 3",
      "start L3 at 3",
      "end onTime at 4",
    ]);
    expect({ decisions, blocks, energy }).toEqual({ decisions: 2, blocks: 4, energy: 4 });
  });

  it("without a chain budget every block is the policy's; at depth 1 a budget is refused", () => {
    const { chainMs: _off, ...cfg } = config();
    const { log, decisions } = drive(cfg);
    expect(log.filter((l) => l.startsWith("decide"))).toEqual(["decide L0 at 0", "decide L1 at 1", "decide L2 at 2", "decide L3 at 3"]);
    expect(decisions).toBe(4);
    expect(() => new SchedulerKernel(config({ queueDepth: 1 }))).toThrow("chain budget 2.5 ms needs a dispatch queue (queue depth 2 or more; got 1)");
  });

  it("a budget longer than the job: the whole frame runs as one chain of blocks", () => {
    const { log, decisions } = drive(config({ chainMs: 100 }));
    expect(log.filter((l) => l.startsWith("commit"))).toEqual(["commit L0 at 0", "commit L1 at 0 from 1", "commit L2 at 1 from 2", "commit L3 at 2 from 3"]);
    expect(decisions).toBe(1);
    expect(log.at(-1)).toBe("end onTime at 4");
  });

  it("a frame dropped while its chain's next block waits in the queue: that block is cancelled, never booked; the running one finishes; the frame ends once", () => {
    // fcfs, except that from 1 ms on it drops the frame while it runs (a policy may drop a started job)
    const fcfs = resolvePolicy("fcfs", {});
    const dropper: Policy = {
      ...fcfs,
      decide: (view) => {
        const job = view.models[0]!.queue.find((j) => j.running);
        return view.now >= 1 && job !== undefined ? { dispatches: [], drops: [{ job: job.id, reason: "dropped for the test" }] } : fcfs.decide(view);
      },
    };
    const { log, decisions, blocks, energy } = drive(config({ policy: dropper }));
    expect(log).toEqual([
      "decide L0 at 0",
      "commit L0 at 0",
      "start L0 at 0",
      "commit L1 at 0 from 1",
      "start L1 at 1", // L1 was queued behind L0: it starts when L0 retires
      "commit L2 at 1 from 2", // the chain goes on behind L1 before the policy decides
      "drop at 1", // the policy drops the frame: L2, queued, is cancelled; L1 runs on
      "end dropped at 1",
    ]);
    // L2 was committed and answered but never started: not booked, no energy; the frame ended once
    expect({ decisions, blocks, energy }).toEqual({ decisions: 2, blocks: 2, energy: 2 });
  });
});

