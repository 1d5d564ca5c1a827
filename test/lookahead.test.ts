/**
 * The look-ahead (`--lookahead d` with `--queue-depth ≥ 2`, docs/architecture.md "Dispatch queues",
 * shared/src/actors/kernel-queue.ts `takesBlock` / `commitPoint`): a busy accelerator takes a
 * policy's block only once its queue ends within d of now, and the kernel wakes at that point. The
 * same in the direct engine, the actors on the in-memory bus and over NATS, event for event; every
 * block a policy committed behind another was decided at most d before that one ended; a look-ahead
 * of 0 decides exactly as depth 1; a recorded run replays (virtual and live); no look-ahead is the
 * queue run it was before, byte for byte.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunEvent } from "@sdrm3/shared/contracts";
import { type RunOptions, logHeaderFor, resolveRunSpec, simulateDirect } from "@sdrm3/shared/runtime";
import { comparable, directRun as directRunOf, expectEnginesAgree, expectReplays, natsBusAndDir, recordedRun } from "./support/run-result";

const directRun = (opts: RunOptions) => directRunOf(opts, "la");

/** Decisions (dispatches) with the block each became, from a run's events. */
const decisionsOf = (events: ReadonlyArray<RunEvent>) =>
  events.flatMap((e) => (e._tag === "decision" && e.action === "dispatch" ? [{ at: e.at, job: e.job, acc: e.acc, firstLayer: e.firstLayer }] : []));

/** The blocks each accelerator ran, by start, from a run's events. */
const blocksOf = (events: ReadonlyArray<RunEvent>) =>
  events.flatMap((e) => (e._tag === "block.dispatched" ? [{ at: e.at, completesAt: e.completesAt, job: e.job, acc: e.acc, firstLayer: e.firstLayer }] : []));

describe("look-ahead", () => {
  const nats = natsBusAndDir("lookahead");
  const dir = nats.dir;

  it.each([
    ["sdrm3", "AR_Assistant", "Dual_4K/WS_OS", 2, 0.5, 0],
    ["sdrm3", "VR_gaming", "Quad_8K/WS_OS_WS_OS", 3, 1, 1],
    ["edf", "social_interactionA", "Dual_4K/WS_OS", 2, 0.25, 0.25],
  ])(
    "%s on %s (%s), depth %i, look-ahead %f ms, quantum %f: engines agree event for event, and no block was decided more than the look-ahead before its start",
    async (policy, scenario, hardware, queueDepth, lookaheadMs, quantumMs) => {
      const opts = resolveRunSpec({ scenario, hardware, policy, durationMs: 300, seed: 2, queueDepth, lookaheadMs, quantumMs });
      expect(opts.lookaheadMs).toBe(lookaheadMs);
      const direct = await expectEnginesAgree(opts, nats.bus, "la");

      // every policy block: decided when its accelerator was idle, or at most the look-ahead before
      // the block it was committed behind ended (its own start); some were committed behind another
      const blocks = blocksOf(direct.events);
      let behind = 0;
      for (const d of decisionsOf(direct.events)) {
        const block = blocks.find((b) => b.job === d.job && b.firstLayer === d.firstLayer && b.acc === d.acc);
        if (block === undefined) continue; // cancelled before it started
        expect(block.at - d.at).toBeLessThanOrEqual(lookaheadMs + 1e-9);
        if (block.at > d.at) behind++;
      }
      expect(behind).toBeGreaterThan(0);
    },
    120_000,
  );

  it("a look-ahead of 0 decides exactly as depth 1; none is the queue run without it, byte for byte, and the header records it only when set", () => {
    const spec = { scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 300, seed: 3, quantumMs: 0.5 };
    const depth1 = directRun(resolveRunSpec(spec));
    const zero = directRun(resolveRunSpec({ ...spec, queueDepth: 2, lookaheadMs: 0 }));
    expect(JSON.stringify(decisionsOf(zero.events))).toBe(JSON.stringify(decisionsOf(depth1.events)));
    expect(comparable(zero.result)).toBe(comparable(depth1.result));
    const none = resolveRunSpec({ ...spec, queueDepth: 2 });
    expect(none).not.toHaveProperty("lookaheadMs");
    expect(logHeaderFor({ ...none, run: "la" })).not.toHaveProperty("lookaheadMs");
    const on = resolveRunSpec({ ...spec, queueDepth: 2, lookaheadMs: 0.25 });
    expect(logHeaderFor({ ...on, run: "la" })).toHaveProperty("lookaheadMs", 0.25);
    expect(JSON.stringify(directRun(on).events)).not.toBe(JSON.stringify(directRun(none).events));
  });

  it("a recorded look-ahead run replays, in virtual time and live", async () => {
    const opts = resolveRunSpec({ scenario: "VR_gaming", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 300, seed: 4, queueDepth: 2, lookaheadMs: 0.5, quantumMs: 1 });
    const path = join(dir, "la.jsonl");
    const result = await recordedRun({ ...opts, run: "la" }, path);
    expect(JSON.parse(readFileSync(path, "utf8").split("\n")[0]!)).toHaveProperty("lookaheadMs", 0.5);
    await expectReplays(path, result);
    const livePath = join(dir, "la-live.jsonl");
    const live = await recordedRun({ ...opts, run: "la", live: { speed: 0.5 } }, livePath);
    await expectReplays(livePath, live);
  }, 120_000);

  it("a look-ahead without a queue, or out of range, is refused", () => {
    const spec = { scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100 };
    expect(() => simulateDirect(resolveRunSpec({ ...spec, lookaheadMs: 1 }))).toThrow("look-ahead 1 ms needs a dispatch queue (queue depth 2 or more; got 1)");
    expect(() => simulateDirect(resolveRunSpec({ ...spec, queueDepth: 2, lookaheadMs: -1 }))).toThrow("look-ahead: expected a number of ms in [0, 1000], got -1");
  });
});
