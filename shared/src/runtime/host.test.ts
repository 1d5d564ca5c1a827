/**
 * Decoding at the edge, through the real in-memory bus and the actor host: a payload that does not
 * decode is answered with an `error` reply (kind "decode") naming the field, is counted, and never
 * reaches the machine (its context is unchanged); a valid request afterwards is served normally.
 */
import { performance } from "node:perf_hooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AccelModelCosts } from "../actors/accelerator-logic";
import type { TaskConfig } from "../actors/task-logic";
import { taskConfig } from "../actors/testing";
import { AccelRegister, type BlockDispatch, type ErrorReply } from "../contracts/messages";
import { Subjects } from "../contracts/subjects";
import type { AcceleratorSpec } from "../domain/types";
import { type Hosted, hostAccelerator, hostModelTask } from "./host";
import { type MemoryBus, createMemoryBus } from "./memory-bus";
import { decodeJson } from "./codec";
import { Either } from "effect";
import { jobId } from "../contracts/job-id";

const RUN = "r1";

const SPEC: AcceleratorSpec = {
  index: 0,
  name: "Acc0",
  numPes: 4096,
  nocBw: 256,
  id: "acc0",
  dataflow: "WS",
  costClass: "WS_4096pe_bw256",
};

const COSTS: ReadonlyMap<string, AccelModelCosts> = new Map([
  ["ES_RITNet", { cycles: Float64Array.of(2_000_000, 500_000), energyMJ: Float64Array.of(1.5, 0.25) }],
]);

const dispatch = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  _tag: "block.dispatch",
  v: 1,
  run: RUN,
  at: 4,
  acc: "acc0",
  job: "ES_RITNet:0",
  model: "ES_RITNet",
  frame: 0,
  firstLayer: 0,
  layerCount: 2,
  timing: "exact",
  ...over,
});

const without = (value: Record<string, unknown>, field: string) => {
  const copy = { ...value };
  delete copy[field];
  return copy;
};

const decodeError = (message: string, issues: ReadonlyArray<{ path: string; message: string }>): ErrorReply => ({
  _tag: "error",
  v: 1,
  kind: "decode",
  message,
  issues: [...issues],
});

let bus: MemoryBus;
let hosted: Hosted[];
let rejects: Array<{ subject: string; message: string }>;
let busErrors: unknown[];
const onReject = (subject: string, message: string) => void rejects.push({ subject, message });

beforeEach(() => {
  busErrors = [];
  bus = createMemoryBus({ onError: (error) => void busErrors.push(error) });
  hosted = [];
  rejects = [];
});

afterEach(async () => {
  for (const h of hosted) h.stop();
  await bus.close();
  expect(busErrors).toEqual([]);
  expect(bus.handlerErrors).toBe(0);
});

const request = async (subject: string, text: string): Promise<unknown> => JSON.parse((await bus.request(subject, text, { timeoutMs: 500 })).data);

describe("hosted accelerator", () => {
  const host = () => {
    const h = hostAccelerator(bus, RUN, SPEC, COSTS, { onReject });
    hosted.push(h);
    return h;
  };
  const subject = Subjects.accelCmd(RUN, "acc0");
  const context = (h: Hosted) => {
    const c = h.actor.getSnapshot().context as { busyUntil: number; blocks: number; energyMJ: number; refused: number };
    return { busyUntil: c.busyUntil, blocks: c.blocks, energyMJ: c.energyMJ, refused: c.refused };
  };
  const IDLE = { busyUntil: 0, blocks: 0, energyMJ: 0, refused: 0 };

  it("registers itself on the control subject", async () => {
    const seen: string[] = [];
    bus.subscribe(Subjects.control(RUN, "register"), (msg) => void seen.push(msg.data));
    host();
    await bus.flush();
    expect(seen).toHaveLength(1);
    expect(Either.getOrThrow(decodeJson(AccelRegister, seen[0]!))).toEqual({
      _tag: "accel.register",
      v: 1,
      run: RUN,
      acc: "acc0",
      dataflow: "WS",
      numPes: 4096,
      nocBw: 256,
      costClass: "WS_4096pe_bw256",
      host: "embedded",
    });
  });

  it("answers every bad request with a decode error naming the field; the machine never sees it", async () => {
    const h = host();
    const notJson = (await request(subject, "{not json")) as ErrorReply;
    expect(notJson).toMatchObject({ _tag: "error", v: 1, kind: "decode", issues: [{ path: "" }] });
    expect(notJson.message).toMatch(/^invalid JSON: /);
    expect(notJson.issues[0]!.message).toBe(notJson.message);
    expect(await request(subject, JSON.stringify(without(dispatch(), "layerCount")))).toEqual(
      decodeError("layerCount: is missing", [{ path: "layerCount", message: "is missing" }]),
    );
    expect(await request(subject, JSON.stringify(dispatch({ v: 2 })))).toEqual(
      decodeError("v: expected protocol version 1", [{ path: "v", message: "expected protocol version 1" }]),
    );
    expect(await request(subject, JSON.stringify(dispatch({ layerCount: "2" })))).toEqual(
      decodeError('layerCount: Expected number, actual "2"', [{ path: "layerCount", message: 'Expected number, actual "2"' }]),
    );
    expect(await request(subject, JSON.stringify(dispatch({ _tag: "block.result" })))).toMatchObject({
      _tag: "error",
      kind: "decode",
      issues: [{ path: "_tag" }],
    });

    expect(context(h)).toEqual(IDLE);
    expect(h.stats).toEqual({ received: 5, rejected: 5, sent: 0 });
    expect(rejects).toHaveLength(5);
    expect(rejects.every((r) => r.subject === subject)).toBe(true);
    expect(rejects[1]!.message).toBe("layerCount: is missing");
    expect(rejects[3]!.message).toBe('layerCount: Expected number, actual "2"');

    // a valid request afterwards is served
    expect(await request(subject, JSON.stringify(dispatch()))).toEqual({
      _tag: "block.result",
      v: 1,
      run: RUN,
      acc: "acc0",
      job: "ES_RITNet:0",
      firstLayer: 0,
      layerCount: 2,
      startedAt: 4,
      completesAt: 6.5,
      latencyMs: 2.5,
      energyMJ: 1.75,
    });
    expect(context(h)).toEqual({ busyUntil: 6.5, blocks: 1, energyMJ: 1.75, refused: 0 });
    expect(h.stats).toEqual({ received: 6, rejected: 5, sent: 1 });
  });

  it("counts a bad bare publish (no reply possible) and keeps the machine unchanged", async () => {
    const h = host();
    bus.publish(subject, "]");
    bus.publish(subject, JSON.stringify(without(dispatch(), "layerCount")));
    await bus.flush();
    expect(h.stats).toEqual({ received: 2, rejected: 2, sent: 0 });
    expect(rejects.map((r) => r.message)).toEqual([expect.stringMatching(/^invalid JSON: /), "layerCount: is missing"]);
    expect(context(h)).toEqual(IDLE);
  });

  it("ignores a valid dispatch sent as a bare publish (it has no one to answer)", async () => {
    const h = host();
    bus.publish(subject, JSON.stringify(dispatch()));
    await bus.flush();
    expect(context(h)).toEqual(IDLE);
    expect(h.stats).toEqual({ received: 1, rejected: 0, sent: 0 });
  });

  it("rejects a block for another run or another accelerator id", async () => {
    const h = host();
    expect(await request(subject, JSON.stringify(dispatch({ run: "r2" })))).toEqual({
      _tag: "error",
      v: 1,
      kind: "rejected",
      message: "block for r2/acc0 sent to r1/acc0",
      issues: [],
    });
    expect(await request(subject, JSON.stringify(dispatch({ acc: "acc1" })))).toEqual({
      _tag: "error",
      v: 1,
      kind: "rejected",
      message: "block for r1/acc1 sent to r1/acc0",
      issues: [],
    });
    expect(context(h)).toEqual(IDLE);
    expect(await request(subject, JSON.stringify(dispatch()))).toMatchObject({ _tag: "block.result", completesAt: 6.5 });
  });

  it("a refused (busy) block gets an error reply through the bus", async () => {
    const h = host();
    await request(subject, JSON.stringify(dispatch()));
    const busy: Partial<BlockDispatch> = { at: 5, job: jobId("ES_RITNet", 1), frame: 1 };
    expect(await request(subject, JSON.stringify(dispatch(busy)))).toEqual({
      _tag: "error",
      v: 1,
      kind: "rejected",
      message: "accelerator acc0 is busy until 6.5 ms; block of ES_RITNet:1 at 5 ms refused",
      issues: [],
    });
    expect(context(h)).toEqual({ busyUntil: 6.5, blocks: 1, energyMJ: 1.75, refused: 1 });
  });
});

describe("hosted accelerator, live: a block ends on the run's timeline", () => {
  it("maps the dispatches' clock readings onto its own clock: a dispatch that arrives late still ends when its due completion says", async () => {
    // timers that record when each report would go out (wall ms on this clock) and fire on demand
    const asked: Array<{ at: number; fn: () => void }> = [];
    const timers = { after: (wallMs: number, fn: () => void) => (asked.push({ at: performance.now() + wallMs, fn }), { cancel: () => {} }) };
    const h = hostAccelerator(bus, RUN, SPEC, COSTS, { onReject, timers });
    hosted.push(h);
    const subject = Subjects.accelCmd(RUN, "acc0");
    // at a hundredth of real speed (a block lasts about 140 ms of wall time, far longer than the 4-ms completion lead
    // and the 30-ms delay below); the run's time 0 is now, give or take the dispatch's way here
    const speed = 0.01;
    const wall = (runMs: number) => runMs / speed;
    const sent1 = performance.now();
    const first = bus.request(subject, JSON.stringify(dispatch({ at: 0, sentAt: 0, speed })), { timeoutMs: 5_000 });
    await bus.flush();
    const armed1 = performance.now();
    expect(asked).toHaveLength(1);
    asked[0]!.fn(); // its report goes out
    const r1 = JSON.parse((await first).data) as { completesAt: number; latencyMs: number };
    expect(r1.latencyMs).toBeGreaterThan(0);
    // reported the completion lead (4 ms) before its due completion on this clock: run time 0 was between sent1 and armed1
    expect(wall(r1.latencyMs)).toBeGreaterThan(4);
    expect(asked[0]!.at).toBeGreaterThanOrEqual(sent1 + wall(r1.completesAt) - 4 - 1e-6);
    expect(asked[0]!.at).toBeLessThanOrEqual(armed1 + wall(r1.completesAt) - 4 + 1e-6);
    // the next block is decided and sent at its due start (run time r1.completesAt) but takes 30 ms more to arrive
    await new Promise((resolve) => setTimeout(resolve, 30 + wall(r1.completesAt)));
    const second = bus.request(subject, JSON.stringify(dispatch({ at: r1.completesAt, sentAt: r1.completesAt, speed, job: "ES_RITNet:1", frame: 1 })), { timeoutMs: 5_000 });
    await bus.flush();
    expect(asked).toHaveLength(2);
    asked[1]!.fn();
    const r2 = JSON.parse((await second).data) as { completesAt: number };
    expect(wall(r2.completesAt - r1.completesAt)).toBeGreaterThan(30 + 4); // it outlasts its late arrival and the lead
    // planned from the run's start, not from its arrival: 30 ms earlier than back to back from the arrival
    expect(asked[1]!.at).toBeGreaterThanOrEqual(sent1 + wall(r2.completesAt) - 4 - 1e-6);
    expect(asked[1]!.at).toBeLessThanOrEqual(armed1 + wall(r2.completesAt) - 4 + 1e-6);
  });
});

describe("hosted model task", () => {
  const cfg: TaskConfig = taskConfig({ run: RUN, seed: 1 });
  const subject = Subjects.taskCmd(RUN, "ES_RITNet");
  const host = () => {
    const h = hostModelTask(bus, cfg, { onReject });
    hosted.push(h);
    return h;
  };
  const state = (h: Hosted) => (h.actor.getSnapshot().context as { state: { nextFrame: number; released: number } }).state;
  const tick = (over: Record<string, unknown> = {}) => ({ _tag: "task.tick", v: 1, run: RUN, at: 0, ...over });

  it("answers bad commands with decode errors naming the field, then serves a valid tick", async () => {
    const h = host();
    expect(await request(subject, "")).toMatchObject({ _tag: "error", kind: "decode", issues: [{ path: "" }] });
    expect(await request(subject, JSON.stringify(without(tick(), "at")))).toEqual(
      decodeError("at: is missing", [{ path: "at", message: "is missing" }]),
    );
    expect(await request(subject, JSON.stringify(tick({ v: 2 })))).toEqual(
      decodeError("v: expected protocol version 1", [{ path: "v", message: "expected protocol version 1" }]),
    );
    expect(await request(subject, JSON.stringify(tick({ at: "0" })))).toEqual(
      decodeError('at: Expected number, actual "0"', [{ path: "at", message: 'Expected number, actual "0"' }]),
    );
    const unknownTag = (await request(subject, JSON.stringify(tick({ _tag: "task.start" })))) as ErrorReply;
    expect(unknownTag).toMatchObject({ _tag: "error", kind: "decode", issues: [{ path: "_tag" }] });
    expect(unknownTag.message).toContain("_tag");

    expect(state(h)).toMatchObject({ nextFrame: 0, released: 0 });
    expect(h.stats).toEqual({ received: 5, rejected: 5, sent: 0 });
    expect(rejects).toHaveLength(5);

    expect(await request(subject, JSON.stringify(tick()))).toEqual({
      _tag: "task.released",
      v: 1,
      run: RUN,
      model: "ES_RITNet",
      frames: [{ model: "ES_RITNet", frame: 0, releaseAt: 0, injectAt: 0, deadline: 16 }],
      skipped: [],
      nextAt: 16,
    });
    expect(state(h)).toMatchObject({ nextFrame: 1, released: 1 });
    expect(h.stats).toEqual({ received: 6, rejected: 5, sent: 1 });
  });

  it("a bad task.frameEnded notification is counted and not applied; a good one is", async () => {
    const h = host();
    const ended = { _tag: "task.frameEnded", v: 1, run: RUN, at: 3, model: "ES_RITNet", frame: 0, outcome: "onTime" };
    bus.publish(subject, JSON.stringify({ ...ended, outcome: "perfect" }));
    bus.publish(subject, JSON.stringify(without(ended, "frame")));
    await bus.flush();
    const endedCounts = () => (h.actor.getSnapshot().context as { ended: unknown }).ended;
    expect(endedCounts()).toEqual({ onTime: 0, late: 0, dropped: 0 });
    expect(h.stats.rejected).toBe(2);
    expect(rejects.map((r) => r.message)[1]).toBe("frame: is missing");
    bus.publish(subject, JSON.stringify(ended));
    await bus.flush();
    expect(endedCounts()).toEqual({ onTime: 1, late: 0, dropped: 0 });
    expect(h.stats).toEqual({ received: 3, rejected: 2, sent: 0 });
  });
});
