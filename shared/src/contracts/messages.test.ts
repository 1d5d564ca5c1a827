/**
 * Every message schema: a valid example decodes to itself (wire form = decoded form), and a missing
 * field, a field of the wrong type, a wrong protocol version and a wrong `_tag` are refused with an
 * issue naming the field path. Decoding goes through `decodeJson`, the edge decoder the host uses.
 * Property tests: decoding random text never throws; a valid block.dispatch with one field replaced
 * by a value of another type is refused naming exactly that field.
 */
import { Either, type Schema } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DecodeFailure, decodeJson } from "../runtime/codec";
import {
  AccelCommand,
  AccelRegister,
  AccelReply,
  BlockDispatch,
  BlockDispatchedEvent,
  BlockResult,
  ControlMessage,
  DecisionEvent,
  ErrorReply,
  FrameEndedEvent,
  FrameReleasedEvent,
  PROTOCOL_VERSION,
  ReleasedFrame,
  RunControl,
  RunEvent,
  RunFinishedEvent,
  TaskCommand,
  TaskFrameEnded,
  TaskParentEnded,
  TaskReleased,
  TaskReply,
  TaskTick,
  errorReply,
} from "./messages";

type AnySchema = Schema.Schema<any, any>;
type Json = Record<string, unknown>;

const decode = (schema: AnySchema, value: unknown) => decodeJson(schema, JSON.stringify(value));

/** Decodes `value`, which must fail, and returns the failure. */
const failureOf = (schema: AnySchema, value: unknown): DecodeFailure => {
  const result = decode(schema, value);
  if (Either.isRight(result)) throw new Error(`expected a decode failure, got ${JSON.stringify(result.right)}`);
  return result.left;
};

/** Distinct field paths named by a failure, in order (a literal union reports one issue per literal). */
const pathsOf = (failure: DecodeFailure): string[] => [...new Set(failure.issues.map((i) => i.path))];

const without = (value: Json, field: string): Json => {
  const copy = { ...value };
  delete copy[field];
  return copy;
};

const frame = { model: "ES_RITNet", frame: 3, releaseAt: 50, injectAt: 50.5, deadline: 66.666 };

const blockDispatch = {
  _tag: "block.dispatch",
  v: 1,
  run: "run-1",
  at: 12.5,
  acc: "acc0",
  job: "ES_RITNet:3",
  model: "ES_RITNet",
  frame: 3,
  firstLayer: 4,
  layerCount: 2,
  timing: "xrbench-f32",
} as const;

interface Case {
  readonly name: string;
  readonly schema: AnySchema;
  readonly valid: Json;
  /** A required field and a field given a value of the wrong type. */
  readonly required: string;
  readonly wrongType: readonly [field: string, value: unknown];
  readonly tagged: boolean;
}

const CASES: ReadonlyArray<Case> = [
  {
    name: "ReleasedFrame",
    schema: ReleasedFrame,
    valid: frame,
    required: "deadline",
    wrongType: ["frame", "3"],
    tagged: false,
  },
  {
    name: "TaskTick",
    schema: TaskTick,
    valid: { _tag: "task.tick", v: 1, run: "run-1", at: 16 },
    required: "at",
    wrongType: ["run", 7],
    tagged: true,
  },
  {
    name: "TaskParentEnded",
    schema: TaskParentEnded,
    valid: { _tag: "task.parentEnded", v: 1, run: "run-1", at: 20, parent: "ES_RITNet", frame: 2, releaseAt: 16, outcome: "late" },
    required: "releaseAt",
    wrongType: ["frame", true],
    tagged: true,
  },
  {
    name: "TaskFrameEnded",
    schema: TaskFrameEnded,
    valid: { _tag: "task.frameEnded", v: 1, run: "run-1", at: 20, model: "GE_FBNet_C", frame: 1, outcome: "dropped" },
    required: "outcome",
    wrongType: ["model", null],
    tagged: true,
  },
  {
    name: "TaskReleased",
    schema: TaskReleased,
    valid: { _tag: "task.released", v: 1, run: "run-1", model: "ES_RITNet", frames: [frame], skipped: [2], nextAt: 66.666 },
    required: "nextAt",
    wrongType: ["frames", {}],
    tagged: true,
  },
  {
    name: "BlockDispatch",
    schema: BlockDispatch,
    valid: blockDispatch,
    required: "layerCount",
    wrongType: ["layerCount", "2"],
    tagged: true,
  },
  {
    name: "BlockResult",
    schema: BlockResult,
    valid: {
      _tag: "block.result",
      v: 1,
      run: "run-1",
      acc: "acc1",
      job: "ES_RITNet:3",
      firstLayer: 4,
      layerCount: 2,
      startedAt: 12.5,
      completesAt: 14.25,
      latencyMs: 1.75,
      energyMJ: 0.125,
    },
    required: "completesAt",
    wrongType: ["energyMJ", "0.125"],
    tagged: true,
  },
  {
    name: "AccelRegister",
    schema: AccelRegister,
    valid: { _tag: "accel.register", v: 1, run: "run-1", acc: "acc0", dataflow: "WS", numPes: 4096, nocBw: 256, costClass: "WS_4096pe_bw256", host: "embedded" },
    required: "numPes",
    wrongType: ["costClass", 5],
    tagged: true,
  },
  {
    name: "RunControl",
    schema: RunControl,
    valid: { _tag: "run.control", v: 1, run: "run-1", op: "stop", reason: "user" },
    required: "op",
    wrongType: ["reason", 1],
    tagged: true,
  },
  {
    name: "FrameReleasedEvent",
    schema: FrameReleasedEvent,
    valid: { _tag: "frame.released", v: 1, run: "run-1", at: 50.5, frame },
    required: "frame",
    wrongType: ["at", "50.5"],
    tagged: true,
  },
  {
    name: "BlockDispatchedEvent",
    schema: BlockDispatchedEvent,
    valid: {
      _tag: "block.dispatched",
      v: 1,
      run: "run-1",
      at: 12.5,
      acc: "acc0",
      job: "ES_RITNet:3",
      firstLayer: 0,
      layerCount: 5,
      completesAt: 20,
      energyMJ: 3,
    },
    required: "job",
    wrongType: ["completesAt", false],
    tagged: true,
  },
  {
    name: "FrameEndedEvent",
    schema: FrameEndedEvent,
    valid: { _tag: "frame.ended", v: 1, run: "run-1", at: 30, job: "ES_RITNet:3", outcome: "onTime" },
    required: "outcome",
    wrongType: ["job", 3],
    tagged: true,
  },
  {
    name: "DecisionEvent",
    schema: DecisionEvent,
    valid: {
      _tag: "decision",
      v: 1,
      run: "run-1",
      at: 12.5,
      n: 1,
      action: "dispatch",
      job: "ES_RITNet:3",
      acc: "acc0",
      firstLayer: 0,
      layerCount: 1,
      scores: { urgency: 0.5, fairness: 1 },
    },
    required: "action",
    wrongType: ["n", "1"],
    tagged: true,
  },
  {
    name: "RunFinishedEvent",
    schema: RunFinishedEvent,
    valid: { _tag: "run.finished", v: 1, run: "run-1", at: 700 },
    required: "at",
    wrongType: ["run", {}],
    tagged: true,
  },
  {
    name: "ErrorReply",
    schema: ErrorReply,
    valid: { _tag: "error", v: 1, kind: "decode", message: "layerCount: is missing", issues: [{ path: "layerCount", message: "is missing" }] },
    required: "issues",
    wrongType: ["message", 0],
    tagged: true,
  },
];

const byNameOf = (name: string): Json => CASES.find((c) => c.name === name)!.valid;

describe.each(CASES)("$name", ({ schema, valid, required, wrongType: [wrongField, wrongValue] }) => {
  it("decodes a valid example to itself", () => {
    const result = decode(schema, valid);
    expect(Either.isRight(result) ? result.right : result.left.message).toEqual(valid);
  });

  it(`refuses a message without '${required}', naming the field`, () => {
    const failure = failureOf(schema, without(valid, required));
    expect(failure.issues).toEqual([{ path: required, message: "is missing" }]);
    expect(failure.message).toBe(`${required}: is missing`);
  });

  it(`refuses a '${wrongField}' of the wrong type, naming the field`, () => {
    const failure = failureOf(schema, { ...valid, [wrongField]: wrongValue });
    expect(pathsOf(failure)).toEqual([wrongField]);
    expect(failure.message.startsWith(`${wrongField}: `)).toBe(true);
  });
});

describe.each(CASES.filter((c) => c.tagged))("$name (tagged)", ({ schema, valid }) => {
  it("refuses protocol version 2", () => {
    const failure = failureOf(schema, { ...valid, v: 2 });
    expect(failure.issues).toEqual([{ path: "v", message: `expected protocol version ${PROTOCOL_VERSION}` }]);
    expect(failure.message).toBe("v: expected protocol version 1");
  });

  it("refuses a wrong _tag", () => {
    const failure = failureOf(schema, { ...valid, _tag: "not.this" });
    expect(failure.issues).toEqual([{ path: "_tag", message: `Expected "${valid._tag as string}", actual "not.this"` }]);
  });

  it("refuses a missing _tag", () => {
    expect(failureOf(schema, without(valid, "_tag")).issues).toEqual([{ path: "_tag", message: "is missing" }]);
  });
});

describe("field constraints and nesting", () => {
  it("names the nested path of a bad released frame", () => {
    const released = { _tag: "task.released", v: 1, run: "r", model: "m", frames: [frame, without(frame, "deadline")], skipped: [], nextAt: null };
    const failure = failureOf(TaskReleased, released);
    expect(failure.issues).toEqual([{ path: "frames.1.deadline", message: "is missing" }]);
    expect(failure.message).toBe("frames.1.deadline: is missing");
  });

  it("reports every bad field at once", () => {
    const failure = failureOf(BlockDispatch, without({ ...blockDispatch, frame: -1, acc: "a.b" }, "layerCount"));
    expect(failure.issues.map((i) => i.path).sort()).toEqual(["acc", "frame", "layerCount"]);
  });

  it("refuses a token with a subject separator, a negative time, a zero layerCount and a bad job id", () => {
    expect(failureOf(BlockDispatch, { ...blockDispatch, run: "a.b" }).issues).toEqual([
      { path: "run", message: "expected 1-64 characters of letters, digits, '_' or '-'" },
    ]);
    expect(failureOf(BlockDispatch, { ...blockDispatch, at: -1 }).issues.map((i) => i.path)).toEqual(["at"]);
    expect(failureOf(BlockDispatch, { ...blockDispatch, layerCount: 0 }).issues.map((i) => i.path)).toEqual(["layerCount"]);
    expect(failureOf(BlockDispatch, { ...blockDispatch, layerCount: 1.5 }).issues.map((i) => i.path)).toEqual(["layerCount"]);
    expect(failureOf(BlockDispatch, { ...blockDispatch, job: "ES_RITNet" }).issues).toEqual([
      { path: "job", message: "expected '<model>:<frame>'" },
    ]);
    expect(pathsOf(failureOf(BlockDispatch, { ...blockDispatch, timing: "f64" }))).toEqual(["timing"]);
  });

  it("accepts the optional reason absent", () => {
    const stop = { _tag: "run.control", v: 1, run: "r", op: "stop" };
    expect(Either.getOrThrow(decode(RunControl, stop))).toEqual(stop);
    const ended = { _tag: "frame.ended", v: 1, run: "r", at: 1, job: "m:1", outcome: "late" };
    expect(Either.getOrThrow(decode(FrameEndedEvent, ended))).toEqual(ended);
  });

  it("refuses JSON that is not an object, and text that is not JSON", () => {
    expect(failureOf(BlockDispatch, null).issues).toEqual([{ path: "", message: "Expected BlockDispatch, actual null" }]);
    const bad = decodeJson(BlockDispatch, '{"_tag":');
    expect(Either.isLeft(bad) && bad.left.issues.length === 1 && bad.left.issues[0]!.path === "").toBe(true);
    expect(Either.isLeft(bad) ? bad.left.message : "").toMatch(/^invalid JSON: /);
  });

  it("errorReply builds a valid ErrorReply", () => {
    const reply = errorReply("decode", "layerCount: is missing", [{ path: "layerCount", message: "is missing" }]);
    expect(Either.getOrThrow(decode(ErrorReply, reply))).toEqual({
      _tag: "error",
      v: 1,
      kind: "decode",
      message: "layerCount: is missing",
      issues: [{ path: "layerCount", message: "is missing" }],
    });
  });
});

describe("unions dispatch on _tag", () => {
  const byName = new Map(CASES.map((c) => [c.name, c.valid]));
  const unions: ReadonlyArray<readonly [string, AnySchema, ReadonlyArray<string>]> = [
    ["TaskCommand", TaskCommand, ["TaskTick", "TaskParentEnded", "TaskFrameEnded"]],
    ["AccelCommand", AccelCommand, ["BlockDispatch"]],
    ["ControlMessage", ControlMessage, ["AccelRegister", "RunControl"]],
    ["RunEvent", RunEvent, ["FrameReleasedEvent", "BlockDispatchedEvent", "FrameEndedEvent", "DecisionEvent", "RunFinishedEvent"]],
    ["AccelReply", AccelReply, ["BlockResult", "ErrorReply"]],
    ["TaskReply", TaskReply, ["TaskReleased", "ErrorReply"]],
  ];

  it.each(unions)("%s decodes each member and refuses another message", (_name, schema, members) => {
    for (const member of members) {
      const valid = byName.get(member)!;
      expect(Either.getOrThrow(decode(schema, valid))).toEqual(valid);
    }
    const failure = failureOf(schema, { _tag: "task.nope", v: 1, run: "r" });
    // a one-member union also reports the member's missing fields; the tag is always named
    expect(pathsOf(failure)[0]).toBe("_tag");
    expect(failure.issues[0]!.message).toMatch(/^Expected ".*", actual "task\.nope"$/);
  });

  it("a union member with a missing field names the field", () => {
    expect(failureOf(TaskCommand, { _tag: "task.tick", v: 1, run: "r" }).issues).toEqual([{ path: "at", message: "is missing" }]);
    expect(failureOf(AccelCommand, without(blockDispatch, "layerCount")).message).toBe("layerCount: is missing");
    expect(failureOf(RunEvent, { ...byName.get("RunFinishedEvent")!, v: 2 }).message).toBe("v: expected protocol version 1");
  });
});

describe("properties", () => {
  const ALL_SCHEMAS: ReadonlyArray<AnySchema> = [
    ...CASES.map((c) => c.schema),
    TaskCommand,
    AccelCommand,
    ControlMessage,
    RunEvent,
    AccelReply,
    TaskReply,
  ];

  it("decoding random text never throws: it succeeds or reports at least one issue", () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.anything().map((v) => JSON.stringify(v) ?? "undefined")), (text) => {
        for (const schema of ALL_SCHEMAS) {
          const result = decodeJson(schema, text);
          if (Either.isLeft(result)) {
            expect(result.left.issues.length).toBeGreaterThan(0);
            for (const issue of result.left.issues) {
              expect(typeof issue.path).toBe("string");
              expect(typeof issue.message).toBe("string");
              expect(issue.message.length).toBeGreaterThan(0);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("random JSON values (not objects of the schema) are refused, never thrown", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = decode(BlockDispatch, value);
        expect(Either.isLeft(result)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  const notString = fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.jsonValue(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
  );
  const notNumber = fc.oneof(
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.jsonValue(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
  );
  const STRING_FIELDS = ["_tag", "run", "acc", "job", "model", "timing"] as const;
  const NUMBER_FIELDS = ["v", "at", "frame", "firstLayer", "layerCount"] as const;

  it("a valid block.dispatch with one field of another type is refused naming that field", () => {
    const mutation = fc.oneof(
      fc.tuple(fc.constantFrom<string>(...STRING_FIELDS), notString),
      fc.tuple(fc.constantFrom<string>(...NUMBER_FIELDS), notNumber),
    );
    fc.assert(
      fc.property(mutation, ([field, value]) => {
        const failure = failureOf(BlockDispatch, { ...blockDispatch, [field]: value });
        expect(failure.issues.length).toBeGreaterThan(0);
        expect(failure.issues.every((i) => i.path === field)).toBe(true);
        expect(failure.message.startsWith(`${field}: `)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe("DecisionEvent: a union on action, each case with exactly its own fields", () => {
  const dispatch = byNameOf("DecisionEvent");
  const drop = { _tag: "decision", v: 1, run: "run-1", at: 12.5, n: 2, action: "drop", job: "ES_RITNet:4", reason: "deadline passed", scores: { slack: -1 } };

  it("decodes a dispatch (acc, layers, optional variant) and a drop (reason) to themselves", () => {
    expect(Either.getOrThrow(decode(DecisionEvent, dispatch))).toEqual(dispatch);
    expect(Either.getOrThrow(decode(DecisionEvent, { ...dispatch, variant: 2 }))).toEqual({ ...dispatch, variant: 2 });
    expect(Either.getOrThrow(decode(DecisionEvent, drop))).toEqual(drop);
    expect(Either.getOrThrow(decode(RunEvent, drop))).toEqual(drop);
    const decoded = Either.getOrThrow(decode(DecisionEvent, dispatch)) as DecisionEvent;
    // the type narrows on action: a dispatch has its accelerator and layers, with no `?? 0`
    expect(decoded.action === "dispatch" ? decoded.firstLayer + decoded.layerCount : -1).toBe(1);
  });

  it("refuses a dispatch without its accelerator or layers and a drop without its reason, naming the field", () => {
    for (const field of ["acc", "firstLayer", "layerCount"]) {
      expect(failureOf(DecisionEvent, without(dispatch, field)).issues, field).toEqual([{ path: field, message: "is missing" }]);
    }
    expect(failureOf(DecisionEvent, without(drop, "reason")).issues).toEqual([{ path: "reason", message: "is missing" }]);
  });

  it("refuses a field of the other action, naming it", () => {
    expect(failureOf(DecisionEvent, { ...drop, acc: "acc0" }).issues).toEqual([{ path: "acc", message: "a drop decision has no acc" }]);
    expect(failureOf(DecisionEvent, { ...dispatch, reason: "x" }).issues).toEqual([{ path: "reason", message: "a dispatch decision has no reason" }]);
  });

  it("refuses an unknown action, naming it", () => {
    const failure = failureOf(DecisionEvent, { ...drop, action: "defer" });
    expect(pathsOf(failure)).toEqual(["action"]);
  });
});
