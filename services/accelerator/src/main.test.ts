/**
 * The accelerator service's fence end to end, with the lease in a real JetStream KV bucket and the
 * dispatches on the in-memory bus (so a dispatch can be made the very first thing that runs after
 * a simulated pause, before any timer): the clocks are faked so a "suspend" is a jump of the wall
 * clock that the monotonic clock did not see.
 *
 * - After a pause, a dispatch is left unanswered until the lease revision has been re-checked;
 *   then the slot serves again.
 * - After a pause during which another process took the key, the dispatch is left unanswered, the
 *   re-check finds the other revision, the slot is lost and no longer hosted.
 */
import { randomUUID } from "node:crypto";
import { Either } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccelReply, Subjects } from "@sdrm3/shared/contracts";
import { type NatsBus, connectNatsBus, openLeaseBucket, readLease, removeLeaseBucket } from "@sdrm3/shared/nats";
import { BusNoRespondersError, BusTimeoutError, createMemoryBus, decodeJson, resolveRunSpec } from "@sdrm3/shared/runtime";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { serveAccelerators } from "./main";

const SPEC = resolveRunSpec({ scenario: "VR_gaming", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 300, seed: 5 });

let nats: NatsBus;
const runs: string[] = [];
beforeAll(async () => {
  nats = await connectNatsBus({ ...natsTestOptions(), name: "accelerator-fence-test" });
});
afterAll(async () => {
  for (const run of runs) await removeLeaseBucket(nats.nc, run).catch(() => false);
  await nats.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const waitFor = async (what: string, cond: () => boolean, timeoutMs = 5_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

const setup = async () => {
  const run = `fence-${randomUUID().slice(0, 8)}`;
  runs.push(run);
  const bus = createMemoryBus();
  const leases = await openLeaseBucket(nats.nc, run, { ttlMs: 5_000 });
  const skew = { wall: 0 };
  const logs: string[] = [];
  const stop = new AbortController();
  const served = serveAccelerators({
    bus,
    run,
    resolved: SPEC,
    slots: ["acc0"],
    leases,
    host: "A",
    log: (l) => logs.push(l),
    signal: stop.signal,
    clocks: { mono: () => performance.now(), wall: () => Date.now() + skew.wall },
  });
  await waitFor("the claim", () => logs.some((l) => l.includes("claimed slot acc0")));
  const dispatch = (at: number) =>
    bus.request(
      Subjects.accelCmd(run, "acc0"),
      JSON.stringify({ _tag: "block.dispatch", v: 1, run, at, acc: "acc0", job: `ES_RITNet:${at}`, model: "ES_RITNet", frame: at, firstLayer: 0, layerCount: 2, timing: "exact" }),
      { timeoutMs: 300 },
    );
  const answered = async (at: number) => {
    const r = decodeJson(AccelReply, (await dispatch(at)).data);
    return Either.isRight(r) && r.right._tag === "block.result";
  };
  return { run, bus, leases, skew, logs, dispatch, answered, end: async () => (stop.abort(), await served, await bus.close()) };
};

describe("accelerator service: fencing after a pause", () => {
  it("a dispatch right after a pause waits for the revision re-check, then the slot serves again", async () => {
    const t = await setup();
    try {
      expect(await t.answered(0)).toBe(true);
      // a 3 s suspend the monotonic clock did not count (shorter than the 5 s TTL: the lease is still ours)
      t.skew.wall += 3_000;
      await expect(t.dispatch(1_000)).rejects.toBeInstanceOf(BusTimeoutError); // first thing after the pause: fenced
      expect(t.logs.join("\n")).toMatch(/paused for 3\d{3} ms .*re-checking the lease revision of acc0 before answering again \(answered so far: acc0 1\)/);
      await waitFor("the re-check", () => t.logs.some((l) => l.includes("serving again")));
      expect(t.logs.join("\n")).toMatch(/slot acc0: lease still held at revision \d+ after the pause; serving again/);
      expect(await t.answered(1_000)).toBe(true);
    } finally {
      await t.end();
    }
    expect(t.logs.join("\n")).toMatch(/stopped hosting slot acc0 \(claimed at lease revision \d+\): answered 2 of 3 dispatches, refused 1 \(fenced\); after the last pause: answered 1, refused 1/);
  });

  it("a pause during which another process took the key: fenced, then lost by revision, no longer hosted", async () => {
    const t = await setup();
    try {
      expect(await t.answered(0)).toBe(true);
      const ours = (await readLease(t.leases, "acc0"))!.revision;
      t.skew.wall += 3_000;
      // what a spare would have done meanwhile, written behind the owner's back (same name: the watch cannot tell)
      const theirs = await t.leases.kv.update("acc0", JSON.stringify({ owner: "A", host: "elsewhere" }), ours);
      // the dispatch is delivered before any timer of the service has run since the pause
      await expect(t.dispatch(1_000)).rejects.toBeInstanceOf(BusTimeoutError);
      await waitFor("the loss", () => t.logs.some((l) => l.includes("lost slot acc0")));
      expect(t.logs.join("\n")).toContain(`lost slot acc0: its key is at revision ${theirs} (owner A), ours was ${ours}`);
      await expect(t.dispatch(2_000)).rejects.toBeInstanceOf(BusNoRespondersError); // unsubscribed
    } finally {
      await t.end();
    }
    expect(t.logs.join("\n")).toMatch(/after the last pause: answered 0, refused 1/);
  });
});
