/**
 * Dispatch queues (`--queue-depth d`, docs/architecture.md "Dispatch queues") in virtual time: a
 * run at depth d > 1 is deterministic, the same in the direct engine, the actor system on the
 * in-memory bus and the actor system over NATS, event for event; every frame ends once; a recorded
 * run replays; a queued block whose frame is dropped before it starts is cancelled (never booked);
 * depth 1 is the run without queues, byte for byte, and its log header has no queueDepth.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunEvent } from "@sdrm3/shared/contracts";
import {
  EventRecorder,
  JsonlLogSink,
  type RunOptions,
  type RunResult,
  logHeaderFor,
  openLogFile,
  replayLog,
  resolveRunSpec,
  runScenario,
  simulateDirect,
} from "@sdrm3/shared/runtime";
import { comparable, directRun as directRunOf, expectEachFrameEndsOnce, expectEnginesAgree, expectReplays, natsBusAndDir, recordedRun } from "./support/run-result";


const directRun = (opts: RunOptions) => directRunOf(opts, "q");


const count = (events: ReadonlyArray<RunEvent>, tag: string, action?: string) =>
  events.filter((e) => e._tag === tag && (action === undefined || (e as { action?: string }).action === action)).length;

describe("dispatch queues in virtual time", () => {
  const nats = natsBusAndDir("queue");
  const dir = nats.dir;

  it.each([
    ["sdrm3", "AR_Assistant", "Dual_4K/WS_OS", 2],
    ["edf", "AR_Assistant", "Quad_8K/WS_OS_WS_OS", 4],
    ["herald", "VR_gaming", "Dual_4K/WS_OS", 2],
    ["xrbench", "AR_Assistant", "Dual_4K/WS_OS", 2],
  ])("%s on %s (%s), depth %i: the direct engine, the actors on memory and over NATS agree event for event", async (policy, scenario, hardware, queueDepth) => {
    const opts = resolveRunSpec({ scenario, hardware, policy, durationMs: 300, seed: 2, queueDepth });
    expect(opts.queueDepth).toBe(queueDepth);
    const direct = await expectEnginesAgree(opts, nats.bus, "q", policy !== "xrbench");
    const again = directRun(opts);
    expect(comparable(again.result)).toBe(comparable(direct.result));
    // the queue is in effect: the run differs from the same run at depth 1
    const flat = directRun(resolveRunSpec({ scenario, hardware, policy, durationMs: 300, seed: 2 }));
    expect(JSON.stringify(direct.events)).not.toBe(JSON.stringify(flat.events));
  }, 120_000);

  it("depth 1 is the run without queues, byte for byte, and its log header has no queueDepth; depth 2 records it", async () => {
    const spec = { scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 200, seed: 3 };
    const d1 = resolveRunSpec({ ...spec, queueDepth: 1 });
    expect(d1).not.toHaveProperty("queueDepth");
    expect(JSON.stringify(directRun(d1).events)).toBe(JSON.stringify(directRun(resolveRunSpec(spec)).events));
    expect(logHeaderFor({ ...d1, run: "q" })).not.toHaveProperty("queueDepth");
    expect(logHeaderFor({ ...resolveRunSpec({ ...spec, queueDepth: 2 }), run: "q" })).toHaveProperty("queueDepth", 2);
  });

  it("a recorded depth-2 run replays to the same decisions and frames", async () => {
    const opts = resolveRunSpec({ scenario: "social_interactionA", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 200, seed: 4, queueDepth: 2 });
    const path = join(dir, "d2.jsonl");
    const result = await recordedRun({ ...opts, run: "q" }, path);
    expect(JSON.parse(readFileSync(path, "utf8").split("\n")[0]!)).toHaveProperty("queueDepth", 2);
    await expectReplays(path, result);
  });

  it("a queued block whose frame is dropped before it starts is cancelled: never booked, no energy, the frame ends once", () => {
    // xrbench at depth 2 on AR_Assistant: frames whose first block waits in a queue past their
    // deadline are dropped by the runtime's deadline rule, and their blocks cancelled
    const { result, events } = directRun(resolveRunSpec({ scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "xrbench", durationMs: 500, seed: 2, queueDepth: 2 }));
    const cancelled = result.frames.filter((f) => f.outcome === "dropped" && f.dispatchAt !== undefined && f.energyMJ === 0);
    expect(cancelled.length).toBeGreaterThan(0);
    for (const f of cancelled) {
      const job = `${f.model}:${f.frame}`;
      const mine = events.filter((e) => "job" in e && e.job === job);
      expect(mine.filter((e) => e._tag === "decision" && e.action === "dispatch")).toHaveLength(1);
      expect(mine.filter((e) => e._tag === "block.dispatched")).toHaveLength(0);
      expect(mine.filter((e) => e._tag === "frame.ended")).toEqual([expect.objectContaining({ outcome: "dropped", reason: "deadline passed before the frame started" })]);
    }
    // every committed block is booked, cancelled, or still committed when the xrbench run stops
    expect(count(events, "decision", "dispatch") - count(events, "block.dispatched")).toBeGreaterThanOrEqual(cancelled.length);
    expectEachFrameEndsOnce(events, false);
  });

  it("a depth out of range is refused", () => {
    const spec = { scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100 };
    expect(() => simulateDirect(resolveRunSpec({ ...spec, queueDepth: 0 }))).toThrow("dispatch queue depth: expected an integer in [1, 16], got 0");
    expect(() => simulateDirect(resolveRunSpec({ ...spec, queueDepth: 1.5 }))).toThrow("dispatch queue depth");
  });

  it("live mode at depth 2: the accelerators run their queues in order, every frame ends once, and the recorded run replays", async () => {
    const opts: RunOptions = { ...resolveRunSpec({ scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "edf", durationMs: 300, seed: 1, queueDepth: 2 }), live: { speed: 0.5 } };
    const path = join(dir, "live-d2.jsonl");
    const sink = new JsonlLogSink(path);
    const recorder = new EventRecorder(sink, logHeaderFor({ ...opts, run: "q" }));
    const events: RunEvent[] = [];
    let result: RunResult;
    try {
      result = await runScenario({ ...opts, run: "q", observer: recorder, onEvent: (e) => events.push(e) });
    } finally {
      sink.close();
    }
    expectEachFrameEndsOnce(events, true);
    // some block was committed behind another: its block.dispatched (stamped with its start) is later than its decision
    const decidedAt = new Map<string, number>();
    let queued = 0;
    for (const e of events) {
      if (e._tag === "decision" && e.action === "dispatch") decidedAt.set(`${e.job}/${e.firstLayer}`, e.at);
      if (e._tag === "block.dispatched" && e.at > decidedAt.get(`${e.job}/${e.firstLayer}`)!) queued++;
    }
    expect(queued).toBeGreaterThan(0);
    const replay = await replayLog(await openLogFile(path));
    expect(replay.divergence).toBeUndefined();
    expect(replay.kernel.finished).toBe(true);
    expect(replay.decisions).toBe(result.decisions);
    expect(replay.kernel.frameRecords()).toEqual(result.frames);
  }, 120_000);
});
