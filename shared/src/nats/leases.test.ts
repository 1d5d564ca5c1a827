/**
 * Slot leases on a real nats-server (JetStream KV): claim, a second claim fails, renew, a stale
 * renewal is a lost lease, release, expiry lets a spare claim (and the dead owner's local validity
 * ended first), a clean release reaches a spare through the watch, bucket removal.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { natsTestOptions } from "../testkit";
import {
  type HeldSlot,
  LeaseLostError,
  type LeaseBucket,
  claimSlot,
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
const waitFor = async (what: string, cond: () => boolean, timeoutMs: number) => {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
  return Date.now() - start;
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
    await holderA.stop({ release: false });
    let validWhenTaken: boolean | undefined;
    const took = await waitFor("the spare to take a slot", () => {
      if (spare.acquired.length > 0 && validWhenTaken === undefined) validWhenTaken = acc1.isValid() || a.acquired[0]!.isValid();
      return spare.acquired.length > 0;
    }, 5000);
    expect(spare.acquired[0]!.slot).toBe("acc0"); // first free slot in order
    expect(validWhenTaken).toBe(false); // the dead owner's local validity ended before the server expired its key
    expect(took).toBeLessThan(900 + 600 + 1000);
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
    await sleep(300); // the watch is set up
    await holderA.stop({ release: true });
    const took = await waitFor("the spare to claim the released slot", () => spare.acquired.length > 0, 3000);
    expect(took).toBeLessThan(2000);
    expect((await readLease(bucket, "acc0"))?.value.owner).toBe("S");
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
