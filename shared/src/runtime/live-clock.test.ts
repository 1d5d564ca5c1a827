/**
 * The live clock's timers (docs/live.md): an accelerator's block clock (a block ends at its due
 * completion on the run's timeline, mapped onto the accelerator's clock through the dispatches; back
 * to back from their arrival before any is known; each completion reported a lead before its end)
 * and the precise timers the scheduler wakes up with.
 */
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { type Timers, PreciseTimers, blockClock } from "./live-clock";

/** Timers that record what they were asked (wall ms) and fire on demand. */
const recorded = () => {
  const asked: number[] = [];
  const fns: Array<() => void> = [];
  const timers: Timers = {
    after: (wallMs, fn) => {
      asked.push(wallMs);
      fns.push(fn);
      return { cancel: () => {} };
    },
  };
  return { asked, fns, timers };
};

describe("blockClock: a live block ends when the run's timeline says, its completion reported a lead before", () => {
  it("before any dispatch has arrived, blocks run back to back from their arrival, each reported a lead before its end", () => {
    const t = recorded();
    let now = 0;
    const clock = blockClock(1, t.timers, () => now);
    clock.arm({ wallMs: 2 }, () => {}); // ends at 2: reported at 1
    now = 1; // the first block's early report arms the one queued behind it
    clock.arm({ wallMs: 3 }, () => {}); // starts at 2 (the first one's end), ends at 5: reported at 4, 3 from now
    now = 4;
    clock.arm({ wallMs: 1 }, () => {}); // starts at 5, ends at 6: reported at 5
    expect(t.asked).toEqual([1, 3, 1]);
  });

  it("maps a block's due completion onto its wall clock through the earliest-arriving dispatch", () => {
    const t = recorded();
    let now = 1000; // wall ms of this process
    const clock = blockClock(4, t.timers, () => now);
    clock.arrived(10, 1); // run time 10 arrives at wall 1000: the run began by wall 990
    clock.arm({ wallMs: 6, endsAt: 16, speed: 1 }, () => {}); // ends at wall 1006: reported at 1002
    now = 1012.5;
    clock.arrived(20, 1); // a late dispatch (2.5 ms on its way) does not move the map
    clock.arm({ wallMs: 6, endsAt: 26, speed: 1 }, () => {}); // ends at 1016, not 1018.5: reported at 1012, at once
    now = 1013;
    clock.arrived(23.5, 1); // a quicker one than the first: the run began by 989.5
    clock.arm({ wallMs: 8, endsAt: 31.5, speed: 1 }, () => {}); // ends at 1021: reported at 1017
    expect(t.asked).toEqual([2, 0, 4]);
  });

  it("scales run time by the run's speed", () => {
    const t = recorded();
    let now = 500;
    const clock = blockClock(0, t.timers, () => now);
    clock.arrived(5, 0.5); // run time 5 at speed 0.5 is 10 wall ms: the run began by wall 490
    clock.arm({ wallMs: 4, endsAt: 7, speed: 0.5 }, () => {}); // run time 7 is wall 504
    now = 503;
    clock.arm({ wallMs: 4, endsAt: 9, speed: 0.5 }, () => {}); // wall 508
    expect(t.asked).toEqual([4, 5]);
  });

  it("without a lead the completion is reported at the block's end", () => {
    const t = recorded();
    const clock = blockClock(0, t.timers, () => 5);
    clock.arm({ wallMs: 0.75 }, () => {});
    clock.arm({ wallMs: 0.25 }, () => {});
    expect(t.asked).toEqual([0.75, 1]);
  });

  it("refuses a lead that is not a finite number >= 0", () => {
    for (const lead of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => blockClock(lead)).toThrow(/completion lead .* expected a finite number >= 0/);
  });
});

describe("PreciseTimers (a timer thread, the last stretch polled)", () => {
  it("fires timers in due order, none before its time; a cancelled one never fires", async () => {
    const timers = new PreciseTimers();
    const start = performance.now();
    const fired: Array<{ name: string; at: number }> = [];
    const done = new Promise<void>((resolve) => {
      const fire = (name: string, last = false) => () => {
        fired.push({ name, at: performance.now() - start });
        if (last) resolve();
      };
      timers.after(6, fire("c", true));
      timers.after(0.1, fire("a"));
      timers.after(3, fire("b"));
      timers.after(4, fire("cancelled")).cancel();
    });
    await done;
    expect(fired.map((f) => f.name)).toEqual(["a", "b", "c"]);
    // never early (a late one is the machine's doing; its lateness is what live runs report as lag)
    expect(fired[0]!.at).toBeGreaterThanOrEqual(0.1);
    expect(fired[1]!.at).toBeGreaterThanOrEqual(3);
    expect(fired[2]!.at).toBeGreaterThanOrEqual(6);
    expect(timers.pending).toBe(0);
  });
});

describe("PreciseTimers before and after its thread runs", () => {
  it("a timer armed while the thread starts fires (a coarse stand-in), never early; ready() resolves once the thread runs", async () => {
    const timers = new PreciseTimers();
    const start = performance.now();
    const firstAt = new Promise<number>((resolve) => timers.after(2, () => resolve(performance.now() - start)));
    let up = false;
    const ready = timers.ready().then(() => (up = true));
    expect(up).toBe(false); // a worker takes tens of ms to start
    expect(await firstAt).toBeGreaterThanOrEqual(2);
    await ready;
    const t1 = performance.now();
    const laterAt = await new Promise<number>((resolve) => timers.after(1.5, () => resolve(performance.now() - t1)));
    expect(laterAt).toBeGreaterThanOrEqual(1.5);
    await timers.ready(); // once running, at once
    expect(timers.pending).toBe(0);
  });

  it("a process with nothing else to do stays up until the thread it waits for runs", () => {
    // the thread is unreferenced while idle; a pending ready() holds the process (a live run awaits it)
    const source = `import { PreciseTimers } from ${JSON.stringify(new URL("./live-clock.ts", import.meta.url).pathname)};
new PreciseTimers().ready().then(() => console.log("thread running"));`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", source], { encoding: "utf8", timeout: 60_000 });
    expect(out.trim()).toBe("thread running");
  });
});

describe("PreciseTimers under churn (the scheduler's pattern: cancel the wake-up, set the next one)", () => {
  it("every timer not cancelled fires, none early, whatever the order of arming, cancelling and re-arming", async () => {
    const timers = new PreciseTimers();
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648; // a fixed LCG: the same pattern every run
    const expected = new Set<number>();
    const early: number[] = [];
    let fired = 0;
    let resolveAll: () => void = () => {};
    const all = new Promise<void>((r) => (resolveAll = r));
    let wakeUp: { readonly i: number; readonly handle: { cancel(): void } } | undefined;
    const arm = (i: number): { readonly i: number; readonly handle: { cancel(): void } } => {
      const wallMs = next() * 1.5;
      const due = performance.now() + wallMs;
      expected.add(i);
      const handle = timers.after(wallMs, () => {
        if (performance.now() < due) early.push(i);
        expected.delete(i);
        fired++;
        if (i < 200) {
          // like the scheduler after a step: drop the pending wake-up, arm the next one (and a stray timer)
          if (wakeUp !== undefined && expected.has(wakeUp.i) && next() < 0.5) {
            wakeUp.handle.cancel();
            expected.delete(wakeUp.i);
          }
          wakeUp = arm(i + 200);
          if (next() < 0.3) arm(i + 400);
        }
        if (expected.size === 0) resolveAll();
      });
      return { i, handle };
    };
    for (let i = 0; i < 50; i++) arm(i);
    timers.after(0.5, () => early.push(-1)).cancel();
    await all; // a timer that never fires times the test out
    expect(early).toEqual([]);
    expect(fired).toBeGreaterThan(50);
    expect(timers.pending).toBe(0);
  });
});
