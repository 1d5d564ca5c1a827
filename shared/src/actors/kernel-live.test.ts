/**
 * The scheduler kernel in live mode (docs/live.md), driven by hand with made-up clock readings:
 * block dispatches do not hold the step, a block ends when its accelerator's reply is handled (never
 * before its due completion), the kernel asks for a wake-up at the next release, and every block's
 * scheduler lag is sampled. Releases are asked ahead (kernel-release.ts): a model's next release
 * is asked as soon as the current one is injected, its answer kept until it is due, no task request
 * holds the step, the run does not end while one is unanswered; and as live logs recorded before
 * that replay ("held": the tick is asked when due and holds the step). Also the refusals: live needs
 * the exact mode, replies carry a clock reading in live mode and none in virtual time, a clock input
 * in virtual time is refused.
 */
import { describe, expect, it } from "vitest";
import type { BlockDispatch, TaskReleased } from "../contracts/messages";
import { PROTOCOL_VERSION } from "../contracts/messages";
import type { ModelCosts } from "../domain/types";
import { type KernelConfig, type KernelEffect, SchedulerKernel } from "./scheduler-kernel";
import { blockResultOf, oneModelKernel } from "./testing";

/** One model of two layers (2 ms and 3 ms on the only accelerator), period 10 ms. */
const costs: ModelCosts = {
  model: "M",
  layerCount: 2,
  cycles: [Float64Array.from([2e6, 3e6])],
  latencyMs: [Float64Array.from([2, 3])],
  energyMJ: [Float64Array.from([1, 1])],
};

const config = (over: Partial<KernelConfig> = {}): KernelConfig => oneModelKernel("live", costs, { durationMs: 20, live: { speed: 1 }, ...over });

type Request = Extract<KernelEffect, { kind: "request" }>;
const requests = (effects: ReadonlyArray<KernelEffect>) => effects.filter((e): e is Request => e.kind === "request");
const waits = (effects: ReadonlyArray<KernelEffect>) => effects.flatMap((e) => (e.kind === "wait" ? [e.until] : []));

/** The task's answer to a tick at `at`: frame k released at 10k ms while k·10 ≤ at < 20. */
const released = (at: number, frame: number, nextAt: number | null): TaskReleased => ({
  _tag: "task.released",
  v: PROTOCOL_VERSION,
  run: "live",
  model: "M",
  frames: [{ model: "M", frame, releaseAt: frame * 10, injectAt: at, deadline: frame * 10 + 10 }],
  skipped: [],
  nextAt,
});

const resultOf = (r: Request) => blockResultOf(costs, r.message as BlockDispatch);

const held = { live: { speed: 1, releases: "held" } } as const;
const events = (effects: ReadonlyArray<KernelEffect>, tag: string) => effects.filter((e) => e.kind === "event" && e.event._tag === tag);

describe("scheduler kernel, live mode, releases asked ahead", () => {
  it("asks for the next release once the current one is injected, keeps the answer, injects it when due", () => {
    const k = new SchedulerKernel(config());
    const tick = requests(k.start());
    expect(tick.map((r) => r.message)).toMatchObject([{ _tag: "task.tick", at: 0, n: 1 }]);
    expect(k.blocksInFlight).toBe(1); // the tick does not hold the step
    // the task answers 0.1 ms later: frame 0 is injected then, its first layer dispatched, and the next release (due at 10) asked at once
    let fx = k.onReply(tick[0]!.corr, released(0.1, 0, 10), 0.1);
    expect(k.time).toBe(0.1);
    expect(events(fx, "frame.released")).toMatchObject([{ event: { frame: { frame: 0, releaseAt: 0, injectAt: 0.1 } } }]);
    const [next, first] = requests(fx);
    expect(next!.message).toMatchObject({ _tag: "task.tick", at: 10, n: 2 });
    expect(first!.message).toMatchObject({ _tag: "block.dispatch", firstLayer: 0, at: 0.1 });
    expect(waits(fx)).toEqual([Number.POSITIVE_INFINITY]); // the answer's arrival wakes the kernel
    // the answer (frame 1, due at 10) arrives long before it is due: kept, nothing injected
    fx = k.onReply(next!.corr, released(10, 1, null), 0.3);
    expect(events(fx, "frame.released")).toEqual([]);
    expect(waits(fx)).toEqual([10]);
    expect(k.frameRecords()).toHaveLength(1);
    fx = k.onReply(first!.corr, resultOf(first!), 2.1);
    const second = requests(fx);
    expect(second.map((r) => r.message)).toMatchObject([{ _tag: "block.dispatch", firstLayer: 1 }]);
    fx = k.onReply(second[0]!.corr, resultOf(second[0]!), 5); // early: held until its due completion, 2.1 + 3
    expect(waits(fx)).toEqual([5.1]);
    fx = k.onClock(5.2);
    expect(k.frameRecords()[0]).toMatchObject({ outcome: "onTime", completionAt: 5.1 });
    expect(waits(fx)).toEqual([10]);
    // at 10.2 the kept answer is injected (stamped 10.2) and dispatched, with no request to the task (it has no release left)
    fx = k.onClock(10.2);
    expect(events(fx, "frame.released")).toMatchObject([{ event: { frame: { frame: 1, releaseAt: 10, injectAt: 10.2 } } }]);
    expect(requests(fx).map((r) => r.message)).toMatchObject([{ _tag: "block.dispatch", firstLayer: 0, at: 10.2 }]);
  });

  it("does not end while a release it asked for is unanswered", () => {
    const k = new SchedulerKernel(config({ durationMs: 10 }));
    const tick = requests(k.start());
    const [next, first] = requests(k.onReply(tick[0]!.corr, released(0, 0, 10), 0));
    const second = requests(k.onReply(first!.corr, resultOf(first!), 2));
    let fx = k.onReply(second[0]!.corr, resultOf(second[0]!), 5);
    expect(k.frameRecords()[0]).toMatchObject({ outcome: "onTime", completionAt: 5 });
    // nothing runs or is queued, but the release due at 10 is asked and unanswered: the run waits for it
    expect(fx.some((e) => e.kind === "finished")).toBe(false);
    expect(waits(fx)).toEqual([Number.POSITIVE_INFINITY]);
    expect(k.onClock(10.5)).toEqual([{ kind: "wait", until: Number.POSITIVE_INFINITY }]);
    // the task answers late: no frame (its trigger did not fire) and no release left; the run ends
    fx = k.onReply(next!.corr, { ...released(10, 1, null), frames: [], skipped: [1] }, 10.6);
    expect(fx.some((e) => e.kind === "finished")).toBe(true);
    expect(k.finished).toBe(true);
  });

  it("a cascade child's release is an input like any other: the step goes on, the frame is injected when it arrives", () => {
    const child = { name: "C", periodMs: 10, dependsOn: ["M"], costs: { ...costs, model: "C" } };
    const k = new SchedulerKernel(config({ models: [{ name: "M", periodMs: 10, dependsOn: [], costs }, child], durationMs: 10 }));
    const ticks = requests(k.start());
    expect(ticks.map((r) => r.message)).toMatchObject([{ _tag: "task.tick", at: 0 }, { _tag: "task.tick", at: 0 }]);
    const byModel = (name: string) => ticks.find((r) => r.to.kind === "task" && r.to.name === name)!;
    k.onReply(byModel("C").corr, { ...released(0, 0, null), model: "C", frames: [] }, 0);
    const [first] = requests(k.onReply(byModel("M").corr, released(0, 0, null), 0));
    const second = requests(k.onReply(first!.corr, resultOf(first!), 2));
    // M:0 ends at 5: C is told, and the kernel goes on without waiting for its answer
    let fx = k.onReply(second[0]!.corr, resultOf(second[0]!), 5);
    const parentEnded = requests(fx);
    expect(parentEnded.map((r) => r.message)).toMatchObject([{ _tag: "task.parentEnded", parent: "M", frame: 0 }]);
    expect(fx.some((e) => e.kind === "finished")).toBe(false);
    const frame = { model: "C", frame: 0, releaseAt: 0, injectAt: 5, deadline: 10 };
    fx = k.onReply(parentEnded[0]!.corr, { ...released(5, 0, null), model: "C", frames: [frame] }, 5.3);
    expect(events(fx, "frame.released")).toMatchObject([{ event: { frame: { model: "C", frame: 0, injectAt: 5.3 } } }]);
    expect(requests(fx).map((r) => r.message)).toMatchObject([{ _tag: "block.dispatch", job: "C:0", firstLayer: 0, at: 5.3 }]);
  });
});

describe("scheduler kernel, live mode (releases held, as logs recorded before they were asked ahead replay)", () => {
  it("dispatches do not hold the step; a block ends when its reply is handled; lag is sampled", () => {
    const k = new SchedulerKernel(config(held));
    const tick = requests(k.start());
    expect(tick.map((r) => r.message._tag)).toEqual(["task.tick"]);
    // the task answers 0.1 ms later: frame 0 is queued and its first layer dispatched at once
    let fx = k.onReply(tick[0]!.corr, released(0.1, 0, 10), 0.1);
    const first = requests(fx);
    expect(first.map((r) => (r.message as BlockDispatch).firstLayer)).toEqual([0]);
    expect((first[0]!.message as BlockDispatch).speed).toBe(1);
    expect(k.time).toBe(0); // the event began at 0; the reply only moved the clock reading
    expect(waits(fx)).toEqual([10]); // nothing else to do: wake me at the next release
    expect(k.blocksInFlight).toBe(1);

    // the accelerator's reply arrives 0.5 ms after the due completion (0 + 2 ms): the lag runs to
    // when the block retires (the accelerator is free again), here at once
    fx = k.onReply(first[0]!.corr, resultOf(first[0]!), 2.5);
    expect(k.time).toBe(2.5);
    const dispatched = fx.find((e) => e.kind === "event" && e.event._tag === "block.dispatched");
    expect(dispatched).toMatchObject({ event: { at: 0, completesAt: 2.5 } });
    const second = requests(fx);
    expect(second.map((r) => (r.message as BlockDispatch).firstLayer)).toEqual([1]);
    expect((second[0]!.message as BlockDispatch).at).toBe(2.5);
    expect(k.lagMs).toEqual([0.5]);

    // a reply that arrives before the block's due time (the completion lead) is held until then;
    // its lag is how late the wake-up retires it
    fx = k.onReply(second[0]!.corr, resultOf(second[0]!), 5.4); // due 2.5 + 3 = 5.5
    expect(waits(fx)).toEqual([5.5]);
    expect(k.lagMs).toEqual([0.5]);
    fx = k.onClock(5.6);
    expect(k.time).toBe(5.6);
    expect(k.lagMs).toHaveLength(2);
    expect(k.lagMs[1]).toBeCloseTo(0.1, 9);
    const ended = fx.filter((e) => e.kind === "event" && e.event._tag === "frame.ended");
    expect(ended).toHaveLength(1);
    expect(k.frameRecords()[0]).toMatchObject({ outcome: "onTime", completionAt: 5.5, dispatchAt: 0 });
    expect(waits(fx)).toEqual([10]);

    // a wake-up that comes early (clock reads less than asked) only waits again
    expect(waits(k.onClock(9.9))).toEqual([10]);
    const tick2 = requests(k.onClock(10.2));
    expect(k.time).toBe(10.2);
    expect(tick2.map((r) => r.message)).toMatchObject([{ _tag: "task.tick", at: 10.2 }]);
  });

  it("a block reply that arrives while the step waits on a task is retired at the next event", () => {
    const k = new SchedulerKernel(config({ ...held, durationMs: 10 }));
    const tick = requests(k.start());
    const first = requests(k.onReply(tick[0]!.corr, released(0, 0, 10), 0));
    let fx = k.onReply(first[0]!.corr, resultOf(first[0]!), 2);
    const second = requests(fx);
    // the last block is due at 5; the task is ticked at the release time 10 and answers later
    fx = k.onClock(10);
    const tick2 = requests(fx);
    expect(tick2.map((r) => r.message._tag)).toEqual(["task.tick"]);
    // the block's reply arrives while the tick is outstanding: nothing happens yet
    expect(requests(k.onReply(second[0]!.corr, resultOf(second[0]!), 10.05))).toEqual([]);
    expect(k.frameRecords()[0]!.outcome).toBe("unfinished");
    fx = k.onReply(tick2[0]!.corr, { ...released(10.1, 1, null), frames: [] }, 10.1);
    expect(k.frameRecords()[0]).toMatchObject({ outcome: "late", completionAt: 10.05 });
    expect(fx.some((e) => e.kind === "finished")).toBe(true);
    expect(k.finished).toBe(true);
    // the first block retired when its reply came (2 = due); the second when the step went on (10.1)
    expect(k.lagMs).toEqual([0, 10.1 - 5]);
  });

});

describe("scheduler kernel, live mode refusals", () => {
  it("refuses what live mode cannot do", () => {
    expect(() => new SchedulerKernel(config({ mode: "xrbench" }))).toThrow(/live mode needs the exact kernel mode/);
    expect(() => new SchedulerKernel(config({ live: { speed: 0 } }))).toThrow(/expected a number in \(0, 1000\]/);
    const k = new SchedulerKernel(config());
    const tick = requests(k.start());
    expect(() => k.onReply(tick[0]!.corr, released(0, 0, 10))).toThrow(/carries no clock reading/);
    const { live: _live, ...virtualCfg } = config();
    const v = new SchedulerKernel(virtualCfg);
    const vt = requests(v.start());
    expect(() => v.onClock(1)).toThrow(/clock input in virtual time/);
    expect(() => v.onReply(vt[0]!.corr, released(0, 0, 10), 0)).toThrow(/carries a clock reading/);
  });
});

describe("scheduler kernel, live mode with a timing tolerance (kernel-time.ts)", () => {
  /** Frame k of M released at 10k; layer 1 takes 2 ms, layer 2 7.5 ms: frame 0's last block is due at 9.5, just before frame 1's release. */
  const long: ModelCosts = { ...costs, cycles: [Float64Array.from([2e6, 7.5e6])], latencyMs: [Float64Array.from([2, 7.5])] };
  const tolerant = (toleranceMs: number) => new SchedulerKernel(oneModelKernel("live", long, { durationMs: 20, live: { speed: 1, toleranceMs } }));
  const resultOfLong = (r: Request) => blockResultOf(long, r.message as BlockDispatch);

  /** Starts a kernel and runs frame 0 up to its second block, dispatched at run time 2 (the first block's report handled at `clockAt`). */
  const toSecondBlock = (k: SchedulerKernel, clockAt: number) => {
    const [tick] = requests(k.start());
    expect(k.blocksInFlight).toBe(0); // with a tolerance a task request holds the step, as in virtual time
    // the task answers 0.4 ms late: frame 0 is injected at its due time 0, its first block dispatched then
    let fx = k.onReply(tick!.corr, released(0, 0, 10), 0.4);
    expect(events(fx, "frame.released")).toMatchObject([{ event: { frame: { frame: 0, injectAt: 0 } } }]);
    const [next, first] = requests(fx);
    expect(first!.message).toMatchObject({ _tag: "block.dispatch", at: 0, sentAt: 0.4 });
    k.onReply(next!.corr, released(10, 1, null), 0.5); // frame 1's release, kept until due
    fx = k.onReply(first!.corr, resultOfLong(first!), 1); // early: held until its due completion
    expect(waits(fx)).toEqual([2]);
    fx = k.onClock(clockAt);
    const [second] = requests(fx);
    return second!;
  };

  it("handles an event up to the tolerance late at its due time: the decision and the block keep the virtual run's times", () => {
    const k = tolerant(2);
    const second = toSecondBlock(k, 3.9); // woken 1.9 ms late
    expect(second.message).toMatchObject({ _tag: "block.dispatch", firstLayer: 1, at: 2, sentAt: 3.9 });
    expect(k.lagMs).toEqual([1.9]); // the lag is the clock's
    // its report comes 1.5 ms after its due completion (9.5): handled at 9.5, then frame 1 at its release, 10
    const fx = k.onReply(second.corr, resultOfLong(second), 11);
    expect(k.frameRecords()[0]).toMatchObject({ outcome: "onTime", completionAt: 9.5 });
    expect(events(fx, "frame.released")).toMatchObject([{ event: { frame: { frame: 1, injectAt: 10 } } }]);
    expect(requests(fx).map((r) => r.message)).toMatchObject([{ _tag: "block.dispatch", job: "M:1", at: 10, sentAt: 11 }]);
  });

  it("beyond the tolerance the lateness is charged: the event is handled at the clock reading less the tolerance", () => {
    const k = tolerant(2);
    const second = toSecondBlock(k, 5); // 3 ms late
    expect(second.message).toMatchObject({ at: 3, sentAt: 5 }); // 1 ms charged
    expect(k.lagMs).toEqual([3]);
  });

  it("does not pass a block's due completion without its report until the tolerance has passed", () => {
    const k = tolerant(2);
    const second = toSecondBlock(k, 2); // due 9.5
    // frame 1 is due at 10, the report of the block due at 9.5 is not in: the kernel waits for it until 11.5
    let fx = k.onClock(10.2);
    expect(waits(fx)).toEqual([11.5]);
    expect(events(fx, "frame.released")).toEqual([]);
    // it comes at 10.6: the block ends at 9.5 and frame 1, released at 10, finds the accelerator free (as in virtual time)
    fx = k.onReply(second.corr, resultOfLong(second), 10.6);
    expect(k.frameRecords()[0]).toMatchObject({ completionAt: 9.5 });
    expect(requests(fx).map((r) => r.message)).toMatchObject([{ _tag: "block.dispatch", job: "M:1", at: 10 }]);
  });

  it("a report later than the tolerance: the kernel has moved on, and the block ends when the report is handled, less the tolerance", () => {
    const k = tolerant(2);
    const second = toSecondBlock(k, 2);
    let fx = k.onClock(11.6); // past 9.5 + 2: frame 1 is injected at 10 (its release, within the tolerance) and waits for the accelerator
    expect(events(fx, "frame.released")).toMatchObject([{ event: { frame: { frame: 1, injectAt: 10 } } }]);
    expect(requests(fx)).toEqual([]);
    fx = k.onReply(second.corr, resultOfLong(second), 13);
    expect(k.frameRecords()[0]).toMatchObject({ completionAt: 11 });
    expect(requests(fx).map((r) => r.message)).toMatchObject([{ _tag: "block.dispatch", job: "M:1", at: 11, sentAt: 13 }]);
    expect(k.lagMs.at(-1)).toBeCloseTo(3.5);
  });

  it("refuses a tolerance outside [0, 1000] wall ms", () => {
    for (const toleranceMs of [-1, Number.NaN, 1001]) expect(() => tolerant(toleranceMs)).toThrow(/live timing tolerance .* expected a number of wall ms in \[0, 1000\]/);
  });
});
