/**
 * Bounded chains (`--chain d` with `--queue-depth d ≥ 2`, docs/architecture.md "Dispatch queues",
 * shared/src/actors/kernel-chain.ts): the kernel commits a job's next block behind its own while
 * the chain has run less than the budget. A chain run is deterministic and the same in the direct
 * engine, the actor system on the in-memory bus and over NATS, event for event; every frame ends
 * once; chains are contiguous and bounded by the budget; a recorded run replays (virtual and live);
 * a run without a chain is byte for byte the run it was, and its header has no chainMs.
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
import { directRun as directRunOf, expectEachFrameEndsOnce, expectEnginesAgree, expectReplays, natsBusAndDir, recordedRun } from "./support/run-result";

const directRun = (opts: RunOptions) => directRunOf(opts, "c");


/**
 * The chains of a run, from its events: a policy's dispatch starts one; each booked block of the
 * same job on the same accelerator that no decision named continues it. Returns, per chain, its
 * blocks (start, completion) in booking order, with the chain's budget checked by the caller.
 */
const chainsOf = (events: ReadonlyArray<RunEvent>) => {
  const decided = new Set<string>();
  const open = new Map<string, Array<{ at: number; completesAt: number; firstLayer: number; layerCount: number }>>();
  const chains: Array<Array<{ at: number; completesAt: number; firstLayer: number; layerCount: number }>> = [];
  for (const e of events) {
    if (e._tag === "decision" && e.action === "dispatch") decided.add(`${e.job}/${e.firstLayer}`);
    if (e._tag !== "block.dispatched") continue;
    const key = `${e.job}@${e.acc}`;
    const block = { at: e.at, completesAt: e.completesAt, firstLayer: e.firstLayer, layerCount: e.layerCount };
    if (decided.has(`${e.job}/${e.firstLayer}`)) {
      const chain = [block];
      chains.push(chain);
      open.set(key, chain);
    } else {
      const chain = open.get(key);
      if (chain === undefined) throw new Error(`block ${e.job}/${e.firstLayer} on ${e.acc}: no decision and no chain to continue`);
      chain.push(block);
    }
  }
  return chains;
};

describe("bounded chains", () => {
  const nats = natsBusAndDir("chain");
  const dir = nats.dir;

  it.each([
    ["sdrm3", "AR_Assistant", "Dual_4K/WS_OS", 2, 0.5, 0],
    ["sdrm3", "social_interactionA", "Quad_8K/WS_OS_WS_OS", 4, 1, 0.25],
    ["edf", "VR_gaming", "Dual_4K/WS_OS", 3, 0.25, 0],
  ])(
    "%s on %s (%s), depth %i, chain %f ms, quantum %f: the direct engine, the actors on memory and over NATS agree event for event",
    async (policy, scenario, hardware, queueDepth, chainMs, quantumMs) => {
      const opts = resolveRunSpec({ scenario, hardware, policy, durationMs: 300, seed: 2, queueDepth, chainMs, quantumMs });
      expect(opts.chainMs).toBe(chainMs);
      const direct = await expectEnginesAgree(opts, nats.bus, "c");
      expect(JSON.stringify(directRun(opts).events)).toBe(JSON.stringify(direct.events));

      // chains happened, each contiguous (a block starts when the one before it completes, on its
      // next layers), and none grew past its budget: every block but the last was committed while
      // the chain's run time was below it
      const chains = chainsOf(direct.events);
      const continued = chains.filter((c) => c.length > 1);
      expect(continued.length).toBeGreaterThan(0);
      for (const c of continued) {
        for (let i = 1; i < c.length; i++) {
          expect(c[i]!.at).toBe(c[i - 1]!.completesAt);
          expect(c[i]!.firstLayer).toBeGreaterThanOrEqual(c[i - 1]!.firstLayer + c[i - 1]!.layerCount);
          expect(c[i - 1]!.completesAt - c[0]!.at).toBeLessThan(chainMs);
        }
      }
      // fewer policy decisions than blocks: the continuations are the kernel's
      const dispatches = direct.events.filter((e) => e._tag === "decision" && e.action === "dispatch").length;
      const booked = direct.events.filter((e) => e._tag === "block.dispatched").length;
      expect(booked).toBeGreaterThan(dispatches);
    },
    120_000,
  );

  it("no chain (0 or absent) is the run without chains, byte for byte, and its log header has no chainMs; a chain run records it", () => {
    const spec = { scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 200, seed: 3, queueDepth: 2 };
    const off = resolveRunSpec({ ...spec, chainMs: 0 });
    expect(off).not.toHaveProperty("chainMs");
    expect(JSON.stringify(directRun(off).events)).toBe(JSON.stringify(directRun(resolveRunSpec(spec)).events));
    expect(logHeaderFor({ ...off, run: "c" })).not.toHaveProperty("chainMs");
    const on = resolveRunSpec({ ...spec, chainMs: 0.5 });
    expect(logHeaderFor({ ...on, run: "c" })).toHaveProperty("chainMs", 0.5);
    expect(JSON.stringify(directRun(on).events)).not.toBe(JSON.stringify(directRun(off).events));
  });

  it("a recorded chain run replays to the same decisions and frames", async () => {
    const opts = resolveRunSpec({ scenario: "social_interactionA", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 300, seed: 4, queueDepth: 2, chainMs: 1 });
    const path = join(dir, "chain.jsonl");
    const result = await recordedRun({ ...opts, run: "c" }, path);
    expect(JSON.parse(readFileSync(path, "utf8").split("\n")[0]!)).toHaveProperty("chainMs", 1);
    await expectReplays(path, result);
  });

  it("a chain budget without a queue, or out of range, is refused", () => {
    const spec = { scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100 };
    expect(() => simulateDirect(resolveRunSpec({ ...spec, chainMs: 0.5 }))).toThrow("chain budget 0.5 ms needs a dispatch queue (queue depth 2 or more; got 1)");
    expect(() => simulateDirect(resolveRunSpec({ ...spec, queueDepth: 2, chainMs: 2000 }))).toThrow("chain budget: expected a number of ms in (0, 1000], got 2000");
  });

  it("live mode: a chain run at depth 2 ends every frame once, its chains run in order, and the recorded run replays", async () => {
    const opts: RunOptions = {
      ...resolveRunSpec({ scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 300, seed: 1, queueDepth: 2, chainMs: 0.5 }),
      live: { speed: 0.5 },
    };
    const path = join(dir, "live-chain.jsonl");
    const sink = new JsonlLogSink(path);
    const recorder = new EventRecorder(sink, logHeaderFor({ ...opts, run: "c" }));
    const events: RunEvent[] = [];
    let result: RunResult;
    try {
      result = await runScenario({ ...opts, run: "c", observer: recorder, onEvent: (e) => events.push(e) });
    } finally {
      sink.close();
    }
    expectEachFrameEndsOnce(events);
    const chains = chainsOf(events).filter((c) => c.length > 1);
    expect(chains.length).toBeGreaterThan(0);
    for (const c of chains) for (let i = 1; i < c.length; i++) expect(c[i]!.firstLayer).toBeGreaterThanOrEqual(c[i - 1]!.firstLayer + c[i - 1]!.layerCount);
    const replay = await replayLog(await openLogFile(path));
    expect(replay.divergence).toBeUndefined();
    expect(replay.kernel.finished).toBe(true);
    expect(replay.decisions).toBe(result.decisions);
    expect(replay.kernel.frameRecords()).toEqual(result.frames);
  }, 120_000);
});
