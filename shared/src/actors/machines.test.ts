/**
 * The XState machines as pure reducers (`initialTransition` / `transition`): no host, no bus. Each
 * test feeds explicit events and checks the next state, the context and the `respond` / `perform`
 * effects the machine names (with their exact messages).
 */
import { describe, expect, it } from "vitest";
import { createActor, initialTransition, transition } from "xstate";
import fc from "fast-check";
import type { AccelReply, BlockDispatch, TaskParentEnded, TaskReply, TaskTick } from "../contracts/messages";
import { drawAt } from "../domain/prng";
import type { ModelCosts } from "../domain/types";
import { resolvePolicy } from "../policies/catalogue";
import { type AccelModelCosts } from "./accelerator-logic";
import { acceleratorMachine } from "./accelerator";
import { modelTaskMachine } from "./model-task";
import { schedulerMachine } from "./scheduler";
import type { KernelConfig, KernelEffect } from "./scheduler-kernel";
import type { TaskConfig } from "./task-logic";
import { jobId } from "../contracts/job-id";

interface Action {
  readonly type: string;
  readonly params: unknown;
}

/** The `respond` effects among `actions`, as {replyTo, message}. */
const responds = <M>(actions: ReadonlyArray<Action>): Array<{ replyTo: string; message: M }> =>
  actions.filter((a) => a.type === "respond").map((a) => a.params as { replyTo: string; message: M });

/** The single `respond` effect among `actions`. */
const onlyReply = <M>(actions: ReadonlyArray<Action>): { replyTo: string; message: M } => {
  const all = responds<M>(actions);
  expect(all).toHaveLength(1);
  return all[0]!;
};

// ─── accelerator ──────────────────────────────────────────────────────────────────────────────

const ACC_COSTS: ReadonlyMap<string, AccelModelCosts> = new Map([
  ["ES_RITNet", { cycles: Float64Array.of(1_000_000, 1_234_567, 2_500_000), energyMJ: Float64Array.of(0.5, 0.25, 2) }],
]);

const dispatch = (over: Partial<BlockDispatch> = {}): BlockDispatch => ({
  _tag: "block.dispatch",
  v: 1,
  run: "r1",
  at: 0.1,
  acc: "acc0",
  job: jobId("ES_RITNet", 0),
  model: "ES_RITNet",
  frame: 0,
  firstLayer: 1,
  layerCount: 2,
  timing: "exact",
  ...over,
});

const accelerator = () => initialTransition(acceleratorMachine, { id: "acc0", costs: ACC_COSTS });

describe("accelerator machine", () => {
  it("starts ready and idle", () => {
    const [s, actions] = accelerator();
    expect(s.value).toBe("ready");
    expect([s.context.busyUntil, s.context.blocks, s.context.energyMJ, s.context.refused]).toEqual([0, 0, 0, 0]);
    expect(actions).toEqual([]);
  });

  it("exact timing: completion = at + Σ latency of the block's layers (cycles / 1e6), energy = Σ energy", () => {
    const [s0] = accelerator();
    const [s1, actions] = transition(acceleratorMachine, s0, { type: "block.dispatch", cmd: dispatch(), replyTo: "t1" });
    const reply = onlyReply<AccelReply>(actions);
    expect(reply).toEqual({
      replyTo: "t1",
      message: {
        _tag: "block.result",
        v: 1,
        run: "r1",
        acc: "acc0",
        job: jobId("ES_RITNet", 0),
        firstLayer: 1,
        layerCount: 2,
        startedAt: 0.1,
        completesAt: 0.1 + 3.734567,
        latencyMs: 3.734567, // layers 1 and 2: 1 234 567 + 2 500 000 cycles
        energyMJ: 2.25,
      },
    });
    expect(s1.context.busyUntil).toBe(0.1 + 3.734567);
    expect([s1.context.blocks, s1.context.energyMJ, s1.context.refused]).toEqual([1, 2.25, 0]);
  });

  it("xrbench-f32 timing rounds latency and completion to float32", () => {
    const [s0] = accelerator();
    const cmd = dispatch({ at: 0.1, firstLayer: 1, layerCount: 1, timing: "xrbench-f32" });
    const [s1, actions] = transition(acceleratorMachine, s0, { type: "block.dispatch", cmd, replyTo: "t1" });
    const { message } = onlyReply<AccelReply>(actions);
    expect(message._tag).toBe("block.result");
    if (message._tag !== "block.result") return;
    expect(message.latencyMs).toBe(1.2345670461654663); // Math.fround(1.234567)
    expect(message.latencyMs).not.toBe(1.234567);
    expect(message.completesAt).toBe(1.3345670700073242); // Math.fround(0.1 + fround(1.234567))
    expect(message.completesAt).toBe(Math.fround(0.1 + Math.fround(1.234567)));
    expect(s1.context.busyUntil).toBe(1.3345670700073242);
  });

  it("refuses a block while busy (error reply, context counts it) and accepts at and after busyUntil", () => {
    const [s0] = accelerator();
    const [s1] = transition(acceleratorMachine, s0, {
      type: "block.dispatch",
      cmd: dispatch({ at: 10, firstLayer: 0, layerCount: 1 }),
      replyTo: "t1",
    }); // busy until 11
    expect(s1.context.busyUntil).toBe(11);

    const [s2, refusedActions] = transition(acceleratorMachine, s1, {
      type: "block.dispatch",
      cmd: dispatch({ at: 10.5, job: jobId("ES_RITNet", 1), frame: 1, firstLayer: 0, layerCount: 1 }),
      replyTo: "t2",
    });
    expect(onlyReply<AccelReply>(refusedActions)).toEqual({
      replyTo: "t2",
      message: {
        _tag: "error",
        v: 1,
        kind: "rejected",
        message: "accelerator acc0 is busy until 11 ms; block of ES_RITNet:1 at 10.5 ms refused",
        issues: [],
      },
    });
    expect([s2.context.busyUntil, s2.context.blocks, s2.context.energyMJ, s2.context.refused]).toEqual([11, 1, 0.5, 1]);

    const [s3, atActions] = transition(acceleratorMachine, s2, {
      type: "block.dispatch",
      cmd: dispatch({ at: 11, job: jobId("ES_RITNet", 1), frame: 1, firstLayer: 0, layerCount: 1 }),
      replyTo: "t3",
    });
    expect(onlyReply<AccelReply>(atActions).message).toMatchObject({ _tag: "block.result", startedAt: 11, completesAt: 12 });
    const [s4, afterActions] = transition(acceleratorMachine, s3, {
      type: "block.dispatch",
      cmd: dispatch({ at: 20, job: jobId("ES_RITNet", 2), frame: 2, firstLayer: 2, layerCount: 1 }),
      replyTo: "t4",
    });
    expect(onlyReply<AccelReply>(afterActions).message).toMatchObject({ _tag: "block.result", startedAt: 20, completesAt: 22.5 });
    expect([s4.context.busyUntil, s4.context.blocks, s4.context.energyMJ, s4.context.refused]).toEqual([22.5, 3, 3, 1]);
  });

  it("the 0.01 ms finish tolerance is XRBench's: an exact-timing block that starts before busyUntil is refused", () => {
    const busyFrom = (timing: BlockDispatch["timing"]) => {
      const [s0] = accelerator();
      // layer 0: 1 ms (exact in float32 too), so busy until 11
      const [s1] = transition(acceleratorMachine, s0, {
        type: "block.dispatch",
        cmd: dispatch({ at: 10, firstLayer: 0, layerCount: 1, timing }),
        replyTo: "t1",
      });
      expect(s1.context.busyUntil).toBe(11);
      const [, actions] = transition(acceleratorMachine, s1, {
        type: "block.dispatch",
        cmd: dispatch({ at: 10.995, job: jobId("ES_RITNet", 1), frame: 1, firstLayer: 0, layerCount: 1, timing }),
        replyTo: "t2",
      });
      return onlyReply<AccelReply>(actions).message._tag;
    };
    // XRBench treats a job as finished when t + 0.01 ms ≥ its completion: the next block may start
    expect(busyFrom("xrbench-f32")).toBe("block.result");
    // exact timing has no tolerance: the previous block is still in flight at 10.995 < 11
    expect(busyFrom("exact")).toBe("error");
  });

  it("answers a block for an unknown model or beyond the model's layers with a rejected error and stays idle", () => {
    const [s0] = accelerator();
    const [s1, a1] = transition(acceleratorMachine, s0, {
      type: "block.dispatch",
      cmd: dispatch({ model: "GE_FBNet_C", job: jobId("GE_FBNet_C", 0) }),
      replyTo: "t1",
    });
    expect(onlyReply<AccelReply>(a1).message).toEqual({
      _tag: "error",
      v: 1,
      kind: "rejected",
      message: "accelerator acc0 has no costs for model GE_FBNet_C",
      issues: [],
    });
    const [s2, a2] = transition(acceleratorMachine, s1, {
      type: "block.dispatch",
      cmd: dispatch({ firstLayer: 2, layerCount: 2 }),
      replyTo: "t2",
    });
    expect(onlyReply<AccelReply>(a2).message).toMatchObject({
      _tag: "error",
      kind: "rejected",
      message: "block 2..3 is beyond model ES_RITNet's 3 layers",
    });
    expect([s2.context.busyUntil, s2.context.blocks, s2.context.energyMJ]).toEqual([0, 0, 0]);
  });

  it("stops on `stop`", () => {
    const [s0] = accelerator();
    const [s1] = transition(acceleratorMachine, s0, { type: "stop" });
    expect(s1.value).toBe("stopped");
    expect(s1.status).toBe("done");
  });
});

// ─── model task ───────────────────────────────────────────────────────────────────────────────

const taskCfg = (over: Partial<TaskConfig> = {}): TaskConfig => ({
  run: "r1",
  name: "ES_RITNet",
  fps: 60,
  probability: 1,
  dependsOn: [],
  mode: "xrbench",
  durationMs: 700,
  seed: 7,
  phase: false,
  jitterMs: 0,
  ...over,
});

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
    const [s0] = initialTransition(modelTaskMachine, taskCfg());
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
    let [s] = initialTransition(modelTaskMachine, taskCfg({ name: "HT", fps: 45, durationMs: 50 }));
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
    let [never] = initialTransition(modelTaskMachine, taskCfg({ probability: 0, durationMs: 64 }));
    let [always] = initialTransition(modelTaskMachine, taskCfg({ probability: 1, durationMs: 64 }));
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
    let [s] = initialTransition(modelTaskMachine, taskCfg({ name: "KD_res8_narrow", fps: 3, probability: 0.5, durationMs: 7000 }));
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
    const [s0] = initialTransition(modelTaskMachine, taskCfg({ name: "GE", dependsOn: ["ES_RITNet"] }));
    const [s1, actions] = transition(modelTaskMachine, s0, { type: "task.parentEnded", cmd: parentEnded(0, 0, 5), replyTo: "p" });
    expect(onlyReply<TaskReply>(actions).message).toMatchObject({ frames: [], skipped: [], nextAt: 0 });
    expect(s1.context.state).toEqual(s0.context.state);
  });

  it("counts ended frames by outcome and stops on `stop`", () => {
    const [s0] = initialTransition(modelTaskMachine, taskCfg());
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
        const [s0] = initialTransition(modelTaskMachine, taskCfg({ mode: "exact", phase: true, seed, durationMs: 100 }));
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
      initialTransition(modelTaskMachine, taskCfg({ mode: "exact", phase: on, seed }))[0].context.state.phaseMs;
    expect(new Set([1, 2, 3, 4, 5].map((seed) => phase(seed, true))).size).toBe(5);
    expect(phase(1, false)).toBe(0);
  });

  it("releases frames while k·T + φ < duration, then goes reactive", () => {
    // φ = 0, T = 16.67, duration 40: frames at 0, 16.67, 33.33
    let [s] = initialTransition(modelTaskMachine, taskCfg({ mode: "exact", phase: false, durationMs: 40 }));
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
    const [s0] = initialTransition(modelTaskMachine, taskCfg({ name: "GE", mode: "exact", phase: true, dependsOn: ["ES_RITNet"] }));
    expect(s0.value).toBe("reactive");
    expect(s0.context.state.phaseMs).toBe(0);
    const [, r] = tickTask(s0, 0);
    expect([r.frames, r.skipped, r.nextAt]).toEqual([[], [], null]);
  });

  it("a cascaded task releases frame k on its parent's end, deadline = parent's release + T", () => {
    const [s0] = initialTransition(modelTaskMachine, taskCfg({ name: "GE", mode: "exact", dependsOn: ["ES_RITNet"], probability: 1 }));
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
      let [s] = initialTransition(modelTaskMachine, taskCfg({ name: "GE", mode: "exact", dependsOn: ["ES_RITNet"], probability, seed: 3 }));
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
      let [s] = initialTransition(modelTaskMachine, taskCfg({ name: "GE", mode: "exact", dependsOn: ["ES_RITNet"], probability: 0.5, seed: 11 }));
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

const oneLayerCosts = (model: string, accelerators: number): ModelCosts => ({
  model,
  layerCount: 1,
  cycles: Array.from({ length: accelerators }, () => Float64Array.of(1_000_000)),
  latencyMs: Array.from({ length: accelerators }, () => Float64Array.of(1)),
  energyMJ: Array.from({ length: accelerators }, () => Float64Array.of(0.5)),
});

const kernelConfig = (): KernelConfig => ({
  run: "r1",
  mode: "exact",
  policy: resolvePolicy("fcfs"),
  models: [{ name: "ES_RITNet", periodMs: 1000 / 60, dependsOn: [], costs: oneLayerCosts("ES_RITNet", 2) }],
  accelerators: [{ id: "acc0" }, { id: "acc1" }],
  durationMs: 50,
  baseTickMs: 16,
  blockSize: 1,
  missWindowMs: 1000,
});

const performs = (actions: ReadonlyArray<Action>): KernelEffect[][] =>
  actions.filter((a) => a.type === "perform").map((a) => [...(a.params as { effects: ReadonlyArray<KernelEffect> }).effects]);

describe("scheduler machine", () => {
  it("waits in `registering` until every accelerator registered; ignores unknown and duplicate registrations", () => {
    const [s0, a0] = initialTransition(schedulerMachine, { kernel: kernelConfig() });
    expect(s0.value).toBe("registering");
    expect(s0.context.expected).toEqual(["acc0", "acc1"]);
    expect(performs(a0)).toEqual([]);

    const [s1, a1] = transition(schedulerMachine, s0, { type: "accel.registered", acc: "acc1" });
    expect([s1.value, s1.context.registered]).toEqual(["registering", ["acc1"]]);
    expect(performs(a1)).toEqual([]);

    const [s2] = transition(schedulerMachine, s1, { type: "accel.registered", acc: "acc1" }); // duplicate
    expect([s2.value, s2.context.registered]).toEqual(["registering", ["acc1"]]);
    const [s3] = transition(schedulerMachine, s2, { type: "accel.registered", acc: "acc9" }); // unknown
    expect([s3.value, s3.context.registered]).toEqual(["registering", ["acc1"]]);

    // a reply before running is not applied
    const [s4, a4] = transition(schedulerMachine, s3, { type: "request.failed", corr: 1, error: "boom" });
    expect([s4.value, s4.context.error, performs(a4)]).toEqual(["registering", undefined, []]);

    const [s5, a5] = transition(schedulerMachine, s4, { type: "accel.registered", acc: "acc0" });
    expect(s5.value).toBe("running");
    expect(s5.context.registered).toEqual(["acc1", "acc0"]);
    // entering `running` starts the kernel: its first effect asks the model task for frames at t = 0
    const started = performs(a5);
    expect(started).toHaveLength(1);
    expect(started[0]).toEqual([
      { kind: "request", corr: 1, to: { kind: "task", name: "ES_RITNet" }, message: { _tag: "task.tick", v: 1, run: "r1", at: 0, n: 1 } },
    ]);
  });

  it("a machine with no accelerators to wait for starts at once", () => {
    const [s0, a0] = initialTransition(schedulerMachine, { kernel: { ...kernelConfig(), accelerators: [] } });
    expect(s0.value).toBe("running");
    expect(performs(a0)).toHaveLength(1);
  });

  it("a failed request ends the run in `failed` with the error", () => {
    let [s] = initialTransition(schedulerMachine, { kernel: kernelConfig() });
    [s] = transition(schedulerMachine, s, { type: "accel.registered", acc: "acc0" });
    [s] = transition(schedulerMachine, s, { type: "accel.registered", acc: "acc1" });
    const [failed] = transition(schedulerMachine, s, { type: "request.failed", corr: 1, error: "timed out" });
    expect(failed.value).toBe("failed");
    expect(failed.status).toBe("done");
    expect(failed.context.error).toBe("request 1 failed: timed out");
  });

  it("as an actor with a recording `perform`: replies drive the kernel to `finished`", () => {
    const effects: KernelEffect[] = [];
    const actor = createActor(
      schedulerMachine.provide({ actions: { perform: (_, p) => void effects.push(...p.effects) } }),
      { input: { kernel: { ...kernelConfig(), durationMs: 10 } } },
    ).start();
    actor.send({ type: "accel.registered", acc: "acc0" });
    actor.send({ type: "accel.registered", acc: "acc1" });
    // Answer every request like a task (one frame at 0, none after) and an accelerator (1 ms, 0.5 mJ) would.
    for (let guard = 0; guard < 20 && actor.getSnapshot().status === "active"; guard++) {
      const requests = effects.splice(0).filter((e): e is Extract<KernelEffect, { kind: "request" }> => e.kind === "request");
      expect(requests.length).toBeGreaterThan(0);
      for (const r of requests) {
        const m = r.message;
        if (m._tag === "task.tick") {
          actor.send({
            type: "reply",
            corr: r.corr,
            reply: {
              _tag: "task.released",
              v: 1,
              run: "r1",
              model: "ES_RITNet",
              frames: m.at === 0 ? [{ model: "ES_RITNet", frame: 0, releaseAt: 0, injectAt: 0, deadline: 1000 / 60 }] : [],
              skipped: [],
              nextAt: null,
            },
          });
        } else if (m._tag === "block.dispatch") {
          actor.send({
            type: "reply",
            corr: r.corr,
            reply: {
              _tag: "block.result",
              v: 1,
              run: "r1",
              acc: m.acc,
              job: m.job,
              firstLayer: m.firstLayer,
              layerCount: m.layerCount,
              startedAt: m.at,
              completesAt: m.at + 1,
              latencyMs: 1,
              energyMJ: 0.5,
            },
          });
        } else throw new Error(`unexpected request ${m._tag}`);
      }
    }
    const snap = actor.getSnapshot();
    expect(snap.value).toBe("finished");
    expect(snap.context.kernel.frameRecords()).toEqual([
      {
        model: "ES_RITNet",
        frame: 0,
        releaseAt: 0,
        injectAt: 0,
        deadline: 1000 / 60,
        outcome: "onTime",
        dispatchAt: 0,
        completionAt: 1,
        acc: 0,
        energyMJ: 0.5,
      },
    ]);
  });
});
