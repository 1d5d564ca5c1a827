/**
 * The live timing tolerance (docs/live.md "Timing tolerance", actors/kernel-time.ts): while every
 * event reaches the scheduler within the tolerance of its due time, a live run makes the virtual
 * run's decisions at the virtual run's times — the same frames, outcomes and energy — and when
 * events come later than that, the run changes and the blocks retired beyond it are counted.
 *
 * The live run here is the scheduler's kernel in live mode driven by a deterministic emulation of
 * its surroundings, in simulated wall time: the model tasks and accelerators answer with their pure
 * logic (runtime/direct pureResponders) after a message path of `transit` ms, each accelerator
 * reports a block's completion a lead before its end (as runtime/live-clock's blockClock does), and
 * every wake-up the kernel asks for comes late by a seeded draw in [0, `late`] ms — the timer's and
 * the machine's lateness, which a real live run has and virtual time has not.
 */
import { describe, expect, it } from "vitest";
import type { KernelEffect, KernelInput } from "@sdrm3/shared/actors";
import { SchedulerKernel } from "@sdrm3/shared/actors";
import { type RunOptions, isolatedRun, kernelConfigFor, pureResponders, resultOf, simulateDirect } from "@sdrm3/shared/runtime";
import { Prng } from "@sdrm3/shared/domain";
import { runSpecOf } from "./support/run-result";

interface Emulation {
  /** Wall ms a message takes each way. */
  readonly transit: number;
  /** A wake-up comes late by up to this many wall ms (seeded). */
  readonly late: number;
  /** How long before a block's end its accelerator reports it, wall ms. */
  readonly lead: number;
  readonly seed: number;
}

/** Runs `opts` (live, speed 1) with its kernel fed by the emulation; the run's result. */
const emulatedLiveRun = (opts: RunOptions, em: Emulation) => {
  const run = "tolerance";
  const kernel = new SchedulerKernel(kernelConfigFor(opts, run));
  const answer = pureResponders(opts, run);
  const lateness = Prng.forStream(em.seed, "wake-ups");
  // inputs in flight, delivered in (wall time, sequence) order
  const inbox: Array<{ at: number; seq: number; input: KernelInput }> = [];
  let seq = 0;
  let wake: { at: number; seq: number } | undefined;
  const deliver = (at: number, input: KernelInput) => inbox.push({ at, seq: seq++, input });
  const handle = (effects: ReadonlyArray<KernelEffect>, now: number) => {
    for (const e of effects) {
      if (e.kind === "request") {
        const reply = answer(e);
        const arrives = now + 2 * em.transit;
        deliver(reply._tag === "block.result" ? Math.max(arrives, reply.completesAt - em.lead) : arrives, { kind: "reply", corr: e.corr, reply });
      } else if (e.kind === "wait") wake = Number.isFinite(e.until) ? { at: Math.max(now, e.until) + lateness.next() * em.late, seq: seq++ } : undefined;
    }
  };
  handle(kernel.start(), 0);
  for (let steps = 0; !kernel.finished; steps++) {
    if (steps > 10_000_000) throw new Error("the emulated live run does not end");
    inbox.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const first = inbox[0];
    if (first === undefined && wake === undefined) throw new Error(`the emulated live run stalled at ${kernel.time} ms`);
    if (first !== undefined && (wake === undefined || first.at < wake.at || (first.at === wake.at && first.seq < wake.seq))) {
      inbox.shift();
      const input = first.input.kind === "reply" ? { ...first.input, at: first.at } : first.input;
      handle(kernel.apply(input), first.at);
    } else {
      const at = wake!.at;
      wake = undefined;
      handle(kernel.onClock(at), at);
    }
  }
  return resultOf(opts, run, kernel, 0);
};

const spec = (scenario: string, hardware: string, extra: Record<string, unknown>, toleranceMs: number, seed = 3): RunOptions =>
  ({ ...runSpecOf(scenario, hardware, "sdrm3", 1000, extra, seed, "tolerance"), live: { speed: 1, toleranceMs } });

/** The same spec in virtual time. */
const virtualTwin = isolatedRun;

/** The run's frames as text (compared whole: outcome, times, energy of every frame). */
const framesOf = (r: { readonly frames: ReadonlyArray<unknown> }) => JSON.stringify(r.frames);

describe("a live run within its timing tolerance is its virtual twin", () => {
  it.each([
    ["AR_Assistant", "Dual_4K/WS_OS", { quantumMs: 4 }, 0.2],
    ["VR_gaming", "Quad_8K/WS_OS_WS_OS", { quantumMs: 4 }, 0.2],
    ["social_interactionA", "Dual_4K/WS_OS", { quantumMs: 2 }, 0.2],
    // blocks of one layer (tens of µs) cannot wait for a round trip each: in one process (no message path)
    ["AR_Assistant", "Dual_4K/WS_OS", {}, 0],
    ["outdoor_activity_A", "Quad_8K/WS_OS_WS_OS", {}, 0],
  ] as const)("%s on %s %j, a message path of %s ms: wake-ups up to 1.5 ms late change no frame", (scenario, hardware, extra, transit) => {
    const opts = spec(scenario, hardware, extra, 2);
    const live = emulatedLiveRun(opts, { transit, late: 1.5, lead: 4, seed: 11 });
    const virtual = simulateDirect(virtualTwin(opts));
    expect(live.frames.length).toBeGreaterThan(20);
    expect(framesOf(live)).toBe(framesOf(virtual));
    expect(live.summary).toEqual(virtual.summary);
    expect(live.decisions).toBe(virtual.decisions);
    expect(live.live!.lag.beyondTolerance).toBe(0);
    expect(live.live!.lag.maxMs!).toBeGreaterThan(0); // the lateness was there, and absorbed
  });

  it("a report that comes back late within the tolerance (a lead shorter than the path) changes nothing either", () => {
    const opts = spec("VR_gaming", "Dual_4K/WS_OS", { quantumMs: 4 }, 3);
    const live = emulatedLiveRun(opts, { transit: 1, late: 0.5, lead: 0, seed: 5 });
    expect(framesOf(live)).toBe(framesOf(simulateDirect(virtualTwin(opts))));
    expect(live.live!.lag.maxMs!).toBeGreaterThan(0); // blocks shorter than a round trip retired late
    expect(live.live!.lag.beyondTolerance).toBe(0);
  });

  it("beyond the tolerance the lateness is the run's: it changes, and the blocks retired beyond it are counted", () => {
    const opts = spec("AR_Assistant", "Dual_4K/WS_OS", {}, 0.5);
    const live = emulatedLiveRun(opts, { transit: 0.2, late: 3, lead: 4, seed: 7 });
    const virtual = simulateDirect(virtualTwin(opts));
    expect(framesOf(live)).not.toBe(framesOf(virtual));
    expect(live.live!.lag.beyondTolerance!).toBeGreaterThan(0);
    expect(live.live!.toleranceMs).toBe(0.5);
  });

  it("without a tolerance every event is handled at the clock reading: the same lateness changes the run", () => {
    const opts = spec("AR_Assistant", "Dual_4K/WS_OS", { quantumMs: 4 }, 0);
    const live = emulatedLiveRun(opts, { transit: 0.2, late: 1.5, lead: 4, seed: 11 });
    expect(framesOf(live)).not.toBe(framesOf(simulateDirect(virtualTwin(opts))));
    expect(live.live!.toleranceMs).toBeUndefined();
    expect(live.live!.lag.beyondTolerance).toBeUndefined();
  });
});
