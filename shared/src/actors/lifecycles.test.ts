/**
 * The actors' lifecycles and the purity of their transitions, with XState's `transition` only (no
 * host, no bus): `transition(machine, s, e)` twice from the same snapshot gives equal results and
 * leaves `s` as it was (compared through a serialisation that reaches every value in it).
 */
import { describe, expect, it } from "vitest";
import { initialTransition, transition } from "xstate";
import type { KernelEffect, KernelConfig } from "./scheduler-kernel";
import { type SchedulerEvent, schedulerMachine } from "./scheduler";
import { resolvePolicy } from "../policies/catalogue";
import type { ModelCosts } from "../domain/types";
import { jobId } from "../contracts/job-id";
import type { AccelReply, BlockDispatch, TaskReply } from "../contracts/messages";
import { type AccelModelCosts } from "./accelerator-logic";
import { acceleratorMachine, dispatchKey } from "./accelerator";
import { modelTaskMachine } from "./model-task";
import type { TaskConfig } from "./task-logic";

/** Every value reachable from `v`, as text: Maps, Sets and typed arrays by content, functions by name. */
export const serialise = (v: unknown): string =>
  JSON.stringify(v, (_key, value: unknown) => {
    if (value instanceof Map) return { Map: [...value.entries()] };
    if (value instanceof Set) return { Set: [...value.values()] };
    if (ArrayBuffer.isView(value)) return { [value.constructor.name]: Array.from(value as unknown as ArrayLike<number>) };
    if (typeof value === "function") return `function ${value.name}`;
    if (typeof value === "number" && !Number.isFinite(value)) return String(value);
    return value;
  });

interface Action {
  readonly type: string;
  readonly params: unknown;
}
const effectsOf = (actions: ReadonlyArray<Action>): KernelEffect[] =>
  actions.filter((a) => a.type === "perform").flatMap((a) => (a.params as { steps: ReadonlyArray<{ effects: ReadonlyArray<KernelEffect> }> }).steps.flatMap((s) => s.effects));

const costs = (model: string, layers: number): ModelCosts => ({
  model,
  layerCount: layers,
  cycles: [Float64Array.from({ length: layers }, () => 1_000_000), Float64Array.from({ length: layers }, () => 2_000_000)],
  latencyMs: [Float64Array.from({ length: layers }, () => 1), Float64Array.from({ length: layers }, () => 2)],
  energyMJ: [Float64Array.from({ length: layers }, () => 0.5), Float64Array.from({ length: layers }, () => 0.25)],
});

const PERIOD = 10;
/** Two models, 3 layers each, two accelerators; the tasks release a frame every 10 ms until 30 ms. */
const config = (): KernelConfig => ({
  run: "r1",
  mode: "exact",
  policy: resolvePolicy("edf"),
  models: [
    { name: "A", periodMs: PERIOD, dependsOn: [], costs: costs("A", 3) },
    { name: "B", periodMs: PERIOD, dependsOn: [], costs: costs("B", 3) },
  ],
  accelerators: [{ id: "acc0" }, { id: "acc1" }],
  durationMs: 30,
  baseTickMs: PERIOD,
  blockSize: 1,
  missWindowMs: 100,
});

/** The reply a model task or an accelerator would give to each request among `effects`, in request order. */
const repliesTo = (effects: ReadonlyArray<KernelEffect>): SchedulerEvent[] =>
  effects.flatMap((e): SchedulerEvent[] => {
    if (e.kind !== "request") return [];
    const m = e.message;
    if (m._tag === "task.tick") {
      const frame = Math.round(m.at / PERIOD);
      const model = e.to.kind === "task" ? e.to.name : "";
      const next = m.at + PERIOD;
      return [
        {
          type: "reply",
          corr: e.corr,
          reply: { _tag: "task.released", v: 1, run: "r1", model, frames: [{ model, frame, releaseAt: m.at, injectAt: m.at, deadline: m.at + PERIOD }], skipped: [], nextAt: next < 30 ? next : null },
        },
      ];
    }
    if (m._tag === "block.dispatch") {
      const latencyMs = m.acc === "acc0" ? m.layerCount : 2 * m.layerCount;
      return [
        {
          type: "reply",
          corr: e.corr,
          reply: { _tag: "block.result", v: 1, run: "r1", acc: m.acc, job: m.job, firstLayer: m.firstLayer, layerCount: m.layerCount, startedAt: m.at, completesAt: m.at + latencyMs, latencyMs, energyMJ: 0.5 },
        },
      ];
    }
    throw new Error(`unexpected request ${m._tag}`);
  });

type Snap = ReturnType<typeof transition<typeof schedulerMachine>>[0];

const registered = () => {
  let [s] = initialTransition(schedulerMachine, { kernel: config() });
  [s] = transition(schedulerMachine, s, { type: "accel.registered", acc: "acc0" });
  const [running, actions] = transition(schedulerMachine, s, { type: "accel.registered", acc: "acc1" });
  return { running, effects: effectsOf(actions as ReadonlyArray<Action>) };
};

describe("scheduler machine: a pure reducer", () => {
  it("a reply applied twice to the same snapshot gives equal results and leaves the snapshot as it was", () => {
    let { running: s, effects } = registered();
    // walk into the run: a few steps, so the kernel holds queued and running jobs
    let steps = 0;
    while (steps < 6) {
      const replies = repliesTo(effects);
      expect(replies.length).toBeGreaterThan(0);
      effects = [];
      for (const r of replies) {
        const [next, actions] = transition(schedulerMachine, s, r);
        s = next;
        effects.push(...effectsOf(actions as ReadonlyArray<Action>));
      }
      steps++;
    }
    const replies = repliesTo(effects);
    expect(replies.length).toBeGreaterThan(1);
    // every reply of the step, each from the same snapshot s, twice: the last one completes the step
    let s1 = s;
    for (const r of replies.slice(0, -1)) [s1] = transition(schedulerMachine, s1, r);
    const before = serialise(s1);
    const last = replies.at(-1)!;
    const [a, aActions] = transition(schedulerMachine, s1, last);
    expect(serialise(s1)).toBe(before);
    const [b, bActions] = transition(schedulerMachine, s1, last);
    expect(serialise(s1)).toBe(before);
    expect(serialise(b)).toBe(serialise(a));
    const named = (actions: ReadonlyArray<Action>) => actions.map((x) => ({ type: x.type, params: x.params }));
    expect(serialise(named(bActions as ReadonlyArray<Action>))).toBe(serialise(named(aActions as ReadonlyArray<Action>)));
    // the step did something: the kernel moved on and asked for more
    expect(a.context.kernel.decisions).toBeGreaterThan(s1.context.kernel.decisions);
    expect(effectsOf(aActions as ReadonlyArray<Action>).some((e) => e.kind === "request")).toBe(true);
    // and the state it started from can still be driven (a second branch), to the same end
    const finish = (from: typeof a, fx: KernelEffect[]) => {
      let snap: Snap = from;
      let pending = fx;
      for (let guard = 0; guard < 1000 && snap.status === "active"; guard++) {
        const next: KernelEffect[] = [];
        for (const r of repliesTo(pending)) {
          const [n, acts]: [Snap, unknown] = transition(schedulerMachine, snap, r);
          snap = n;
          next.push(...effectsOf(acts as ReadonlyArray<Action>));
        }
        pending = next;
      }
      return snap;
    };
    const endA = finish(a, effectsOf(aActions as ReadonlyArray<Action>));
    const endB = finish(b, effectsOf(bActions as ReadonlyArray<Action>));
    expect(endA.value).toBe("finished");
    expect(endB.context.kernel.frameRecords()).toEqual(endA.context.kernel.frameRecords());
    expect(serialise(s1)).toBe(before);
  });

  it("the start is pure too; a reply nobody asked for is refused and leaves the snapshot as it was", () => {
    const [s0] = initialTransition(schedulerMachine, { kernel: config() });
    const [s1] = transition(schedulerMachine, s0, { type: "accel.registered", acc: "acc0" });
    const before = serialise(s1);
    const [x] = transition(schedulerMachine, s1, { type: "accel.registered", acc: "acc1" });
    const [y] = transition(schedulerMachine, s1, { type: "accel.registered", acc: "acc1" });
    expect(serialise(y)).toBe(serialise(x));
    expect(serialise(s1)).toBe(before);
    const stray: SchedulerEvent = { type: "reply", corr: 99, reply: { _tag: "task.released", v: 1, run: "r1", model: "A", frames: [], skipped: [], nextAt: null } };
    const beforeX = serialise(x);
    expect(() => transition(schedulerMachine, x, stray)).toThrow(/unexpected reply to request 99/);
    expect(serialise(x)).toBe(beforeX);
    // the first request (corr 1) is still the one the kernel waits for, from the same snapshot, twice
    const tick = repliesTo(x.context.steps.at(-1)!.effects)[0]!;
    const [t1] = transition(schedulerMachine, x, tick);
    const [t2] = transition(schedulerMachine, x, tick);
    expect(serialise(t2)).toBe(serialise(t1));
    expect(serialise(x)).toBe(beforeX);
  });
});

describe("scheduler machine: lifecycle", () => {
  it("registering → running → draining (the last release is in) → finished, every frame ended once", () => {
    const [s0] = initialTransition(schedulerMachine, { kernel: config() });
    expect(s0.value).toBe("registering");
    const start = registered();
    let s: Snap = start.running;
    let effects = start.effects;
    expect(s.value).toBe("running");
    const seen: string[] = [s0.value as string, s.value as string];
    for (let guard = 0; guard < 1000 && s.status === "active"; guard++) {
      const next: KernelEffect[] = [];
      for (const r of repliesTo(effects)) {
        const [n, acts]: [Snap, unknown] = transition(schedulerMachine, s, r);
        s = n;
        if (seen.at(-1) !== s.value) seen.push(s.value as string);
        next.push(...effectsOf(acts as ReadonlyArray<Action>));
      }
      effects = next;
    }
    expect(seen).toEqual(["registering", "running", "draining", "finished"]);
    const frames = s.context.kernel.frameRecords();
    // frames 0, 1, 2 of A and B (releases at 0, 10, 20 ms), each ended once
    expect(frames.map((f) => `${f.model}:${f.frame}`).sort()).toEqual(["A:0", "A:1", "A:2", "B:0", "B:1", "B:2"]);
    expect(frames.every((f) => f.outcome !== "unfinished")).toBe(true);
  });

  it("draining still fails on a failed request", () => {
    let { running: s, effects } = registered();
    for (let guard = 0; guard < 1000 && s.value !== "draining"; guard++) {
      const next: KernelEffect[] = [];
      for (const r of repliesTo(effects)) {
        const [n, acts] = transition(schedulerMachine, s, r);
        s = n;
        next.push(...effectsOf(acts as ReadonlyArray<Action>));
      }
      effects = next;
    }
    expect(s.value).toBe("draining");
    const [failed] = transition(schedulerMachine, s, { type: "request.failed", corr: 42, error: "no responders" });
    expect([failed.value, failed.status, failed.context.error]).toEqual(["failed", "done", "request 42 failed: no responders"]);
  });
});

// ─── accelerator slot ─────────────────────────────────────────────────────────────────────────


const ACC: ReadonlyMap<string, AccelModelCosts> = new Map([["M", { cycles: Float64Array.of(2_000_000, 3_000_000), energyMJ: Float64Array.of(0.5, 1) }]]);
const block = (over: Partial<BlockDispatch> = {}): BlockDispatch => ({
  _tag: "block.dispatch", v: 1, run: "r1", at: 10, acc: "acc0", job: jobId("M", 0), model: "M", frame: 0, firstLayer: 0, layerCount: 2, timing: "exact", ...over,
});
const named = (actions: ReadonlyArray<Action>) => actions.map((a) => ({ type: a.type, params: a.params }));

describe("accelerator slot: lifecycle and bookkeeping in the machine", () => {
  it("spare → ready (lease) → fenced (lease lost) → ready: only the owner answers", () => {
    let [s] = initialTransition(acceleratorMachine, { id: "acc0", costs: ACC, spare: true });
    expect(s.value).toBe("spare");
    const [ignored, none] = transition(acceleratorMachine, s, { type: "block.dispatch", cmd: block(), replyTo: "r1" });
    expect([ignored.value, named(none as ReadonlyArray<Action>)]).toEqual(["spare", []]);
    [s] = transition(acceleratorMachine, s, { type: "lease", valid: true });
    expect(s.value).toBe("ready");
    const [owner, answered] = transition(acceleratorMachine, s, { type: "block.dispatch", cmd: block(), replyTo: "r2" });
    expect(named(answered as ReadonlyArray<Action>)).toEqual([
      { type: "respond", params: { replyTo: "r2", message: expect.objectContaining({ _tag: "block.result", completesAt: 15, energyMJ: 1.5 }) } },
    ]);
    const [fenced] = transition(acceleratorMachine, owner, { type: "lease", valid: false });
    expect(fenced.value).toBe("fenced");
    const [, refused] = transition(acceleratorMachine, fenced, { type: "block.dispatch", cmd: block({ at: 20, job: jobId("M", 1), frame: 1 }), replyTo: "r3" });
    expect(named(refused as ReadonlyArray<Action>)).toEqual([]);
    const [again] = transition(acceleratorMachine, fenced, { type: "lease", valid: true });
    expect(again.value).toBe("ready");
  });

  it("a repeated dispatch gets the first answer (not a busy refusal), from the context; the snapshot is left as it was", () => {
    const [s0] = initialTransition(acceleratorMachine, { id: "acc0", costs: ACC });
    const [s1, first] = transition(acceleratorMachine, s0, { type: "block.dispatch", cmd: block(), replyTo: "a" });
    const before = serialise(s1);
    const [s2, repeat] = transition(acceleratorMachine, s1, { type: "block.dispatch", cmd: block(), replyTo: "b" });
    const [s3, repeat2] = transition(acceleratorMachine, s1, { type: "block.dispatch", cmd: block(), replyTo: "b" });
    expect(serialise(s1)).toBe(before);
    expect(serialise(s3)).toBe(serialise(s2));
    expect(serialise(named(repeat2 as ReadonlyArray<Action>))).toBe(serialise(named(repeat as ReadonlyArray<Action>)));
    const reply = (actions: unknown) => (named(actions as ReadonlyArray<Action>)[0]!.params as { message: AccelReply }).message;
    expect(reply(repeat)).toEqual(reply(first));
    expect([s2.context.blocks, s2.context.refused]).toEqual([1, 0]);
    // another block while busy is refused
    const [, busy] = transition(acceleratorMachine, s2, { type: "block.dispatch", cmd: block({ at: 12, job: jobId("M", 1), frame: 1 }), replyTo: "c" });
    expect(reply(busy)).toMatchObject({ _tag: "error", kind: "rejected" });
  });

  it("live: a block waits for its timer; a retry joins it; fenced when the timer fires, both are forgotten", () => {
    const [s0] = initialTransition(acceleratorMachine, { id: "acc0", costs: ACC });
    const cmd = block({ speed: 0.5 });
    const key = dispatchKey(cmd);
    const [s1, armed] = transition(acceleratorMachine, s0, { type: "block.dispatch", cmd, replyTo: "a" });
    // 5 ms of latency at half speed: 10 ms of wall time, until the block's due completion, run time 15
    expect(named(armed as ReadonlyArray<Action>)).toEqual([{ type: "armTimer", params: { key, wallMs: 10, endsAt: 15, speed: 0.5 } }]);
    const [s2, joined] = transition(acceleratorMachine, s1, { type: "block.dispatch", cmd, replyTo: "b" });
    expect(named(joined as ReadonlyArray<Action>)).toEqual([]);
    expect(s2.context.inProgress.get(key)?.replyTos).toEqual(["a", "b"]);
    const [done, answers] = transition(acceleratorMachine, s2, { type: "block.elapsed", key });
    expect(named(answers as ReadonlyArray<Action>).map((a) => [a.type, (a.params as { replyTo: string }).replyTo])).toEqual([["respond", "a"], ["respond", "b"]]);
    expect(done.context.inProgress.size).toBe(0);
    const [fenced] = transition(acceleratorMachine, s2, { type: "lease", valid: false });
    const [lost, forgotten] = transition(acceleratorMachine, fenced, { type: "block.elapsed", key });
    expect(named(forgotten as ReadonlyArray<Action>)).toEqual([
      { type: "forget", params: { replyTo: "a" } },
      { type: "forget", params: { replyTo: "b" } },
    ]);
    expect([lost.value, lost.context.inProgress.size]).toEqual(["fenced", 0]);
  });
});

// ─── model task ───────────────────────────────────────────────────────────────────────────────

const task = (over: Partial<TaskConfig> = {}): TaskConfig => ({
  run: "r1", name: "M", fps: 100, mode: "exact", durationMs: 30, dependsOn: [], probability: 1, seed: 1, phase: false, jitterMs: 0, ...over,
});

describe("model task: lifecycle and repeated requests", () => {
  it("releasing → reactive once its timed releases are over → stopped; a repeated tick gets the first answer", () => {
    let [s] = initialTransition(modelTaskMachine, task());
    expect(s.value).toBe("releasing");
    const ticks: TaskReply[] = [];
    let at = 0;
    for (let n = 1; n <= 10 && s.value === "releasing"; n++) {
      const [next, actions] = transition(modelTaskMachine, s, { type: "task.tick", cmd: { _tag: "task.tick", v: 1, run: "r1", at, n }, replyTo: `t${n}` });
      const before = serialise(s);
      const [repeat, again] = transition(modelTaskMachine, next, { type: "task.tick", cmd: { _tag: "task.tick", v: 1, run: "r1", at, n }, replyTo: `t${n}'` });
      expect(serialise(s)).toBe(before);
      const message = (a: unknown) => (named(a as ReadonlyArray<Action>)[0]!.params as { message: TaskReply }).message;
      expect(message(again)).toEqual(message(actions));
      expect(serialise(repeat.context.state)).toBe(serialise(next.context.state));
      const reply = message(actions);
      ticks.push(reply);
      if (reply._tag === "task.released" && reply.nextAt !== null) at = reply.nextAt;
      s = next;
    }
    expect(s.value).toBe("reactive");
    expect(ticks.flatMap((t) => (t._tag === "task.released" ? t.frames : [])).length).toBe(3);
    const [stopped] = transition(modelTaskMachine, s, { type: "stop" });
    expect([stopped.value, stopped.status]).toEqual(["stopped", "done"]);
  });
});
