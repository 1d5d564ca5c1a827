/**
 * Slot leases on a real nats-server (JetStream KV): claim, a second claim fails, renew, a stale
 * renewal is a lost lease, release, expiry lets a spare claim (and the dead owner's local validity
 * ended first), a clean release reaches a spare through the watch, bucket removal.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { natsTestOptions } from "../testkit";
import {
  type HeldSlot,
  LeaseLostError,
  type LeaseBucket,
  awaitLeasesReleased,
  claimSlot,
  heldSlots,
  holdSlots,
  leaseBucketName,
  openLeaseBucket,
  readLease,
  releaseLease,
  removeLeaseBucket,
  renewLease,
} from "./leases";
import { type NatsBus, connectNatsBus } from "./nats-bus";

let bus: NatsBus;
const runs: string[] = [];
const newRun = () => {
  const run = `lease-${randomUUID().slice(0, 8)}`;
  runs.push(run);
  return run;
};
const value = (owner: string) => ({ owner, host: "test" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for `cond` (polling); `timeoutMs` only ends a hung test, it is not a figure under test. */
const waitFor = async (what: string, cond: () => boolean, timeoutMs: number) => {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
};
/**
 * Resolves once the bucket's stream has `n` consumers: every holder's watch (an ordered consumer)
 * is set up, so a release or takeover written after this is seen by all of them.
 */
const watchesSetUp = async (bucket: LeaseBucket, n: number) => {
  const jsm = await jetstreamManager(bus.nc);
  for (const start = Date.now(); ; await sleep(20)) {
    const info = await jsm.streams.info(`KV_${bucket.name}`);
    if (info.state.consumer_count >= n) return;
    if (Date.now() - start > 30_000) throw new Error(`timed out waiting for ${n} watches on ${bucket.name} (${info.state.consumer_count} set up)`);
  }
};

beforeAll(async () => {
  bus = await connectNatsBus({ ...natsTestOptions(), name: "leases-test" });
});
afterAll(async () => {
  for (const run of runs) await removeLeaseBucket(bus.nc, run).catch(() => false);
  await bus.close();
});

describe("lease primitives", () => {
  it("claim, second claim fails, renew, stale renewal is lost, release, claim again", async () => {
    const run = newRun();
    const bucket = await openLeaseBucket(bus.nc, run, { ttlMs: 3000 });
    expect(bucket.name).toBe(leaseBucketName(run));
    expect(bucket.ttlMs).toBe(3000);

    const a = await claimSlot(bucket, "acc0", value("A"));
    expect(a?.revision).toBeGreaterThan(0);
    expect(await claimSlot(bucket, "acc0", value("B"))).toBeUndefined();
    expect((await readLease(bucket, "acc0"))?.value.owner).toBe("A");

    const renewed = await renewLease(bucket, a!);
    expect(renewed.revision).toBeGreaterThan(a!.revision);
    await expect(renewLease(bucket, a!)).rejects.toBeInstanceOf(LeaseLostError); // stale revision
    expect(await releaseLease(bucket, a!)).toBe(false); // never deletes a lease it does not own
    expect(await releaseLease(bucket, renewed)).toBe(true);
    expect(await readLease(bucket, "acc0")).toBeUndefined();

    const b = await claimSlot(bucket, "acc0", value("B"));
    expect(b).toBeDefined();
    expect((await readLease(bucket, "acc0"))?.value.owner).toBe("B");
  });

  it("an existing bucket keeps its TTL; removing the bucket", async () => {
    const run = newRun();
    await openLeaseBucket(bus.nc, run, { ttlMs: 2000 });
    expect((await openLeaseBucket(bus.nc, run, { ttlMs: 9000 })).ttlMs).toBe(2000);
    expect(await removeLeaseBucket(bus.nc, run)).toBe(true);
    expect(await removeLeaseBucket(bus.nc, run)).toBe(false);
  });

  it("the end of a run waits for the holders to release their slots, and names the ones still held", async () => {
    const run = newRun();
    const slots = ["acc0", "acc1", "acc2"];
    expect(await heldSlots(bus.nc, run, slots)).toEqual([]); // no bucket: nothing held
    const bucket = await openLeaseBucket(bus.nc, run, { ttlMs: 60_000 });
    const a = await claimSlot(bucket, "acc0", value("A"));
    const b = await claimSlot(bucket, "acc1", value("B"));
    expect(await heldSlots(bus.nc, run, slots)).toEqual(["acc0", "acc1"]); // acc2 was never claimed
    // acc1's holder releases while the scheduler waits; acc0's never does (a killed holder)
    expect(await releaseLease(bucket, b!)).toBe(true);
    expect(await awaitLeasesReleased(bus.nc, run, slots, { timeoutMs: 200 })).toEqual(["acc0"]);
    // both released, the second one while the wait is under way: the wait ends with nothing held
    const waiting = awaitLeasesReleased(bus.nc, run, slots, { timeoutMs: 60_000 });
    await sleep(100);
    expect(await releaseLease(bucket, a!)).toBe(true);
    expect(await waiting).toEqual([]);
  });
});

interface Recorder {
  acquired: HeldSlot[];
  lost: Array<{ slot: string; reason: string }>;
  waiting: number;
}
const recorder = (): Recorder => ({ acquired: [], lost: [], waiting: 0 });
const hold = (bucket: LeaseBucket, owner: string, r: Recorder, candidates: string[], want: number, heartbeatMs?: number) =>
  holdSlots({
    bucket,
    candidates,
    want,
    owner: { owner, host: "test" },
    onAcquired: (h) => r.acquired.push(h),
    onLost: (slot, reason) => r.lost.push({ slot, reason }),
    onWaiting: () => r.waiting++,
    ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
  });

describe("holdSlots: owners and hot spares", () => {
  it("claims in order, renews past the TTL, and a spare takes a slot whose owner stopped renewing", async () => {
    const bucket = await openLeaseBucket(bus.nc, newRun(), { ttlMs: 900 });
    const a = recorder();
    const b = recorder();
    const spare = recorder();
    const holderA = hold(bucket, "A", a, ["acc0", "acc1", "acc2"], 2);
    await holderA.ready;
    expect(a.acquired.map((h) => h.slot)).toEqual(["acc0", "acc1"]);
    const holderB = hold(bucket, "B", b, ["acc0", "acc1", "acc2"], 1);
    await holderB.ready;
    expect(b.acquired.map((h) => h.slot)).toEqual(["acc2"]);
    const holderS = hold(bucket, "S", spare, ["acc0", "acc1", "acc2"], 1);
    await holderS.ready;
    expect(spare.acquired).toEqual([]);
    expect(spare.waiting).toBe(1);

    await sleep(2000); // more than two TTLs: renewals keep every lease
    expect(a.lost).toEqual([]);
    expect(spare.acquired).toEqual([]);
    expect(a.acquired.every((h) => h.isValid())).toBe(true);

    // A "dies": no more renewals, no release
    const acc1 = a.acquired[1]!;
    const aLast = Math.max(...a.acquired.map((h) => h.lease.revision));
    await holderA.stop({ release: false });
    // B keeps renewing acc2 every TTL/3 (300 ms): after A stopped, the only writes to the bucket are
    // B's renewals and the spare's claim, so revisions count B's heartbeats between A's death and the takeover
    const bAtStop = b.acquired[0]!.lease.revision;
    let validWhenTaken: boolean | undefined;
    await waitFor("the spare to take a slot", () => {
      if (spare.acquired.length > 0 && validWhenTaken === undefined) validWhenTaken = acc1.isValid() || a.acquired[0]!.isValid();
      return spare.acquired.length > 0;
    }, 30_000);
    const taken = spare.acquired[0]!;
    // one of the dead owner's slots: the first of them free when the spare looked (acc0 when both
    // expired together; on a loaded machine A's last renewals can be far enough apart for acc1 to
    // expire a poll earlier)
    expect(["acc0", "acc1"]).toContain(taken.slot);
    expect(validWhenTaken).toBe(false); // the dead owner's local validity ended before the server expired its key
    expect(taken.lease.revision).toBeGreaterThan(Math.max(aLast, bAtStop)); // claimed after A's last write
    // the slot came free within one TTL (three of B's heartbeats) plus the spare's poll and slack:
    // at most 8 renewals of B happened in between (a slower B renews less often, never more)
    const bRenewalsBetween = taken.lease.revision - bAtStop - 1;
    expect(bRenewalsBetween).toBeLessThanOrEqual(8);
    expect(b.lost).toEqual([]);
    await holderB.stop({ release: true });
    await holderS.stop({ release: true });
  });

  it("a spare takes a cleanly released slot at once (watch), long before the TTL", async () => {
    const bucket = await openLeaseBucket(bus.nc, newRun(), { ttlMs: 10_000 });
    const a = recorder();
    const spare = recorder();
    const holderA = hold(bucket, "A", a, ["acc0"], 1);
    await holderA.ready;
    const holderS = hold(bucket, "S", spare, ["acc0"], 1, 60_000); // no polling within the test: only the watch
    await holderS.ready;
    expect(spare.waiting).toBe(1);
    await watchesSetUp(bucket, 2);
    // a witness key written just before the release, never renewed: the server expires it one TTL later
    await bucket.kv.create("witness", JSON.stringify(value("witness")));
    await holderA.stop({ release: true });
    await waitFor("the spare to claim the released slot", () => spare.acquired.length > 0, 30_000);
    expect((await readLease(bucket, "acc0"))?.value.owner).toBe("S");
    // the claim came before the TTL could have freed the slot: the witness, written before the release, is still there
    expect((await readLease(bucket, "witness"))?.value.owner).toBe("witness");
    await holderS.stop({ release: true });
    expect(await readLease(bucket, "acc0")).toBeUndefined();
  });

  it("a renewal that finds another revision loses the slot", async () => {
    const bucket = await openLeaseBucket(bus.nc, newRun(), { ttlMs: 900 });
    const a = recorder();
    const holderA = hold(bucket, "A", a, ["acc0"], 1);
    await holderA.ready;
    await bucket.kv.put("acc0", JSON.stringify(value("intruder"))); // someone else wrote the key
    await waitFor("the owner to notice", () => a.lost.length > 0, 3000);
    expect(a.lost[0]!.slot).toBe("acc0");
    expect(a.lost[0]!.reason).toMatch(/revision/);
    expect(a.acquired[0]!.isValid()).toBe(false);
    await holderA.stop({ release: true });
  });
});

describe("fencing by revision", () => {
  const holdWith = (bucket: LeaseBucket, owner: string, r: Recorder, extra: { now?: () => number; heartbeatMs?: number; logs?: string[] }) =>
    holdSlots({
      bucket,
      candidates: ["acc0"],
      want: 1,
      owner: { owner, host: "test" },
      onAcquired: (h) => r.acquired.push(h),
      onLost: (slot, reason) => r.lost.push({ slot, reason }),
      onWaiting: () => r.waiting++,
      ...(extra.now === undefined ? {} : { now: extra.now }),
      ...(extra.heartbeatMs === undefined ? {} : { heartbeatMs: extra.heartbeatMs }),
      ...(extra.logs === undefined ? {} : { log: (l: string) => extra.logs!.push(l) }),
    });

  it("verify() confirms the key at our revision, and loses the lease when the key moved on", async () => {
    const bucket = await openLeaseBucket(bus.nc, newRun(), { ttlMs: 5_000 });
    const a = recorder();
    const holder = holdWith(bucket, "A", a, { heartbeatMs: 60_000 }); // no renewal within the test
    await holder.ready;
    const held = a.acquired[0]!;
    expect(await held.verify()).toBe(true);
    expect(a.lost).toEqual([]);
    // the key moves on behind our back (an owner's renewal would carry our name; this is a raw write of ours)
    const next = await bucket.kv.update("acc0", JSON.stringify(value("A")), held.lease.revision);
    expect(await held.verify()).toBe(false);
    expect(a.lost).toEqual([{ slot: "acc0", reason: `its key is at revision ${next} (owner A), ours was ${held.lease.revision}` }]);
    expect(held.isValid()).toBe(false);
    expect(await held.verify()).toBe(false);
    await holder.stop({ release: true });
  });

  it("a takeover seen by the watch loses the lease at once, with no renewal in between", async () => {
    const bucket = await openLeaseBucket(bus.nc, newRun(), { ttlMs: 5_000 });
    const a = recorder();
    const holder = holdWith(bucket, "A", a, { heartbeatMs: 60_000 });
    await holder.ready;
    await watchesSetUp(bucket, 1);
    const ours = a.acquired[0]!.lease.revision;
    await bucket.kv.delete("acc0");
    const theirs = await bucket.kv.create("acc0", JSON.stringify(value("B")));
    await waitFor("the owner to notice the takeover", () => a.lost.length > 0, 30_000);
    // seen by the watch (a renewal would report a refused revision), and no renewal moved our revision before
    expect(a.lost[0]!.reason).toBe(`taken over by B at revision ${theirs} (ours was ${ours})`);
    expect(a.acquired[0]!.lease.revision).toBe(ours);
    expect(a.acquired[0]!.isValid()).toBe(false);
    await holder.stop({ release: true });
  });

  it("a lease that lapsed locally (a pause) is confirmed with a renewal at the old revision", async () => {
    const bucket = await openLeaseBucket(bus.nc, newRun(), { ttlMs: 5_000 });
    let skew = 0;
    const now = () => performance.now() + skew;
    const a = recorder();
    const logs: string[] = [];
    const holder = holdWith(bucket, "A", a, { now, heartbeatMs: 100, logs });
    await holder.ready;
    const first = a.acquired[0]!;
    skew = 10_000; // the process "was paused" for two TTLs, but nobody took the key (the server's TTL did not run)
    expect(first.isValid()).toBe(false);
    await waitFor("the lapse to be noticed", () => a.lost.length > 0, 3_000);
    expect(a.lost[0]!.reason).toBe("not renewed within the lease TTL (5000 ms)");
    // the renewal at the old revision succeeds (still ours), so the slot is given back and claimed afresh
    await waitFor("the confirmation", () => logs.some((l) => l.includes("still ours")), 3_000);
    expect(logs.join("\n")).toContain(`slot acc0: the key was still ours at revision ${first.lease.revision} (not taken over); released it`);
    await waitFor("the slot to be claimed again", () => a.acquired.length > 1, 3_000);
    expect(a.acquired[1]!.lease.revision).toBeGreaterThan(first.lease.revision);
    expect(a.acquired[1]!.isValid()).toBe(true);
    await holder.stop({ release: true });
  });

  it("a lapsed lease whose key another owner wrote: the confirming renewal is refused for its revision", async () => {
    const bucket = await openLeaseBucket(bus.nc, newRun(), { ttlMs: 5_000 });
    let skew = 0;
    const now = () => performance.now() + skew;
    const a = recorder();
    const logs: string[] = [];
    // the owner "is paused": its watch is not set up yet and its clock is about to jump
    const holder = holdWith(bucket, "A", a, { now, heartbeatMs: 100, logs });
    await holder.ready;
    const ours = a.acquired[0]!.lease.revision;
    // the write another owner made while we were paused, with our own name so the watch cannot tell it apart
    await bucket.kv.update("acc0", JSON.stringify(value("A")), ours);
    skew = 10_000;
    await waitFor("the lapse and its confirmation", () => logs.some((l) => l.includes("refused (wrong revision)")) || a.lost.some((l) => l.reason.includes("refused")), 3_000);
    // usually the lapse is seen first and confirmed; if a heartbeat slipped in between the write and the jump,
    // the regular renewal was refused instead: either way the server refused our old revision
    const story = [...a.lost.map((l) => l.reason), ...logs].join("\n");
    expect(story).toContain(`renewal at revision ${ours} refused`);
    if (a.lost[0]!.reason.startsWith("not renewed")) expect(story).toContain(`slot acc0: renewal at revision ${ours} refused (wrong revision): taken over, as expected`);
    expect(a.acquired[0]!.isValid()).toBe(false);
    await holder.stop({ release: false });
  });
});
