/**
 * Early exits and skippable layers in the scheduler kernel: the expected remaining work that ToGo*
 * estimates read (optimisticRemaining, hand-computed), and what a kernel actually runs for a frame
 * whose path was drawn with an exit or skipped ranges — driven synchronously here with the real
 * task logic and accelerator logic, on a hand-made model whose layer energies are powers of two
 * (so a frame's energy names exactly the layers it ran).
 */
import { describe, expect, it } from "vitest";
import type { BlockResult, RunEvent, TaskReleased } from "../contracts/messages";
import type { FrameRecord } from "../domain/metrics";
import type { ModelCosts, ScenarioModel } from "../domain/types";
import { resolvePolicy } from "../policies/catalogue";
import type { Policy, SchedulerView } from "../policies/types";
import { type AccelModelCosts, executeBlock } from "./accelerator-logic";
import { type KernelEffect, type KernelModel, SchedulerKernel, optimisticRemaining } from "./scheduler-kernel";
import { type TaskConfig, type TaskState, initialTaskState, onParentEnded, onTick } from "./task-logic";

/** A model's costs from [accelerator][layer] latencies (ms) and energies (mJ). */
const costsOf = (model: string, latencyMs: number[][], energyMJ: number[][] = latencyMs): ModelCosts => ({
  model,
  layerCount: latencyMs[0]!.length,
  cycles: latencyMs.map((row) => Float64Array.from(row, (ms) => ms * 1e6)),
  latencyMs: latencyMs.map((row) => Float64Array.from(row)),
  energyMJ: energyMJ.map((row) => Float64Array.from(row)),
});

describe("optimisticRemaining: expected remaining work with exits and skips", () => {
  // min latencies over the two accelerators: 1, 2, 4
  const costs = costsOf("M", [
    [1, 5, 4],
    [3, 2, 9],
  ]);

  it("no dynamics: the plain suffix sums of the per-layer minima", () => {
    expect([...optimisticRemaining(costs)]).toEqual([7, 6, 4, 0]);
    expect([...optimisticRemaining(costs, {})]).toEqual([7, 6, 4, 0]);
  });

  it("one exit (q = 0.5 after layer 1): E[2] = 4, E[1] = 2 + 0.5·4 = 4, E[0] = 1 + 4 = 5", () => {
    expect([...optimisticRemaining(costs, { exits: [{ afterLayer: 1, probability: 0.5 }] })]).toEqual([5, 4, 4, 0]);
  });

  it("one skippable layer (executed with probability 0.25 on layer 2): E[2] = 1, E[1] = 3, E[0] = 4", () => {
    expect([...optimisticRemaining(costs, { skips: [{ fromLayer: 2, toLayer: 2, probability: 0.25 }] })]).toEqual([4, 3, 1, 0]);
  });

  it("both: E[2] = 0.25·4 = 1, E[1] = 2 + 0.5·1 = 2.5, E[0] = 3.5", () => {
    const dynamics = { exits: [{ afterLayer: 1, probability: 0.5 }], skips: [{ fromLayer: 2, toLayer: 2, probability: 0.25 }] };
    expect([...optimisticRemaining(costs, dynamics)]).toEqual([3.5, 2.5, 1, 0]);
  });

  it("two exit points chain: q0 = 0.5 after layer 0, q1 = 0.5 after layer 1 → E = [1 + 0.5·(2 + 0.5·4), 2 + 0.5·4, 4]", () => {
    const exits = [
      { afterLayer: 1, probability: 0.5 },
      { afterLayer: 0, probability: 0.5 },
    ];
    expect([...optimisticRemaining(costs, { exits })]).toEqual([3, 4, 4, 0]);
  });

  it("a certain exit (q = 1) cuts the rest off; a skip range of probability 0 costs nothing", () => {
    expect([...optimisticRemaining(costs, { exits: [{ afterLayer: 0, probability: 1 }] })]).toEqual([1, 6, 4, 0]);
    expect([...optimisticRemaining(costs, { skips: [{ fromLayer: 0, toLayer: 1, probability: 0 }] })]).toEqual([4, 4, 4, 0]);
  });

  it("two exits after the same layer: the estimate uses the exit probability the task actually draws", () => {
    // The task draws each listed exit independently (task-logic pathOf), so two exits after layer 1
    // with q = 0.5 end a frame there with probability 1 − 0.5·0.5 = 0.75:
    // E[2] = 4, E[1] = 2 + 0.25·4 = 3, E[0] = 4.
    const exits = [
      { afterLayer: 1, probability: 0.5 },
      { afterLayer: 1, probability: 0.5 },
    ];
    const cfg: TaskConfig = {
      run: "k",
      name: "M",
      fps: 100,
      probability: 1,
      dependsOn: [],
      mode: "exact",
      durationMs: 40_000,
      seed: 3,
      phase: false,
      jitterMs: 0,
      exits,
    };
    let state = initialTaskState(cfg);
    let exited = 0;
    for (let k = 0; k < 4000; k++) {
      const [next, reply] = onTick(cfg, state, k * 10);
      exited += reply.frames.filter((f) => f.exitAfter === 1).length;
      state = next;
    }
    expect(exited / 4000).toBeGreaterThan(0.72);
    expect(exited / 4000).toBeLessThan(0.78);
    expect([...optimisticRemaining(costs, { exits })]).toEqual([4, 3, 4, 0]);
  });

  it("exit q = 0 and skip probability 1 change nothing", () => {
    const dynamics = { exits: [{ afterLayer: 0, probability: 0 }], skips: [{ fromLayer: 1, toLayer: 2, probability: 1 }] };
    expect([...optimisticRemaining(costs, dynamics)]).toEqual([7, 6, 4, 0]);
  });
});

// ---- a kernel driven synchronously -------------------------------------------------------------

/** 6 layers; on acc0 layer l takes l+1 ms, acc1 is 3× slower; energy of layer l = 2^l mJ on both. */
const LAT = [1, 2, 3, 4, 5, 6];
const ENERGY = [1, 2, 4, 8, 16, 32];
const layerEnergy = (layers: ReadonlyArray<number>) => layers.reduce((s, l) => s + ENERGY[l]!, 0);

interface ModelSpec {
  readonly name: string;
  readonly fps: number;
  readonly dependsOn?: ReadonlyArray<string>;
  readonly exits?: ScenarioModel["exits"];
  readonly skips?: ScenarioModel["skips"];
}

interface Outcome {
  readonly frames: FrameRecord[];
  readonly events: RunEvent[];
  /** Per job id: the layers its dispatched blocks covered, in order. */
  readonly layers: Map<string, number[]>;
  readonly views: SchedulerView[];
}

const drive = (specs: ReadonlyArray<ModelSpec>, opts: { durationMs: number; blockSize: number; policy?: string }): Outcome => {
  const costs = new Map(specs.map((s) => [s.name, costsOf(s.name, [LAT, LAT.map((x) => 3 * x)], [ENERGY, ENERGY])]));
  const views: SchedulerView[] = [];
  const inner = resolvePolicy(opts.policy ?? "fcfs");
  const policy: Policy = { ...inner, decide: (view) => (views.push(view), inner.decide(view)) };
  const models: KernelModel[] = specs.map((s) => ({
    name: s.name,
    periodMs: 1000 / s.fps,
    dependsOn: s.dependsOn ?? [],
    costs: costs.get(s.name)!,
    ...(s.exits === undefined ? {} : { exits: s.exits }),
    ...(s.skips === undefined ? {} : { skips: s.skips }),
  }));
  const kernel = new SchedulerKernel({
    run: "k",
    mode: "exact",
    policy,
    models,
    accelerators: [{ id: "acc0" }, { id: "acc1" }],
    durationMs: opts.durationMs,
    baseTickMs: 1,
    blockSize: opts.blockSize,
    missWindowMs: 1000,
  });
  const tasks = new Map<string, { cfg: TaskConfig; state: TaskState }>(
    specs.map((s) => {
      const cfg: TaskConfig = {
        run: "k",
        name: s.name,
        fps: s.fps,
        probability: 1,
        dependsOn: s.dependsOn ?? [],
        mode: "exact",
        durationMs: opts.durationMs,
        seed: 5,
        phase: false,
        jitterMs: 0,
        ...(s.exits === undefined ? {} : { exits: s.exits }),
        ...(s.skips === undefined ? {} : { skips: s.skips }),
      };
      return [s.name, { cfg, state: initialTaskState(cfg) }];
    }),
  );
  const accCosts = [0, 1].map((a) => new Map<string, AccelModelCosts>(specs.map((s) => [s.name, { cycles: costs.get(s.name)!.cycles[a]!, energyMJ: costs.get(s.name)!.energyMJ[a]! }])));
  const events: RunEvent[] = [];
  const layers = new Map<string, number[]>();
  const queue: KernelEffect[] = kernel.start();
  for (let steps = 0; queue.length > 0; steps++) {
    if (steps > 1_000_000) throw new Error("kernel did not finish");
    const effect = queue.shift()!;
    if (effect.kind === "event") {
      events.push(effect.event);
      if (effect.event._tag === "block.dispatched") {
        const e = effect.event;
        const list = layers.get(e.job) ?? [];
        for (let l = e.firstLayer; l < e.firstLayer + e.layerCount; l++) list.push(l);
        layers.set(e.job, list);
      }
      continue;
    }
    if (effect.kind !== "request") continue;
    let reply: TaskReleased | BlockResult;
    const message = effect.message;
    if (effect.to.kind === "task") {
      const task = tasks.get(effect.to.name)!;
      let next: [TaskState, TaskReleased];
      if (message._tag === "task.tick") next = onTick(task.cfg, task.state, message.at);
      else if (message._tag === "task.parentEnded") next = onParentEnded(task.cfg, task.state, message);
      else throw new Error(`unexpected request ${message._tag}`);
      task.state = next[0];
      reply = next[1];
    } else {
      if (message._tag !== "block.dispatch") throw new Error(`unexpected request ${message._tag}`);
      const result = executeBlock(accCosts[Number(effect.to.id.slice(3))]!, message);
      if (result._tag !== "block.result") throw new Error(`accelerator refused: ${JSON.stringify(result)}`);
      reply = result;
    }
    queue.push(...kernel.onReply(effect.corr, reply));
  }
  expect(kernel.finished).toBe(true);
  return { frames: kernel.frameRecords(), events, layers, views };
};

const framesOf = (o: Outcome, model: string) => o.frames.filter((f) => f.model === model);

describe("the kernel runs each frame's drawn path", () => {
  it("no dynamics: every frame runs all 6 layers", () => {
    const o = drive([{ name: "A", fps: 10 }], { durationMs: 300, blockSize: 4 });
    expect(framesOf(o, "A").map((f) => [f.outcome, f.energyMJ])).toEqual([
      ["onTime", 63],
      ["onTime", 63],
      ["onTime", 63],
    ]);
    for (const f of o.frames) expect(o.layers.get(`A:${f.frame}`)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("a certain exit after layer 2: layers 0..2 only, the block cut at the exit", () => {
    const o = drive([{ name: "A", fps: 10, exits: [{ afterLayer: 2, probability: 1 }] }], { durationMs: 300, blockSize: 4 });
    const frames = framesOf(o, "A");
    expect(frames).toHaveLength(3);
    for (const f of frames) {
      expect(f.outcome).toBe("onTime");
      expect(f.energyMJ).toBe(layerEnergy([0, 1, 2]));
      expect(o.layers.get(`A:${f.frame}`)).toEqual([0, 1, 2]);
      // one block of 3 layers on acc0 (1 + 2 + 3 ms)
      expect(f.completionAt! - f.dispatchAt!).toBe(6);
    }
    const blocks = o.events.filter((e) => e._tag === "block.dispatched");
    expect(blocks.map((e) => (e._tag === "block.dispatched" ? [e.firstLayer, e.layerCount] : []))).toEqual([
      [0, 3],
      [0, 3],
      [0, 3],
    ]);
  });

  it("an always-skipped range 1..2: blocks stop before it and resume after it", () => {
    const o = drive([{ name: "A", fps: 10, skips: [{ fromLayer: 1, toLayer: 2, probability: 0 }] }], { durationMs: 200, blockSize: 6 });
    for (const f of framesOf(o, "A")) {
      expect(f.outcome).toBe("onTime");
      expect(o.layers.get(`A:${f.frame}`)).toEqual([0, 3, 4, 5]);
      expect(f.energyMJ).toBe(layerEnergy([0, 3, 4, 5]));
    }
    const blocks = o.events.flatMap((e) => (e._tag === "block.dispatched" && e.job === "A:0" ? [[e.firstLayer, e.layerCount]] : []));
    expect(blocks).toEqual([
      [0, 1],
      [3, 3],
    ]);
  });

  it("skipped first layers: the frame starts at the first layer it runs; two ranges are both skipped", () => {
    const o = drive(
      [
        {
          name: "A",
          fps: 10,
          skips: [
            { fromLayer: 4, toLayer: 4, probability: 0 },
            { fromLayer: 0, toLayer: 1, probability: 0 },
          ],
        },
      ],
      { durationMs: 100, blockSize: 1 },
    );
    expect(o.layers.get("A:0")).toEqual([2, 3, 5]);
    expect(framesOf(o, "A")[0]).toMatchObject({ outcome: "onTime", energyMJ: layerEnergy([2, 3, 5]) });
  });

  it("every layer skipped: the frame completes on time at its release, with no block and no energy", () => {
    const o = drive([{ name: "A", fps: 10, skips: [{ fromLayer: 0, toLayer: 5, probability: 0 }] }], { durationMs: 300, blockSize: 2 });
    expect(framesOf(o, "A").map((f) => [f.outcome, f.completionAt, f.energyMJ, f.dispatchAt])).toEqual([
      ["onTime", 0, 0, undefined],
      ["onTime", 100, 0, undefined],
      ["onTime", 200, 0, undefined],
    ]);
    expect(o.events.some((e) => e._tag === "block.dispatched")).toBe(false);
  });

  it("an exit inside a skipped range ends the frame after the last layer it ran before it", () => {
    const o = drive(
      [{ name: "A", fps: 10, exits: [{ afterLayer: 2, probability: 1 }], skips: [{ fromLayer: 1, toLayer: 3, probability: 0 }] }],
      { durationMs: 100, blockSize: 6 },
    );
    expect(o.layers.get("A:0")).toEqual([0]);
    expect(framesOf(o, "A")[0]).toMatchObject({ outcome: "onTime", energyMJ: 1 });
  });

  it("skip probability 1 and exit probability 0: the full model runs", () => {
    const o = drive(
      [{ name: "A", fps: 10, exits: [{ afterLayer: 2, probability: 0 }], skips: [{ fromLayer: 1, toLayer: 3, probability: 1 }] }],
      { durationMs: 200, blockSize: 6 },
    );
    for (const f of framesOf(o, "A")) expect(o.layers.get(`A:${f.frame}`)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("a parent that exits early releases its cascade child at its early end", () => {
    const o = drive(
      [
        { name: "A", fps: 10, exits: [{ afterLayer: 0, probability: 1 }] },
        { name: "B", fps: 10, dependsOn: ["A"], skips: [{ fromLayer: 2, toLayer: 5, probability: 0 }] },
      ],
      { durationMs: 100, blockSize: 6 },
    );
    const [a] = framesOf(o, "A");
    const [b] = framesOf(o, "B");
    expect(a).toMatchObject({ outcome: "onTime", completionAt: 1, energyMJ: 1 });
    expect(b).toMatchObject({ releaseAt: 0, injectAt: 1, deadline: 100, outcome: "onTime", energyMJ: layerEnergy([0, 1]) });
    expect(o.layers.get("B:0")).toEqual([0, 1]);
  });

  it("the policy sees the expected remaining work of the model's exits and skips", () => {
    const exits = [{ afterLayer: 2, probability: 0.5 }];
    const skips = [{ fromLayer: 4, toLayer: 5, probability: 0.25 }];
    const o = drive([{ name: "A", fps: 10, exits, skips }, { name: "P", fps: 10 }], { durationMs: 100, blockSize: 6, policy: "sdrm3" });
    const view = o.views[0]!;
    const a = view.models.find((m) => m.name === "A")!;
    const p = view.models.find((m) => m.name === "P")!;
    // min latency per layer = LAT (acc0); E[4..5] = 0.25·(5 + 6); E[3] = 4 + E[4]; E[2] = 3 + 0.5·E[3]
    const e4 = 0.25 * 5 + 0.25 * 6;
    const e3 = 4 + e4;
    const e2 = 3 + 0.5 * e3;
    expect([...a.optimisticRemainingMs]).toEqual([1 + 2 + e2, 2 + e2, e2, e3, e4, 0.25 * 6, 0]);
    expect([...p.optimisticRemainingMs]).toEqual([21, 20, 18, 15, 11, 6, 0]);
  });
});
