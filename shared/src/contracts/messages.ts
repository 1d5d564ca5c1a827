/**
 * Every message the actors exchange, as Effect Schemas. Each message is a tagged struct
 * (`_tag` = its type) with a protocol version `v`; the wire form is the JSON of the struct (all
 * fields are plain JSON values, so encoded = decoded). Payloads are decoded at the edge
 * (see runtime/typed-bus): a payload that does not decode never reaches a machine.
 *
 * Conversations (virtual time; the scheduler owns the clock):
 *   scheduler → task   task.tick {at}                 ⇒ task.released {frames, nextAt}
 *   scheduler → task   task.parentEnded {parent, frame, outcome} ⇒ task.released (cascade child)
 *   scheduler → task   task.frameEnded {frame, outcome}          (notification, no reply)
 *   scheduler → accel  block.dispatch {job, layers, at}          ⇒ block.result | error
 *   accel → scheduler  accel.register                           (ctl subjects)
 *   anyone → run       run.control {op}
 *   scheduler → log    evt.* (frame.released, block.dispatched, block.completed, frame.ended, run.finished)
 */
import { Schema } from "effect";
import { JobId } from "./job-id";

export const PROTOCOL_VERSION = 1 as const;

const V = Schema.Literal(PROTOCOL_VERSION).annotations({
  message: () => `expected protocol version ${PROTOCOL_VERSION}`,
});

const Token = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9_-]{1,64}$/, {
    message: () => "expected 1-64 characters of letters, digits, '_' or '-'",
  }),
);
/** Virtual or wall time in milliseconds since run start. */
const Time = Schema.Number.pipe(Schema.finite(), Schema.nonNegative());
const Ms = Schema.Number.pipe(Schema.finite(), Schema.nonNegative());
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative());

export const Outcome = Schema.Literal("onTime", "late", "dropped");
export type Outcome = typeof Outcome.Type;

export const Timing = Schema.Literal("xrbench-f32", "exact");
export type Timing = typeof Timing.Type;

/** One frame a model task releases (frame released). */
export const ReleasedFrame = Schema.Struct({
  model: Token,
  frame: Count,
  /** Nominal release time of the frame. */
  releaseAt: Time,
  /** Time the frame enters the scheduler's queue (≥ releaseAt). */
  injectAt: Time,
  deadline: Time,
  /** Early exit drawn for this frame: the job ends after this layer. */
  exitAfter: Schema.optional(Count),
  /** Layer ranges [from, to] (inclusive) this frame skips. */
  skipLayers: Schema.optional(Schema.Array(Schema.Tuple(Count, Count))),
});
export type ReleasedFrame = typeof ReleasedFrame.Type;

// ─── scheduler → model task ─────────────────────────────────────────────────────────────────
export const TaskTick = Schema.TaggedStruct("task.tick", {
  v: V,
  run: Token,
  at: Time,
  /**
   * The scheduler's count of ticks sent to this task (1, 2, …): names the request, so a repeated
   * one (a resumed scheduler asking again) is answered as the first time. Absent: not repeatable.
   */
  n: Schema.optional(Count),
}).annotations({
  identifier: "TaskTick",
});
export type TaskTick = typeof TaskTick.Type;
export const TaskParentEnded = Schema.TaggedStruct("task.parentEnded", {
  v: V,
  run: Token,
  at: Time,
  parent: Token,
  frame: Count,
  /** Nominal release of the parent frame: the child's deadline is counted from it. */
  releaseAt: Time,
  outcome: Outcome,
}).annotations({ identifier: "TaskParentEnded" });
export type TaskParentEnded = typeof TaskParentEnded.Type;
export const TaskFrameEnded = Schema.TaggedStruct("task.frameEnded", {
  v: V,
  run: Token,
  at: Time,
  model: Token,
  frame: Count,
  outcome: Outcome,
}).annotations({ identifier: "TaskFrameEnded" });
export type TaskFrameEnded = typeof TaskFrameEnded.Type;
export const TaskCommand = Schema.Union(TaskTick, TaskParentEnded, TaskFrameEnded);
export type TaskCommand = typeof TaskCommand.Type;

/** Reply of a model task: frames released now, frames whose trigger draw failed, next release. */
export const TaskReleased = Schema.TaggedStruct("task.released", {
  v: V,
  run: Token,
  model: Token,
  frames: Schema.Array(ReleasedFrame),
  /** Frame ids consumed without release (trigger probability draw failed). */
  skipped: Schema.Array(Count),
  /** Time of the next nominal release, or null when the task releases no more frames. */
  nextAt: Schema.NullOr(Time),
}).annotations({ identifier: "TaskReleased" });
export type TaskReleased = typeof TaskReleased.Type;

// ─── scheduler → accelerator ────────────────────────────────────────────────────────────────
export const BlockDispatch = Schema.TaggedStruct("block.dispatch", {
  v: V,
  run: Token,
  at: Time,
  acc: Token,
  job: JobId,
  model: Token,
  frame: Count,
  firstLayer: Count,
  layerCount: Schema.Number.pipe(Schema.int(), Schema.positive()),
  timing: Timing,
  /** Supernet variant of the job (index into the model's variants; 0 = the full model). Absent: 0. */
  variant: Schema.optional(Count),
  /**
   * Live mode (DESIGN.md §4): the run's clock speed (0.1 = ten times slower than real). The
   * accelerator holds its reply for latencyMs / speed of wall time, as the hardware would take.
   * Absent: virtual time, the reply is immediate.
   */
  speed: Schema.optional(Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(1000))),
  /**
   * Dispatch queues (docs/architecture.md): the block is committed behind the accelerator's other
   * blocks and starts at this time (the end of its queue, as the scheduler knows it), not at `at`.
   * Absent: it starts at `at` (the accelerator is idle).
   */
  startAt: Schema.optional(Time),
  /**
   * Live mode with dispatch queues: the run's queue depth (present only when above 1). A live
   * accelerator runs its blocks one after another in arrival order and takes a block while it holds
   * fewer than this many (a retried dispatch may reach a slot's new owner after a later one, so it
   * is not held to the start time); without it, the busy rule holds a block to its start.
   */
  queueDepth: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.greaterThan(1), Schema.lessThanOrEqualTo(16))),
  /**
   * Live mode with a timing tolerance (docs/live.md "Timing tolerance"): the scheduler's clock
   * reading when it sent the dispatch, ms of run time (≥ `at`, the time of the decision, which may be
   * the due time of an event handled late). The accelerator maps the run's time onto its own clock
   * from it (runtime/live-clock blockClock). Absent: `at` stands for it.
   */
  sentAt: Schema.optional(Time),
}).annotations({ identifier: "BlockDispatch" });
export type BlockDispatch = typeof BlockDispatch.Type;

/** Most blocks in one `block.batch` (and results in one `block.results`). */
export const MAX_BATCH_BLOCKS = 64;

/**
 * Virtual time with speculation (runtime/speculation.ts): the blocks committed to one accelerator
 * while its previous message was unanswered, in the order they were decided; answered by one
 * `block.results` with a result (or refusal) per block, in the same order. Never in live mode.
 */
export const BlockBatch = Schema.TaggedStruct("block.batch", {
  v: V,
  run: Token,
  acc: Token,
  blocks: Schema.Array(BlockDispatch).pipe(Schema.minItems(2), Schema.maxItems(MAX_BATCH_BLOCKS)),
}).annotations({ identifier: "BlockBatch" });
export type BlockBatch = typeof BlockBatch.Type;

export const AccelCommand = Schema.Union(BlockDispatch, BlockBatch);
export type AccelCommand = typeof AccelCommand.Type;

/** Result of a block: when it started and completes, and what it costs (block result). */
export const BlockResult = Schema.TaggedStruct("block.result", {
  v: V,
  run: Token,
  acc: Token,
  job: JobId,
  firstLayer: Count,
  layerCount: Count,
  startedAt: Time,
  completesAt: Time,
  latencyMs: Ms,
  energyMJ: Ms,
}).annotations({ identifier: "BlockResult" });
export type BlockResult = typeof BlockResult.Type;

// ─── registration, heartbeat, run control ───────────────────────────────────────────────────
export const AccelRegister = Schema.TaggedStruct("accel.register", {
  v: V,
  run: Token,
  acc: Token,
  dataflow: Schema.Literal("WS", "OS", "RS"),
  numPes: Schema.Number.pipe(Schema.int(), Schema.positive()),
  nocBw: Schema.Number.pipe(Schema.int(), Schema.positive()),
  costClass: Schema.String,
  /** Host process that owns the slot (informational). */
  host: Schema.String,
}).annotations({ identifier: "AccelRegister" });
export type AccelRegister = typeof AccelRegister.Type;

/** A workload process announces the model tasks it hosts. */
export const TaskRegister = Schema.TaggedStruct("task.register", {
  v: V,
  run: Token,
  models: Schema.Array(Token),
  host: Schema.String,
}).annotations({ identifier: "TaskRegister" });
export type TaskRegister = typeof TaskRegister.Type;

export const RunControl = Schema.TaggedStruct("run.control", {
  v: V,
  run: Token,
  /** discover: every service re-announces itself; stop: the scheduler failed or was stopped; finished: the run is over, services may exit. */
  op: Schema.Literal("discover", "stop", "finished"),
  reason: Schema.optional(Schema.String),
}).annotations({ identifier: "RunControl" });
export type RunControl = typeof RunControl.Type;

export const ControlMessage = Schema.Union(AccelRegister, TaskRegister, RunControl);
export const Registration = Schema.Union(AccelRegister, TaskRegister);
export type Registration = typeof Registration.Type;
export type ControlMessage = typeof ControlMessage.Type;

// ─── recorded events (job progress, drops, completions) ─────────────────────────────────────
export const FrameReleasedEvent = Schema.TaggedStruct("frame.released", {
  v: V,
  run: Token,
  at: Time,
  frame: ReleasedFrame,
});
export type FrameReleasedEvent = typeof FrameReleasedEvent.Type;
export const BlockDispatchedEvent = Schema.TaggedStruct("block.dispatched", {
  v: V,
  run: Token,
  at: Time,
  acc: Token,
  job: JobId,
  firstLayer: Count,
  layerCount: Count,
  completesAt: Time,
  energyMJ: Ms,
  /** Supernet variant of the job (recorded when its model has variants). */
  variant: Schema.optional(Count),
});
export type BlockDispatchedEvent = typeof BlockDispatchedEvent.Type;
export const FrameEndedEvent = Schema.TaggedStruct("frame.ended", {
  v: V,
  run: Token,
  at: Time,
  job: JobId,
  outcome: Outcome,
  reason: Schema.optional(Schema.String),
});
export type FrameEndedEvent = typeof FrameEndedEvent.Type;
const decisionFields = {
  v: V,
  run: Token,
  at: Time,
  /** Sequence number of the decision in the run (1, 2, …). */
  n: Count,
  job: JobId,
};
const Scores = Schema.Record({ key: Schema.String, value: Schema.Number });
const dispatchFields = {
  acc: Token,
  firstLayer: Count,
  layerCount: Count,
  /** Dispatch of a job of a supernet model: the variant it runs (chosen at its first block; 0 = full). */
  variant: Schema.optional(Count),
};
/** The policy dispatched the next block of a job, with the scores that drove it (when the policy gives them). */
export const DispatchDecision = Schema.TaggedStruct("decision", {
  ...decisionFields,
  action: Schema.Literal("dispatch"),
  ...dispatchFields,
  scores: Schema.optional(Scores),
}).annotations({ identifier: "DispatchDecision" });
export type DispatchDecision = typeof DispatchDecision.Type;
/** The policy dropped a job, saying why, with the scores that drove it (when the policy gives them). */
export const DropDecision = Schema.TaggedStruct("decision", {
  ...decisionFields,
  action: Schema.Literal("drop"),
  reason: Schema.String,
  scores: Schema.optional(Scores),
}).annotations({ identifier: "DropDecision" });
export type DropDecision = typeof DropDecision.Type;

const DISPATCH_ONLY = ["acc", "firstLayer", "layerCount", "variant"] as const;
const DROP_ONLY = ["reason"] as const;
/** The wire form of a decision: one `_tag` ("decision") for both actions, so a log entry's type stays "decision". */
const decisionWire = <S extends Schema.Schema.Any>(scores: S) =>
  Schema.TaggedStruct("decision", {
    ...decisionFields,
    action: Schema.Literal("dispatch", "drop"),
    acc: Schema.optional(dispatchFields.acc),
    firstLayer: Schema.optional(dispatchFields.firstLayer),
    layerCount: Schema.optional(dispatchFields.layerCount),
    variant: dispatchFields.variant,
    reason: Schema.optional(Schema.String),
    scores: Schema.optional(Schema.Record({ key: Schema.String, value: scores })),
  });
/** Each action has exactly its own fields: what a decoded DecisionEvent's type promises. */
const checkDecisionCase = (d: { readonly action: "dispatch" | "drop" } & Partial<Record<(typeof DISPATCH_ONLY)[number] | "reason", unknown>>) => {
  const [required, foreign] = d.action === "dispatch" ? [DISPATCH_ONLY.slice(0, 3), DROP_ONLY] : [DROP_ONLY, DISPATCH_ONLY];
  return [
    ...required.filter((k) => d[k] === undefined).map((k) => ({ path: [k], message: "is missing" })),
    ...foreign.filter((k) => d[k] !== undefined).map((k) => ({ path: [k], message: `a ${d.action} decision has no ${k}` })),
  ];
};
/**
 * A decision with its scores as `scores` (a number schema; the event log's LoggedScore) decodes
 * them: a tagged union on `action` (DispatchDecision | DropDecision), decoded from the one wire
 * struct so a bad field is named once, not once per case.
 */
export const decisionEventWith = <S extends Schema.Schema<number, any, never>>(scores: S) =>
  decisionWire(scores).pipe(Schema.filter(checkDecisionCase)) as unknown as Schema.Schema<DispatchDecision | DropDecision, Schema.Schema.Encoded<ReturnType<typeof decisionWire<S>>>>;
/** A policy decision (`_tag` "decision"): a dispatch or a drop, each with exactly its own fields. */
export const DecisionEvent = decisionEventWith(Schema.Number).annotations({ identifier: "DecisionEvent" });

export type DecisionEvent = typeof DecisionEvent.Type;
/** An online tuning step: the parameters now in force and the figures behind them. */
export const TuneEvent = Schema.TaggedStruct("tune", {
  v: V,
  run: Token,
  at: Time,
  step: Count,
  params: Schema.Record({ key: Schema.String, value: Schema.Number }),
  info: Schema.Record({ key: Schema.String, value: Schema.Number }),
});
export type TuneEvent = typeof TuneEvent.Type;
export const RunFinishedEvent = Schema.TaggedStruct("run.finished", { v: V, run: Token, at: Time });
export type RunFinishedEvent = typeof RunFinishedEvent.Type;
export const RunEvent = Schema.Union(FrameReleasedEvent, BlockDispatchedEvent, FrameEndedEvent, DecisionEvent, TuneEvent, RunFinishedEvent);
export type RunEvent = typeof RunEvent.Type;

// ─── errors ─────────────────────────────────────────────────────────────────────────────────
export const ErrorReply = Schema.TaggedStruct("error", {
  v: V,
  kind: Schema.Literal("decode", "rejected", "internal"),
  message: Schema.String,
  issues: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String })),
}).annotations({ identifier: "ErrorReply" });
export type ErrorReply = typeof ErrorReply.Type;

/** The answer to a `block.batch`: each block's result or refusal, in the batch's order. */
export const BlockResults = Schema.TaggedStruct("block.results", {
  v: V,
  run: Token,
  acc: Token,
  results: Schema.Array(Schema.Union(BlockResult, ErrorReply)).pipe(Schema.minItems(2), Schema.maxItems(MAX_BATCH_BLOCKS)),
}).annotations({ identifier: "BlockResults" });
export type BlockResults = typeof BlockResults.Type;

export const AccelReply = Schema.Union(BlockResult, BlockResults, ErrorReply);
export type AccelReply = typeof AccelReply.Type;
export const TaskReply = Schema.Union(TaskReleased, ErrorReply);
export type TaskReply = typeof TaskReply.Type;

export const errorReply = (
  kind: ErrorReply["kind"],
  message: string,
  issues: ReadonlyArray<{ path: string; message: string }> = [],
): ErrorReply => ({ _tag: "error", v: PROTOCOL_VERSION, kind, message, issues: [...issues] });
