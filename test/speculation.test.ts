/**
 * Speculation in virtual time (shared/src/runtime/speculation.ts, docs/architecture.md
 * "Speculation"): the scheduler's host feeds the kernel each block's reply as the run's cost table
 * predicts it, sends the dispatch as always, and lets nothing out (recorded steps, events, the
 * run's end) before the accelerator's reply has confirmed every prediction it depends on;
 * dispatches made while an accelerator's previous message is unanswered go to it together, in one
 * `block.batch`. What must hold:
 * - the bookkeeping: outputs held in order until the predictions fed before them are confirmed,
 *   at most `depth` unconfirmed, a mismatch holds everything after it for good; lanes send one
 *   message per accelerator at a time, batching what waited (at most the batch limit);
 * - a run's events, result and log bytes are those of a run without speculation, whatever the
 *   depth, for cascades, phases, supernets, dispatch queues and chains — and batches are sent;
 * - an accelerator whose reply differs from the prediction fails the run, naming the field and
 *   both values — also when the reply comes after the kernel has finished on the prediction (the
 *   run's end was never let out); a batch answered with the wrong number of results fails it too,
 *   and so does a single block answered with `block.results`; a depth outside [0, 1024] is refused;
 * - the accelerator's host answers a batch block by block through its actor, in order (a block
 *   it refuses is refused at its index), and refuses a batch holding a live block or another
 *   accelerator's block, naming it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { executeBlock } from "@sdrm3/shared/actors";
import { type BlockDispatch, type BlockResult, MAX_BATCH_BLOCKS, PROTOCOL_VERSION, RunConfigError, Subjects, type RunEvent } from "@sdrm3/shared/contracts";
import {
  type Bus,
  type Hosted,
  type RunOptions,
  MAX_SPECULATION_DEPTH,
  RunFailedError,
  acceleratorCosts,
  checkSpeculationDepth,
  runScenario,
  blockPredictor,
  createMemoryBus,
  dispatchLanes,
  hostAccelerator,
  hostModelTasks,
  hostScheduler,
  kernelConfigFor,
  runVariants,
  speculation,
  taskConfigsFor,
  textOf,
} from "@sdrm3/shared/runtime";
import { comparable, directRun, natsBusAndDir, recordedRun, runSpecOf, scratchDir } from "./support/run-result";
import { randomUUID } from "node:crypto";

const dir = scratchDir("speculation");

const spec = (scenario: string, hardware: string, policy: string, durationMs: number, extra: Record<string, unknown> = {}): RunOptions =>
  runSpecOf(scenario, hardware, policy, durationMs, extra, 5, "spec");

const result = (acc: string, job: string, completesAt: number): BlockResult =>
  ({ _tag: "block.result", v: PROTOCOL_VERSION, run: "r", acc, job, firstLayer: 0, layerCount: 1, startedAt: 0, completesAt, latencyMs: completesAt, energyMJ: 1 }) as BlockResult;

describe("the bookkeeping", () => {
  it("holds outputs until every prediction fed before them is confirmed, in order, whatever order the replies come in", () => {
    const s = speculation(8);
    const out: string[] = [];
    s.hold(() => out.push("before"));
    expect(out).toEqual(["before"]); // nothing unconfirmed: at once
    s.fed(0, result("a", "j0", 2));
    s.fed(1, result("b", "j1", 2));
    expect(s.room).toBe(6);
    s.hold(() => out.push("after both"));
    const done: string[] = [];
    s.settled(() => done.push("settled"));
    expect(s.verify(7, result("a", "x", 1))).toBe("unpredicted");
    expect(s.verify(1, result("b", "j1", 2))).toBe("confirmed"); // the later one first: still held
    expect(out).toEqual(["before"]);
    expect(done).toEqual([]);
    expect(s.verify(0, result("a", "j0", 2))).toBe("confirmed");
    expect(out).toEqual(["before", "after both"]);
    expect(done).toEqual(["settled"]);
    expect(s.unconfirmed).toBe(0);
  });

  it("an output made between two predictions waits for the first one only", () => {
    const s = speculation(8);
    const out: string[] = [];
    s.fed(0, result("a", "j0", 2));
    s.hold(() => out.push("after 0"));
    s.fed(1, result("b", "j1", 2));
    s.hold(() => out.push("after 1"));
    s.verify(0, result("a", "j0", 2));
    expect(out).toEqual(["after 0"]);
    s.verify(1, result("b", "j1", 2));
    expect(out).toEqual(["after 0", "after 1"]);
  });

  it("its room says how many more predictions may be fed: the depth less those unconfirmed", () => {
    const s = speculation(2);
    expect(s.room).toBe(2);
    s.fed(0, result("a", "j0", 2));
    s.fed(2, result("a", "j2", 2));
    expect([s.room, s.unconfirmed]).toEqual([0, 2]);
    expect(s.verify(3, result("a", "j3", 2))).toBe("unpredicted"); // not fed: its reply goes to the kernel
    s.verify(0, result("a", "j0", 2));
    expect([s.room, s.unconfirmed]).toEqual([1, 1]);
  });

  it("a mismatch names each field that differs, and holds every later output and the end for good", () => {
    const s = speculation(8);
    const out: string[] = [];
    const done: string[] = [];
    s.fed(0, result("a", "j0", 2));
    s.hold(() => out.push("after"));
    s.settled(() => done.push("settled"));
    const verdict = s.verify(0, { ...result("a", "j0", 3), energyMJ: 4 });
    expect(verdict).toEqual({ mismatch: "its reply differs from the prediction: completesAt 3 (the run's cost table gives 2), latencyMs 3 (the run's cost table gives 2), energyMJ 4 (the run's cost table gives 1)" });
    expect(s.verify(0, { _tag: "error" })).toEqual({ mismatch: "its reply differs from the prediction: a reply that is not a block result" });
    expect(s.room).toBe(0); // no more speculation
    expect(out).toEqual([]);
    expect(done).toEqual([]);
  });

  it("lanes: one message in flight per accelerator; what waited goes together, at most `max` at a time, in order", () => {
    const sent: string[] = [];
    const lanes = dispatchLanes<number>((acc, items) => sent.push(`${acc}:${items.join(",")}`), 3);
    lanes.send("a", 1);
    lanes.send("b", 2);
    for (const i of [3, 4, 5, 6, 7]) lanes.send("a", i);
    expect(sent).toEqual(["a:1", "b:2"]);
    lanes.answered("a");
    expect(sent).toEqual(["a:1", "b:2", "a:3,4,5"]);
    lanes.answered("b"); // nothing waited: b is free
    lanes.send("b", 8);
    lanes.answered("a");
    lanes.answered("a");
    lanes.send("a", 9);
    expect(sent).toEqual(["a:1", "b:2", "a:3,4,5", "b:8", "a:6,7", "a:9"]);
  });
});

describe("a run with speculation is the run without it", () => {
  it.each([
    ["AR_Assistant", "Quad_8K/WS_OS_WS_OS", "sdrm3", 600, { quantumMs: 4 }],
    ["social_interactionA", "Dual_4K/WS_OS", "sdrm3", 600, {}],
    ["VR_gaming", "Dual_4K/WS_OS", "edf", 600, { queueDepth: 2, chainMs: 1 }],
    ["social_dynamic", "Quad_8K/WS_OS_WS_OS", "sdrm3", 1200, {}],
    ["VR_to_AR_switch", "Dual_4K/WS_OS", "sdrm3", 1200, { supernet: true }],
  ] as const)("%s on %s under %s: the same events, result and log bytes at depths 1, 4 and 32, with batches sent", async (scenario, hardware, policy, durationMs, extra) => {
    const opts = spec(scenario, hardware, policy, durationMs, extra);
    const collect = (into: string[]) => (e: RunEvent) => into.push(JSON.stringify(e));
    const plainEvents: string[] = [];
    const plainLog = join(dir, `${scenario}-0.jsonl`);
    const plain = await recordedRun({ ...opts, speculate: 0, onEvent: collect(plainEvents) }, plainLog);
    expect(plainEvents.length).toBeGreaterThan(100);
    let batches = 0;
    for (const depth of [1, 4, 32]) {
      const bus = createMemoryBus();
      const sub = bus.subscribe(Subjects.accelCmd(opts.run!, "acc0").replace(".acc0.", ".*."), (m) => void (m.data.includes('"block.batch"') && batches++));
      const events: string[] = [];
      const log = join(dir, `${scenario}-${depth}.jsonl`);
      try {
        const speculated = await recordedRun({ ...opts, bus, speculate: depth, onEvent: collect(events) }, log);
        expect(events).toEqual(plainEvents);
        expect(comparable(speculated)).toBe(comparable(plain));
        expect(readFileSync(log, "utf8")).toBe(readFileSync(plainLog, "utf8"));
      } finally {
        sub.unsubscribe();
        await bus.close();
      }
    }
    expect(batches).toBeGreaterThan(0);
  });
});

describe("over NATS (the default there)", () => {
  const nats = natsBusAndDir("speculation");
  it("AR_Assistant on Quad_8K at a 4-ms quantum: the in-process run's log bytes, with batches sent", async () => {
    const opts = spec("AR_Assistant", "Quad_8K/WS_OS_WS_OS", "sdrm3", 1000, { quantumMs: 4 });
    const memoryLog = join(nats.dir, "memory.jsonl");
    const onMemory = await recordedRun(opts, memoryLog);
    const run = `spec-${randomUUID().slice(0, 8)}`;
    let batches = 0;
    const sub = nats.bus.subscribe(Subjects.accelCmd(run, "acc0").replace(".acc0.", ".*."), (m) => void (m.data.includes('"block.batch"') && batches++));
    const natsLog = join(nats.dir, "nats.jsonl");
    try {
      const onNats = await recordedRun({ ...opts, bus: nats.bus, run }, natsLog);
      expect(comparable(onNats)).toBe(comparable(onMemory));
    } finally {
      sub.unsubscribe();
    }
    expect(readFileSync(natsLog, "utf8").replaceAll(run, "spec")).toBe(readFileSync(memoryLog, "utf8"));
    expect(batches).toBeGreaterThan(0);
  });
});

/**
 * Hosts a run of `opts` on a memory bus with speculation (depth 32): the accelerators' costs changed
 * by `costs`, their replies passed through `replies` (which answers with `respond`, when it likes);
 * the run's error, or undefined, and the events it let out.
 */
const hostedRun = async (
  opts: RunOptions,
  tamper: {
    readonly costs?: (i: number, c: ReturnType<typeof acceleratorCosts>) => ReturnType<typeof acceleratorCosts>;
    readonly replies?: (reply: Record<string, unknown>, respond: (text: string) => void) => void;
  },
): Promise<{ readonly error: unknown; readonly events: ReadonlyArray<RunEvent> }> => {
  const bus = createMemoryBus();
  const events: RunEvent[] = [];
  const scheduler = hostScheduler(bus, kernelConfigFor(opts, opts.run!), { expectTasks: true, predict: blockPredictor(opts), speculationDepth: 32, onEvent: (e) => events.push(e) });
  const hosted: Hosted[] = [...hostModelTasks(bus, taskConfigsFor(opts, opts.run!), {})];
  const replies = tamper.replies;
  // the accelerators' bus: their answers go through `replies`
  const accelBus: Bus =
    replies === undefined
      ? bus
      : new Proxy(bus, {
          get: (target, key) =>
            key !== "subscribe"
              ? Reflect.get(target, key)
              : ((subject, handler, o) =>
                  target.subscribe(subject, (m) => handler({
                    subject: m.subject,
                    data: m.data,
                    reply: m.reply,
                    respond: (r) => {
                      replies(JSON.parse(textOf(r)) as Record<string, unknown>, (text) => void m.respond(text));
                      return true;
                    },
                  }), o)) satisfies Bus["subscribe"],
        });
  opts.hardware.accelerators.forEach((acc, i) => {
    const costs = acceleratorCosts(opts.costs, i, runVariants(opts));
    hosted.push(hostAccelerator(accelBus, opts.run!, acc, tamper.costs?.(i, costs) ?? costs, {}));
  });
  try {
    const error = await scheduler.done.then(
      () => undefined,
      (err: unknown) => err,
    );
    return { error, events };
  } finally {
    scheduler.stop();
    for (const h of hosted) h.stop();
    await bus.close();
  }
};

describe("wrong answers fail the run", () => {
  it("an accelerator whose costs differ from the run's: the run fails naming the accelerator, the field and both values", async () => {
    const opts = spec("AR_Assistant", "Quad_8K/WS_OS_WS_OS", "sdrm3", 300, { quantumMs: 4 });
    const slower = (i: number, costs: ReturnType<typeof acceleratorCosts>) =>
      i !== 1 ? costs : new Map([...costs].map(([model, c]) => [model, { ...c, cycles: c.cycles.map((x) => x * 1.5) }]));
    const { error } = await hostedRun(opts, { costs: slower });
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as Error).message).toMatch(/accel\.acc1\.cmd: its reply differs from the prediction: completesAt [\d.]+ \(the run's cost table gives [\d.]+\), latencyMs/);
  });

  it("a wrong reply that arrives after the kernel has finished on its prediction: the run fails, and its end was never let out", async () => {
    const opts = spec("AR_Assistant", "Quad_8K/WS_OS_WS_OS", "sdrm3", 300, { quantumMs: 4 });
    // the start of the run's fifth-last block: replies to blocks from there on are wrong, and late
    const starts = directRun(opts, opts.run!).events.flatMap((e) => (e._tag === "block.dispatched" ? [e.at] : [])).sort((a, b) => a - b);
    const from = starts[starts.length - 5]!;
    const late: Array<() => void> = [];
    const { error, events } = await hostedRun(opts, {
      replies: (reply, respond) => {
        const results = (reply._tag === "block.results" ? reply.results : [reply]) as Array<Record<string, unknown>>;
        const wrong = results.filter((r) => r._tag === "block.result" && (r.startedAt as number) >= from);
        if (wrong.length === 0) return respond(JSON.stringify(reply));
        for (const r of wrong) r.energyMJ = (r.energyMJ as number) + 1;
        late.push(() => respond(JSON.stringify(reply)));
        if (late.length === 1) setTimeout(() => late.forEach((f) => f()), 200);
      },
    });
    expect(late.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as Error).message).toMatch(/its reply differs from the prediction: energyMJ [\d.]+ \(the run's cost table gives [\d.]+\)/);
    expect(events.length).toBeGreaterThan(100);
    expect(events.some((e) => e._tag === "run.finished")).toBe(false);
  });

  it("a batch answered with fewer results than blocks: the run fails naming it", async () => {
    const opts = spec("AR_Assistant", "Quad_8K/WS_OS_WS_OS", "sdrm3", 300, { quantumMs: 4 });
    // the accelerators' answers to batches lose their last result
    const { error } = await hostedRun(opts, {
      replies: (reply, respond) => {
        if (reply._tag === "block.results") (reply.results as unknown[]).pop();
        respond(JSON.stringify(reply));
      },
    });
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as Error).message).toMatch(/accel\.acc\d\.cmd answered \d+ results to a batch of \d+ blocks/);
  });
});

describe("a single block answered with block.results, and depths a run refuses", () => {
  it("a block.results reply to a single dispatch fails the run naming it", async () => {
    const opts = spec("AR_Assistant", "Quad_8K/WS_OS_WS_OS", "sdrm3", 300, { quantumMs: 4 });
    const { error } = await hostedRun(opts, {
      replies: (reply, respond) =>
        respond(JSON.stringify(reply._tag === "block.result" ? { _tag: "block.results", v: reply.v, run: reply.run, acc: reply.acc, results: [reply, reply] } : reply)),
    });
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as Error).message).toMatch(/accel\.acc\d\.cmd answered block\.results to a single block/);
  });

  it("a run's speculation depth is an integer in [0, MAX_SPECULATION_DEPTH]", async () => {
    const opts = spec("AR_Assistant", "Quad_8K/WS_OS_WS_OS", "sdrm3", 100);
    for (const speculate of [-1, 1.5, Number.NaN, MAX_SPECULATION_DEPTH + 1]) {
      await expect(runScenario({ ...opts, speculate })).rejects.toThrow(new RunConfigError(`speculation depth: expected an integer in [0, ${MAX_SPECULATION_DEPTH}], got ${speculate}`));
    }
    expect(checkSpeculationDepth(0)).toBe(0);
    expect(checkSpeculationDepth(MAX_SPECULATION_DEPTH)).toBe(MAX_SPECULATION_DEPTH);
  });
});

describe("the accelerator's host answers a batch", () => {
  const opts = spec("AR_Assistant", "Quad_8K/WS_OS_WS_OS", "sdrm3", 300);
  const costs = acceleratorCosts(opts.costs, 0, runVariants(opts));
  const acc = opts.hardware.accelerators[0]!;
  const model = opts.scenario.models[0]!.name;
  const block = (job: string, at: number, firstLayer: number, extra: Partial<BlockDispatch> = {}): BlockDispatch =>
    ({ _tag: "block.dispatch", v: PROTOCOL_VERSION, run: "b", at, acc: acc.id, job, model, frame: 0, firstLayer, layerCount: 2, timing: "exact", ...extra }) as BlockDispatch;
  const ask = async (blocks: ReadonlyArray<BlockDispatch>) => {
    const bus = createMemoryBus();
    const hosted = hostAccelerator(bus, "b", acc, costs, {});
    try {
      const msg = await bus.request(Subjects.accelCmd("b", acc.id), JSON.stringify({ _tag: "block.batch", v: PROTOCOL_VERSION, run: "b", acc: acc.id, blocks }));
      return JSON.parse(msg.data) as { _tag: string; results?: Array<{ _tag: string; message?: string }>; message?: string };
    } finally {
      hosted.stop();
      await bus.close();
    }
  };

  it("block by block, in order, each as the accelerator computes it; a block it refuses is refused at its index", async () => {
    const first = block(`${model}:0`, 0, 0);
    const end = (executeBlock(costs, first) as BlockResult).completesAt;
    const second = block(`${model}:0`, end, 2);
    const early = block(`${model}:1`, end / 2, 0, { frame: 1 }); // before the block in front of it ends: busy
    const reply = await ask([first, second, early]);
    expect(reply._tag).toBe("block.results");
    expect(reply.results!.slice(0, 2)).toEqual([executeBlock(costs, first), executeBlock(costs, second)].map((r) => ({ ...r, run: "b" })));
    expect(reply.results![2]).toMatchObject({ _tag: "error", kind: "rejected" });
    expect(reply.results![2]!.message).toMatch(/is busy until/);
  });

  it("a batch holding a live block or another accelerator's block is refused, naming the block", async () => {
    expect(await ask([block(`${model}:0`, 0, 0), block(`${model}:0`, 5, 2, { speed: 1 })])).toMatchObject({
      _tag: "error",
      kind: "rejected",
      message: `block.batch to b/${acc.id}: blocks[1] is a live block (batches are for virtual time)`,
    });
    expect(await ask([block(`${model}:0`, 0, 0, { acc: "other" }), block(`${model}:0`, 5, 2)])).toMatchObject({
      _tag: "error",
      message: `block.batch to b/${acc.id}: blocks[0] is a block for b/other`,
    });
  });

  it("a batch of one block, or of more than the limit, does not decode", async () => {
    expect(await ask([block(`${model}:0`, 0, 0)])).toMatchObject({ _tag: "error", kind: "decode" });
    const many = Array.from({ length: MAX_BATCH_BLOCKS + 1 }, (_, i) => block(`${model}:${i}`, i * 100, 0, { frame: i }));
    expect(await ask(many)).toMatchObject({ _tag: "error", kind: "decode" });
  });
});
