/**
 * The model task machine as a pure reducer (`initialTransition` / `transition`): no host, no bus.
 * Each test feeds explicit events and checks the next state, the context and the `respond` effects
 * the machine names (with their exact messages). The other machines: machines.test.ts.
 */
import { describe, expect, it } from "vitest";
import { initialTransition, transition } from "xstate";
import fc from "fast-check";
import type { TaskParentEnded, TaskReply, TaskTick } from "../contracts/messages";
import { drawAt } from "../domain/prng";
import { modelTaskMachine } from "./model-task";

import { onlyReply, responds, taskConfig } from "./testing";

// ─── model task ───────────────────────────────────────────────────────────────────────────────

const tick = (at: number): TaskTick => ({ _tag: "task.tick", v: 1, run: "r1", at });

type TaskSnapshot = ReturnType<typeof initialTransition<typeof modelTaskMachine>>[0];


/** Sends a tick at `at`; returns the next snapshot and the (single) reply. */
const tickTask = (s: TaskSnapshot, at: number, replyTo = `t${at}`) => {
  const [next, actions] = transition(modelTaskMachine, s, { type: "task.tick", cmd: tick(at), replyTo });
  const reply = onlyReply<TaskReply>(actions);
  expect(reply.replyTo).toBe(replyTo);
  if (reply.message._tag !== "task.released") throw new Error(`expected task.released, got ${JSON.stringify(reply.message)}`);
  return [next, reply.message] as const;
};

const parentEnded = (frame: number, releaseAt: number, at: number, outcome: TaskParentEnded["outcome"] = "onTime"): TaskParentEnded => ({
  _tag: "task.parentEnded",
  v: 1,
  run: "r1",
  at,
  parent: "ES_RITNet",
  frame,
  releaseAt,
  outcome,
});

describe("model task machine, xrbench mode", () => {
  it("releases frame f at the first tick ≥ f·P (P = 1000 div fps) with deadline (f+1)·P, one per tick", () => {
    const [s0] = initialTransition(modelTaskMachine, taskConfig());
    expect(s0.value).toBe("releasing");

    const [s1, r1] = tickTask(s0, 0);
    expect(r1).toEqual({
      _tag: "task.released",
      v: 1,
      run: "r1",
      model: "ES_RITNet",
      frames: [{ model: "ES_RITNet", frame: 0, releaseAt: 0, injectAt: 0, deadline: 16 }],
      skipped: [],
      nextAt: 16,
    });

    const [s2, r2] = tickTask(s1, 10); // before frame 1 is due
    expect([r2.frames, r2.skipped, r2.nextAt]).toEqual([[], [], 16]);
    expect(s2.context.state).toEqual(s1.context.state);

    const [s3, r3] = tickTask(s2, 20); // first tick ≥ 16
    expect(r3.frames).toEqual([{ model: "ES_RITNet", frame: 1, releaseAt: 16, injectAt: 20, deadline: 32 }]);
    expect(r3.nextAt).toBe(32);

    // a late tick (frames 2, 3 and 4 all due) releases one frame only
    const [s4, r4] = tickTask(s3, 70);
    expect(r4.frames).toEqual([{ model: "ES_RITNet", frame: 2, releaseAt: 32, injectAt: 70, deadline: 48 }]);
    expect(r4.nextAt).toBe(48);
    const [, r5] = tickTask(s4, 70);
    expect(r5.frames).toEqual([{ model: "ES_RITNet", frame: 3, releaseAt: 48, injectAt: 70, deadline: 64 }]);
  });

  it("releases floor(duration / P) frames, then has no timed release left (reactive)", () => {
    // P = floor(1000 / 45) = 22; floor(50 / 22) = 2 frames
    let [s] = initialTransition(modelTaskMachine, taskConfig({ name: "HT", fps: 45, durationMs: 50 }));
    const released: number[] = [];
    for (const at of [0, 22]) {
      const [next, r] = tickTask(s, at);
      released.push(...r.frames.map((f) => f.deadline));
      s = next;
      if (at === 0) {
        expect(r.nextAt).toBe(22);
        expect(s.value).toBe("releasing");
      } else {
        expect(r.nextAt).toBeNull();
        expect(s.value).toBe("reactive");
      }
    }
    expect(released).toEqual([22, 44]);
    const [after, r] = tickTask(s, 44);
    expect([r.frames, r.nextAt]).toEqual([[], null]);
    expect(after.value).toBe("reactive");
  });

  it("probability 0 consumes every frame id without releasing; probability 1 releases all", () => {
    let [never] = initialTransition(modelTaskMachine, taskConfig({ probability: 0, durationMs: 64 }));
    let [always] = initialTransition(modelTaskMachine, taskConfig({ probability: 1, durationMs: 64 }));
    for (let f = 0; f < 4; f++) {
      const [n, rn] = tickTask(never, f * 16);
      const [a, ra] = tickTask(always, f * 16);
      expect([rn.frames, rn.skipped]).toEqual([[], [f]]);
      expect(ra.frames.map((x) => x.frame)).toEqual([f]);
      never = n;
      always = a;
    }
    expect([never.context.state.released, never.context.state.skipped]).toEqual([0, 4]);
    expect([always.context.state.released, always.context.state.skipped]).toEqual([4, 0]);
    expect(never.value).toBe("reactive");
  });

  it("a trigger probability in between fires frame f when p > the task's seeded draw for f", () => {
    let [s] = initialTransition(modelTaskMachine, taskConfig({ name: "KD_res8_narrow", fps: 3, probability: 0.5, durationMs: 7000 }));
    const fired: boolean[] = [];
    for (let f = 0; f < 21; f++) {
      const [next, r] = tickTask(s, f * 333);
      expect(r.frames.length + r.skipped.length).toBe(1); // frame id f is used up either way
      fired.push(r.frames.length === 1);
      s = next;
    }
    expect(fired).toEqual(Array.from({ length: 21 }, (_, f) => 0.5 > drawAt(7, "KD_res8_narrow", "trigger", f)));
    expect(fired.some((x) => x) && fired.some((x) => !x)).toBe(true);
  });

  it("ignores a cascade parent's end (cascades are gated in the scheduler in this mode)", () => {
    const [s0] = initialTransition(modelTaskMachine, taskConfig({ name: "GE", dependsOn: ["ES_RITNet"] }));
    const [s1, actions] = transition(modelTaskMachine, s0, { type: "task.parentEnded", cmd: parentEnded(0, 0, 5), replyTo: "p" });
    expect(onlyReply<TaskReply>(actions).message).toMatchObject({ frames: [], skipped: [], nextAt: 0 });
    expect(s1.context.state).toEqual(s0.context.state);
  });

  it("counts ended frames by outcome and stops on `stop`", () => {
    const [s0] = initialTransition(modelTaskMachine, taskConfig());
    const ended = (frame: number, outcome: "onTime" | "late" | "dropped") =>
      ({ type: "task.frameEnded", cmd: { _tag: "task.frameEnded", v: 1, run: "r1", at: 1, model: "ES_RITNet", frame, outcome } }) as const;
    let s = s0;
    for (const [f, o] of [[0, "onTime"], [1, "late"], [2, "onTime"], [3, "dropped"]] as const) {
      const [next, actions] = transition(modelTaskMachine, s, ended(f, o));
      expect(responds(actions)).toEqual([]);
      s = next;
    }
    expect(s.context.ended).toEqual({ onTime: 2, late: 1, dropped: 1 });
    const [stopped] = transition(modelTaskMachine, s, { type: "stop" });
    expect(stopped.value).toBe("stopped");
    expect(stopped.status).toBe("done");
  });
});

describe("model task machine, exact mode", () => {
  const T = 1000 / 60;

  it("a root task starts at a seeded phase φ ∈ [0, T): frame k released at k·T + φ, deadline = release + T", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), (seed) => {
        const [s0] = initialTransition(modelTaskMachine, taskConfig({ mode: "exact", phase: true, seed, durationMs: 100 }));
        const phi = s0.context.state.phaseMs;
        expect(phi >= 0 && phi < T).toBe(true);
        expect(phi).toBe(drawAt(seed, "ES_RITNet", "phase", 0) * T);
        expect(s0.context.state.nextReleaseAt).toBe(phi);
        const [, early] = tickTask(s0, phi / 2);
        if (phi > 0) expect(early.frames).toEqual([]);
        const [s1, r0] = tickTask(s0, phi);
        expect(r0.frames).toEqual([{ model: "ES_RITNet", frame: 0, releaseAt: phi, injectAt: phi, deadline: phi + T }]);
        expect(r0.nextAt).toBe(T + phi);
        const [, r1] = tickTask(s1, T + phi);
        expect(r1.frames).toEqual([{ model: "ES_RITNet", frame: 1, releaseAt: T + phi, injectAt: T + phi, deadline: T + phi + T }]);
      }),
      { numRuns: 50 },
    );
  });

  it("phases differ between seeds and are 0 when phases are off", () => {
    const phase = (seed: number, on: boolean) =>
      initialTransition(modelTaskMachine, taskConfig({ mode: "exact", phase: on, seed }))[0].context.state.phaseMs;
    expect(new Set([1, 2, 3, 4, 5].map((seed) => phase(seed, true))).size).toBe(5);
    expect(phase(1, false)).toBe(0);
  });

  it("releases frames while k·T + φ < duration, then goes reactive", () => {
    // φ = 0, T = 16.67, duration 40: frames at 0, 16.67, 33.33
    let [s] = initialTransition(modelTaskMachine, taskConfig({ mode: "exact", phase: false, durationMs: 40 }));
    const releases: number[] = [];
    for (let k = 0; k < 3; k++) {
      const [next, r] = tickTask(s, k * T);
      releases.push(...r.frames.map((f) => f.releaseAt));
      s = next;
    }
    expect(releases).toEqual([0, T, 2 * T]);
    expect(s.context.state.nextReleaseAt).toBeNull();
    expect(s.value).toBe("reactive");
  });

  it("a cascaded task has no timer: reactive from the start, ticks release nothing", () => {
    const [s0] = initialTransition(modelTaskMachine, taskConfig({ name: "GE", mode: "exact", phase: true, dependsOn: ["ES_RITNet"] }));
    expect(s0.value).toBe("reactive");
    expect(s0.context.state.phaseMs).toBe(0);
    const [, r] = tickTask(s0, 0);
    expect([r.frames, r.skipped, r.nextAt]).toEqual([[], [], null]);
  });

  it("a cascaded task releases frame k on its parent's end, deadline = parent's release + T", () => {
    const [s0] = initialTransition(modelTaskMachine, taskConfig({ name: "GE", mode: "exact", dependsOn: ["ES_RITNet"], probability: 1 }));
    const [s1, actions] = transition(modelTaskMachine, s0, { type: "task.parentEnded", cmd: parentEnded(4, 70, 75.5), replyTo: "p4" });
    expect(onlyReply<TaskReply>(actions)).toEqual({
      replyTo: "p4",
      message: {
        _tag: "task.released",
        v: 1,
        run: "r1",
        model: "GE",
        frames: [{ model: "GE", frame: 4, releaseAt: 70, injectAt: 75.5, deadline: 70 + T }],
        skipped: [],
        nextAt: null,
      },
    });
    expect(s1.context.state.released).toBe(1);
    // the parent's frame was dropped: the child is still released (the scheduler drops it at once)
    const [, a2] = transition(modelTaskMachine, s1, { type: "task.parentEnded", cmd: parentEnded(5, 86, 102, "dropped"), replyTo: "p5" });
    expect(onlyReply<TaskReply>(a2).message).toMatchObject({ frames: [{ frame: 5, releaseAt: 86, deadline: 86 + T }] });
  });

  it("cascade trigger: probability 0 never releases, 1 always, p follows the seeded stream", () => {
    const run = (probability: number, n: number) => {
      let [s] = initialTransition(modelTaskMachine, taskConfig({ name: "GE", mode: "exact", dependsOn: ["ES_RITNet"], probability, seed: 3 }));
      const out: Array<{ fired: boolean; skipped: ReadonlyArray<number> }> = [];
      for (let k = 0; k < n; k++) {
        const [next, actions] = transition(modelTaskMachine, s, { type: "task.parentEnded", cmd: parentEnded(k, k * T, k * T + 5), replyTo: `p${k}` });
        const { message } = onlyReply<TaskReply>(actions);
        if (message._tag !== "task.released") throw new Error("expected task.released");
        out.push({ fired: message.frames.length === 1, skipped: message.skipped });
        s = next;
      }
      return [s, out] as const;
    };
    const [never, n0] = run(0, 50);
    expect(n0.every((x) => !x.fired)).toBe(true);
    expect(n0.map((x) => x.skipped)).toEqual(Array.from({ length: 50 }, (_, k) => [k]));
    expect([never.context.state.released, never.context.state.skipped]).toEqual([0, 50]);
    const [, n1] = run(1, 50);
    expect(n1.every((x) => x.fired && x.skipped.length === 0)).toBe(true);
    const [, half] = run(0.5, 40);
    const expected = Array.from({ length: 40 }, (_, k) => 0.5 > drawAt(3, "GE", "trigger", k));
    expect(half.map((x) => x.fired)).toEqual(expected);
    expect(expected.some((x) => x) && expected.some((x) => !x)).toBe(true);
  });
});

describe("model task machine, draws by frame id", () => {
  it("a cascade child's trigger for frame k does not depend on the order in which parent frames end", () => {
    const outcomes = (order: ReadonlyArray<number>) => {
      let [s] = initialTransition(modelTaskMachine, taskConfig({ name: "GE", mode: "exact", dependsOn: ["ES_RITNet"], probability: 0.5, seed: 11 }));
      const fired = new Map<number, boolean>();
      for (const k of order) {
        const [next, actions] = transition(modelTaskMachine, s, { type: "task.parentEnded", cmd: parentEnded(k, k * 20, k * 20 + 3), replyTo: `p${k}` });
        const { message } = onlyReply<TaskReply>(actions);
        if (message._tag !== "task.released") throw new Error("expected task.released");
        fired.set(k, message.frames.length === 1);
        s = next;
      }
      return [...fired.entries()].sort((a, b) => a[0] - b[0]);
    };
    const ks = Array.from({ length: 30 }, (_, k) => k);
    const inOrder = outcomes(ks);
    expect(outcomes([...ks].reverse())).toEqual(inOrder);
    expect(outcomes(ks.filter((k) => k % 2 === 0)).map(([k, f]) => [k, f])).toEqual(inOrder.filter(([k]) => k % 2 === 0));
  });
});

// ─── scheduler ────────────────────────────────────────────────────────────────────────────────

