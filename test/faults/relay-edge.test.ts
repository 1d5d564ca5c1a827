/**
 * Bad input at the relay point (shared/src/runtime/host.ts, typed-bus.ts), one case per weakness
 * the NATS flood (flood.test.ts) runs into, reduced to the smallest input on the in-memory bus:
 *
 * - a well-formed command for another run id, sent to this run's model task, must not reach the
 *   task actor (the accelerator host already refuses a block for another run or accelerator);
 * - a run.control for another run id, sent to this run's control subject, must not end or stop the
 *   services of this run (`sdrm3 serve workload` exits on `finished`);
 * - the decode-error reply to a bad request just under max_payload must still fit under the limit
 *   and name the field;
 * - deeply nested JSON must be rejected, counted and answered like any undecodable payload, never
 *   throw out of the decoder;
 * - a request that is never answered (a task.frameEnded notification sent with a reply subject, a
 *   dispatch to a fenced accelerator) must not be retained by the host for the rest of the run.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { Either } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AccelModelCosts } from "@sdrm3/shared/actors";
import { AccelCommand, ErrorReply, PROTOCOL_VERSION, RunControl, Subjects, TaskCommand } from "@sdrm3/shared/contracts";
import type { AcceleratorSpec } from "@sdrm3/shared/domain";
import {
  type BusMsg,
  type Hosted,
  type MemoryBus,
  createMemoryBus,
  decodeJson,
  hostAccelerator,
  hostModelTasks,
  resolveRunSpec,
  runScenario,
  taskConfigsFor,
  utf8ByteLength,
} from "@sdrm3/shared/runtime";
import { comparable } from "../support/run-result";

const RUN = "r1";
const OTHER_RUN = "other-run";

const SPEC: AcceleratorSpec = { index: 0, name: "Acc0", numPes: 4096, nocBw: 256, id: "acc0", dataflow: "WS", costClass: "WS_4096pe_bw256" };
const COSTS: ReadonlyMap<string, AccelModelCosts> = new Map([
  ["ES_RITNet", { cycles: Float64Array.of(2_000_000, 500_000), energyMJ: Float64Array.of(1.5, 0.25) }],
]);
const dispatch = (over: Record<string, unknown> = {}) => ({
  _tag: "block.dispatch",
  v: PROTOCOL_VERSION,
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

/** VR_gaming's model tasks for RUN (ES_RITNet first). */
const RESOLVED = resolveRunSpec({ scenario: "VR_gaming", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 200, seed: 3 });
const TASKS = taskConfigsFor(RESOLVED, RUN);
const TASK_SUBJECT = Subjects.taskCmd(RUN, "ES_RITNet");

let bus: MemoryBus;
let hosted: Hosted[];
let busErrors: string[];
beforeEach(() => {
  busErrors = [];
  bus = createMemoryBus({ onError: (e, ctx) => void busErrors.push(`${ctx.kind} on ${ctx.subject}: ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 200)}` : String(e)}`) });
  hosted = [];
});
afterEach(async () => {
  for (const h of hosted) h.stop();
  await bus.close();
});

/** The reply's text, or the error the request failed with. */
const ask = (subject: string, text: string, timeoutMs = 300): Promise<string | Error> =>
  bus.request(subject, text, { timeoutMs }).then(
    (m) => m.data,
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  );

const taskContext = (h: Hosted) => {
  const c = h.actor.getSnapshot().context as { state: unknown; ended: unknown };
  return { state: c.state, ended: c.ended };
};

describe("a command for another run id, sent to this run's model task", () => {
  it("is refused like the accelerator refuses it, and never reaches the task actor", async () => {
    const [task] = hosted = hostModelTasks(bus, TASKS);
    const before = taskContext(task!);
    // a tick far in the future would release the task's next frame to whoever sent it
    const tick = await ask(TASK_SUBJECT, JSON.stringify({ _tag: "task.tick", v: PROTOCOL_VERSION, run: OTHER_RUN, at: 1e9 }));
    bus.publish(TASK_SUBJECT, JSON.stringify({ _tag: "task.frameEnded", v: PROTOCOL_VERSION, run: OTHER_RUN, at: 1, model: "ES_RITNet", frame: 0, outcome: "late" }));
    await bus.flush();
    expect(taskContext(task!), "task actor's state after commands for another run").toEqual(before);
    expect(typeof tick === "string" ? JSON.parse(tick) : String(tick)).toMatchObject({ _tag: "error", kind: "rejected" });
  });

  it("changes nothing in a run: one such tick mid-run leaves the metrics identical", async () => {
    const clean = await runScenario({ ...RESOLVED });
    let sent = false;
    let answer: Promise<string | Error> = Promise.resolve("");
    const poked = await runScenario({
      ...RESOLVED,
      bus,
      run: RUN,
      onEvent: () => {
        if (sent) return;
        sent = true;
        answer = ask(TASK_SUBJECT, JSON.stringify({ _tag: "task.tick", v: PROTOCOL_VERSION, run: OTHER_RUN, at: 1e9 }));
      },
    });
    const reply = await answer;
    expect(reply, "the task answered a tick of another run").not.toContain('"_tag":"task.released"');
    expect(poked.summary.released).toBe(clean.summary.released);
    expect(comparable(poked) === comparable(clean), "metrics identical to the clean run").toBe(true);
  });
});

describe("a run.control for another run id, sent to this run's control subject", () => {
  it("neither ends nor stops this run's services, nor makes them re-register", async () => {
    const calls: string[] = [];
    const opts = { onFinished: () => void calls.push("finished"), onStopped: (reason: string) => void calls.push(`stopped: ${reason}`) };
    hosted = [...hostModelTasks(bus, TASKS, opts), hostAccelerator(bus, RUN, SPEC, COSTS, opts)];
    await bus.flush();
    const registrations: string[] = [];
    bus.subscribe(Subjects.control(RUN, "register"), (m) => void registrations.push(m.data));
    const control = (run: string, op: RunControl["op"]) =>
      bus.publish(Subjects.control(RUN, "control"), JSON.stringify(RunControl.make({ v: PROTOCOL_VERSION, run, op, reason: "not yours" })));
    for (const op of ["discover", "finished", "stop"] as const) control(OTHER_RUN, op);
    await bus.flush();
    expect({ calls, registrations: registrations.length }, "effect of run.control messages for another run").toEqual({ calls: [], registrations: 0 });
    // the same for this run does act (the test would prove nothing otherwise)
    control(RUN, "finished");
    await bus.flush();
    expect(calls).toEqual(["finished", "finished"]);
  });
});

describe("a bad request just under max_payload", () => {
  it("gets a decode-error reply that fits under the limit and names the field", async () => {
    hosted = [hostAccelerator(bus, RUN, SPEC, COSTS)];
    const limit = bus.maxPayload;
    const [head, tail] = JSON.stringify(dispatch({ at: "@@" })).split('"@@"') as [string, string];
    const payload = `${head}"${"x".repeat(limit - 1 - head.length - tail.length - 2)}"${tail}`;
    expect(utf8ByteLength(payload)).toBe(limit - 1);
    const reply = await ask(Subjects.accelCmd(RUN, "acc0"), payload);
    expect(busErrors, "errors raised while answering").toEqual([]);
    expect(reply).toBeTypeOf("string");
    const decoded = decodeJson(ErrorReply, reply as string);
    expect(Either.isRight(decoded) && decoded.right.kind).toBe("decode");
    expect(Either.isRight(decoded) && decoded.right.issues.map((i) => i.path)).toContain("at");
    expect(utf8ByteLength(reply as string)).toBeLessThanOrEqual(limit);
  });
});

describe("deeply nested JSON", () => {
  const DEPTH = 20_000; // 40 KB
  const nested = "[".repeat(DEPTH) + "]".repeat(DEPTH);
  const payloads: ReadonlyArray<readonly [string, string]> = [
    ["as the whole message", nested],
    ["as the _tag", `{"_tag":${nested}}`],
    ["as a field", JSON.stringify(dispatch({ at: "@@" })).replace('"@@"', nested)],
  ];

  it.each(payloads)("%s: the edge decoder returns a failure instead of throwing", (_label, text) => {
    for (const schema of [AccelCommand, TaskCommand, RunControl]) {
      let outcome: string;
      try {
        const decoded = decodeJson(schema as never, text);
        outcome = Either.isLeft(decoded) ? "failure" : "decoded";
      } catch (e) {
        outcome = `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
      }
      expect(outcome).toBe("failure");
    }
  });

  it("sent to an accelerator: rejected, counted and answered with a decode error", async () => {
    const rejects: string[] = [];
    const acc = hostAccelerator(bus, RUN, SPEC, COSTS, { onReject: (_s, m) => void rejects.push(m) });
    hosted = [acc];
    const reply = await ask(Subjects.accelCmd(RUN, "acc0"), `{"_tag":${nested}}`);
    expect(busErrors, "errors thrown by the relay's handler").toEqual([]);
    expect(acc.stats.rejected).toBe(1);
    expect(rejects).toHaveLength(1);
    expect(typeof reply === "string" ? JSON.parse(reply) : String(reply)).toMatchObject({ _tag: "error", kind: "decode" });
  });
});

describe("requests nobody answers", () => {
  // Forcing a collection: a BusMsg that is only weakly reachable must be gone after it.
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const collected = async (ref: WeakRef<object>) => {
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      gc();
    }
    return ref.deref() === undefined;
  };
  /** Sends `text` as a request and returns a weak reference to the message every recipient got. */
  const send = async (subject: string, text: string): Promise<WeakRef<BusMsg>> => {
    let ref: WeakRef<BusMsg> | undefined;
    const spy = bus.subscribe(subject, (m) => void (ref ??= new WeakRef(m)));
    await ask(subject, text, 20);
    spy.unsubscribe();
    return ref!;
  };
  const PAD = "x".repeat(100_000);

  it("an answered request is not retained (the check itself works)", async () => {
    hosted = hostModelTasks(bus, TASKS);
    const ref = await send(TASK_SUBJECT, JSON.stringify({ _tag: "task.tick", v: PROTOCOL_VERSION, run: RUN, at: 0, pad: PAD }));
    expect(await collected(ref)).toBe(true);
  });

  it("an unanswered request is not retained by the bus (the check itself works)", async () => {
    bus.subscribe(TASK_SUBJECT, () => {}); // a responder that never answers
    const ref = await send(TASK_SUBJECT, JSON.stringify({ _tag: "task.frameEnded", v: PROTOCOL_VERSION, run: RUN, at: 1, model: "ES_RITNet", frame: 0, outcome: "onTime", pad: PAD }));
    expect(await collected(ref)).toBe(true);
  });

  it.each([RUN, OTHER_RUN])("a task.frameEnded notification of run %s sent as a request is not retained by the host", async (run) => {
    hosted = hostModelTasks(bus, TASKS);
    const ref = await send(TASK_SUBJECT, JSON.stringify({ _tag: "task.frameEnded", v: PROTOCOL_VERSION, run, at: 1, model: "ES_RITNet", frame: 0, outcome: "onTime", pad: PAD }));
    expect(await collected(ref), "the ~100 KB message is still referenced after its request timed out").toBe(true);
  });

  it("a dispatch to a fenced accelerator (canServe false) is not retained by the host", async () => {
    hosted = [hostAccelerator(bus, RUN, SPEC, COSTS, { canServe: () => false })];
    const ref = await send(Subjects.accelCmd(RUN, "acc0"), JSON.stringify({ ...dispatch(), pad: PAD }));
    expect(await collected(ref), "the ~100 KB message is still referenced after its request timed out").toBe(true);
  });
});
