/**
 * The XState machines as pure reducers (`initialTransition` / `transition`): no host, no bus. Each
 * test feeds explicit events and checks the next state, the context and the `respond` / `perform`
 * effects the machine names (with their exact messages).
 */
import { describe, expect, it } from "vitest";
import { createActor, initialTransition, transition } from "xstate";
import type { AccelReply, BlockDispatch, BlockResult } from "../contracts/messages";
import type { ModelCosts } from "../domain/types";
import { resolvePolicy } from "../policies/catalogue";
import { type AccelModelCosts } from "./accelerator-logic";
import { acceleratorMachine } from "./accelerator";
import { schedulerMachine } from "./scheduler";
import type { KernelConfig, KernelEffect } from "./scheduler-kernel";
import { jobId } from "../contracts/job-id";

import { type Action, blockResultOf, onlyReply, oneModelKernel } from "./testing";

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

  it("a batch (block.batch) is answered in one respondBatch, block by block as the same dispatches one at a time", () => {
    const cmds = [
      dispatch({ at: 10, firstLayer: 0, layerCount: 1 }), // busy until 11
      dispatch({ at: 10.5, job: jobId("ES_RITNet", 1), frame: 1, firstLayer: 0, layerCount: 1 }), // refused: busy
      dispatch({ at: 10, firstLayer: 0, layerCount: 1 }), // a repeat: the first answer again
      dispatch({ at: 11, model: "nope" }), // no costs for the model
      dispatch({ at: 11, job: jobId("ES_RITNet", 1), frame: 1, firstLayer: 1, layerCount: 2 }),
      dispatch({ at: 20, job: jobId("ES_RITNet", 2), frame: 2, speed: 1 }), // live: not in a batch
    ];
    const [s0] = accelerator();
    let one = s0;
    const alone: unknown[] = [];
    for (const [i, cmd] of cmds.slice(0, 5).entries()) {
      const [next, actions] = transition(acceleratorMachine, one, { type: "block.dispatch", cmd, replyTo: `t${i}` });
      alone.push(onlyReply<AccelReply>(actions).message);
      one = next;
    }
    const [batched, actions] = transition(acceleratorMachine, s0, { type: "block.batch", cmds, replyTo: "b" });
    expect(actions.map((a) => a.type)).toEqual(["respondBatch"]);
    const { replyTo, answers } = actions[0]!.params as { replyTo: string; answers: ReadonlyArray<AccelReply> };
    expect(replyTo).toBe("b");
    expect(answers.slice(0, 5)).toEqual(alone);
    expect(answers.map((a) => a._tag)).toEqual(["block.result", "error", "block.result", "error", "block.result", "error"]);
    expect(answers[5]).toMatchObject({ kind: "rejected", message: expect.stringContaining("batches are for virtual time") });
    const fields = (c: typeof s0.context) => [c.busyUntil, c.blocks, c.energyMJ, c.refused];
    expect(fields(batched.context)).toEqual(fields(one.context));
    expect(fields(batched.context)).toEqual([14.734567, 2, 2.75, 1]);
    expect(batched.context.inProgress.size).toBe(0);
  });

  it("stops on `stop`", () => {
    const [s0] = accelerator();
    const [s1] = transition(acceleratorMachine, s0, { type: "stop" });
    expect(s1.value).toBe("stopped");
    expect(s1.status).toBe("done");
  });
});

// ─── model task ───────────────────────────────────────────────────────────────────────────────

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
  actions.filter((a) => a.type === "perform").map((a) => (a.params as { steps: ReadonlyArray<{ effects: ReadonlyArray<KernelEffect> }> }).steps.flatMap((s) => s.effects));

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

  it("speculation: a reply with room feeds the replies predicted for the dispatches it leads to in the same event, as they would come one by one", () => {
    const layers = 4;
    const costs: ModelCosts = {
      model: "M",
      layerCount: layers,
      cycles: [Float64Array.from({ length: layers }, (_, l) => 1_000_000 * (l + 1))],
      latencyMs: [Float64Array.from({ length: layers }, (_, l) => l + 1)],
      energyMJ: [Float64Array.from({ length: layers }, () => 0.5)],
    };
    const kernel = oneModelKernel("r1", costs, { durationMs: 20, baseTickMs: 20, models: [{ name: "M", periodMs: 20, dependsOn: [], costs }] });
    const predict = (cmd: BlockDispatch) => blockResultOf(costs, cmd);
    const start = (withPredict: boolean) => {
      let [s] = initialTransition(schedulerMachine, withPredict ? { kernel, predict } : { kernel });
      [s] = transition(schedulerMachine, s, { type: "accel.registered", acc: "acc0" });
      return s;
    };
    const released = { _tag: "task.released", v: 1, run: "r1", model: "M", frames: [{ model: "M", frame: 0, releaseAt: 0, injectAt: 0, deadline: 20 }], skipped: [], nextAt: null } as const;
    type Steps = ReadonlyArray<{ readonly effects: ReadonlyArray<KernelEffect>; readonly predicted?: ReadonlyArray<readonly [number, BlockResult]> }>;
    const stepsOf = (actions: ReadonlyArray<Action>): Steps => actions.filter((a) => a.type === "perform").flatMap((a) => (a.params as { steps: Steps }).steps);

    // one event: the release, then each layer's block fed its predicted reply in turn (4 steps after the first)
    const [chained, chainedActions] = transition(schedulerMachine, start(true), { type: "reply", corr: 1, reply: released, room: 8 });
    const chain = stepsOf(chainedActions);
    expect(chain).toHaveLength(1 + layers);
    expect(chain.slice(0, layers).map((st) => st.predicted?.length)).toEqual(Array(layers).fill(1));
    const dispatched = chain.flatMap((st) => st.effects).filter((e): e is Extract<KernelEffect, { kind: "request" }> => e.kind === "request" && e.to.kind === "accel");
    expect(dispatched.map((e) => (e.message as BlockDispatch).firstLayer)).toEqual([0, 1, 2, 3]);

    // the same replies one event at a time, without prediction: the same kernel
    let [oneByOne, actions] = transition(schedulerMachine, start(false), { type: "reply", corr: 1, reply: released });
    for (let i = 0; i < layers; i++) {
      const [d] = stepsOf(actions).flatMap((st) => st.effects).filter((e): e is Extract<KernelEffect, { kind: "request" }> => e.kind === "request" && e.to.kind === "accel");
      expect(stepsOf(actions)).toHaveLength(1);
      [oneByOne, actions] = transition(schedulerMachine, oneByOne, { type: "reply", corr: d!.corr, reply: predict(d!.message as BlockDispatch) });
    }
    expect(JSON.stringify(chained.context.kernel)).toBe(JSON.stringify(oneByOne.context.kernel));

    // room bounds the chain; without room (or without a predictor) one step, the dispatch awaits its reply
    const [, twoActions] = transition(schedulerMachine, start(true), { type: "reply", corr: 1, reply: released, room: 2 });
    expect(stepsOf(twoActions)).toHaveLength(3);
    expect(stepsOf(twoActions).at(-1)!.predicted).toBeUndefined();
    const [, noRoom] = transition(schedulerMachine, start(true), { type: "reply", corr: 1, reply: released });
    expect(stepsOf(noRoom)).toHaveLength(1);
    expect(stepsOf(noRoom)[0]!.predicted).toBeUndefined();
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
      schedulerMachine.provide({ actions: { perform: (_, p) => void effects.push(...p.steps.flatMap((s) => s.effects)) } }),
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
