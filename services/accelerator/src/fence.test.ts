/**
 * The slot fence's logic with fake clocks and a fake lease (no server): a pause is seen by the
 * first reading after it, by either clock; a paused slot answers nothing until a revision check
 * sent after the pause succeeds; a check from before a second pause does not clear it; a lost or
 * lapsed lease is never served.
 */
import { describe, expect, it } from "vitest";
import { type FencedLease, PauseAwareClock, slotFence } from "./fence";

const fakeClocks = () => {
  const c = { mono: 0, wall: 1_700_000_000_000 };
  return { c, clocks: { mono: () => c.mono, wall: () => c.wall } };
};

/** A lease whose verify() calls wait until the test answers them. */
const fakeLease = () => {
  const pending: Array<(ok: boolean) => void> = [];
  const lease = {
    slot: "acc1",
    lease: { revision: 7 },
    valid: true,
    verifies: 0,
    isValid: () => lease.valid,
    verify: () => {
      lease.verifies++;
      return new Promise<boolean>((resolve) => pending.push(resolve));
    },
  };
  const answer = async (ok: boolean) => {
    pending.shift()!(ok);
    await new Promise((r) => setTimeout(r, 0));
  };
  return { lease: lease as FencedLease & typeof lease, answer, pending };
};

describe("PauseAwareClock", () => {
  it("advances by the larger progress of the two clocks and reports steps of at least pauseMs", () => {
    const { c, clocks } = fakeClocks();
    const clock = new PauseAwareClock(clocks, 500);
    const pauses: number[] = [];
    clock.onPause((gap) => pauses.push(gap));
    c.mono += 100;
    c.wall += 100;
    expect(clock.now()).toBe(100);
    // suspended machine: the monotonic clock stood still, the wall clock ran 4 s
    c.wall += 4_000;
    c.mono += 1;
    expect(clock.now()).toBe(4_100);
    // the wall clock jumps back an hour (NTP): time still advances by the monotonic progress
    c.wall -= 3_600_000;
    c.mono += 50;
    expect(clock.now()).toBe(4_150);
    // and the wall clock's return to where it was is not counted a second time
    c.wall += 3_600_000 + 60;
    c.mono += 60;
    expect(clock.now()).toBe(4_210);
    // SIGSTOP: both clocks ran on, nobody read them
    c.mono += 2_500;
    c.wall += 2_500;
    expect(clock.now()).toBe(6_710);
    expect(pauses).toEqual([4_000, 2_500]);
  });
});

describe("slotFence", () => {
  it("serves while the lease is valid, refuses after a pause until a check sent after it succeeds", async () => {
    const { c, clocks } = fakeClocks();
    const clock = new PauseAwareClock(clocks, 500);
    const { lease, answer } = fakeLease();
    const fence = slotFence(lease, clock.now);
    clock.onPause((gap) => fence.paused(gap));

    expect(fence.canServe()).toBe(true);
    c.mono += 100;
    expect(fence.canServe()).toBe(true);
    expect(lease.verifies).toBe(0); // no pause, no check

    // a dispatch is the first thing to run after a pause: the fence sees the pause itself and refuses
    c.mono += 2_000;
    c.wall += 2_000;
    expect(fence.canServe()).toBe(false);
    expect(fence.suspect()).toBe(true);
    expect(lease.verifies).toBe(1);
    expect(fence.canServe()).toBe(false); // still waiting for the check: refused, no second check
    expect(lease.verifies).toBe(1);

    await answer(true); // the key is still at our revision
    expect(fence.suspect()).toBe(false);
    expect(fence.canServe()).toBe(true);
    expect(fence.refused()).toBe(2);
  });

  it("a check that fails keeps the slot fenced; a later dispatch asks again", async () => {
    const { c, clocks } = fakeClocks();
    const clock = new PauseAwareClock(clocks, 500);
    const { lease, answer } = fakeLease();
    const fence = slotFence(lease, clock.now);
    clock.onPause((gap) => fence.paused(gap));
    c.mono += 1_000;
    expect(fence.canServe()).toBe(false);
    await answer(false); // another revision (lost) or unreadable
    expect(fence.suspect()).toBe(true);
    expect(fence.canServe()).toBe(false);
    expect(lease.verifies).toBe(2);
    await answer(true);
    expect(fence.canServe()).toBe(true);
  });

  it("a check started before a second pause does not clear the suspicion", async () => {
    const { c, clocks } = fakeClocks();
    const clock = new PauseAwareClock(clocks, 500);
    const { lease, answer, pending } = fakeLease();
    const fence = slotFence(lease, clock.now);
    clock.onPause((gap) => fence.paused(gap));
    c.mono += 1_000;
    expect(fence.canServe()).toBe(false); // check 1 in flight
    c.mono += 1_000;
    expect(fence.canServe()).toBe(false); // paused again: check 2 starts
    expect(pending.length).toBe(2);
    await answer(true); // check 1 (sent before the second pause) says ok: not enough
    expect(fence.suspect()).toBe(true);
    expect(fence.canServe()).toBe(false);
    await answer(true); // check 2
    expect(fence.suspect()).toBe(false);
    expect(fence.canServe()).toBe(true);
  });

  it("a lease that is not valid is never served, pause or not", () => {
    const { clocks } = fakeClocks();
    const clock = new PauseAwareClock(clocks, 500);
    const { lease } = fakeLease();
    const fence = slotFence(lease, clock.now);
    lease.valid = false;
    expect(fence.canServe()).toBe(false);
    expect(fence.canServe()).toBe(false);
    expect(fence.refused()).toBe(2);
    expect(lease.verifies).toBe(0);
  });
});
