/**
 * The event log's contract (DESIGN.md §9, docs/event-log.md): one JSON document per line.
 *
 *   line 1     the header: format and versions, and everything needed to rebuild the run without
 *              the data files (scenario, hardware, policy with resolved parameters, seed,
 *              duration, block size, phase / jitter / miss-window options, mode, per-model costs,
 *              and — supernet runs only — every model's variants with their costs)
 *   line k+1   entry k (seq = k, 1, 2, …): {seq, at, source, type, payload}
 *                type "input"   payload = a scheduler kernel input (start, or a reply to request corr);
 *                               source "sched" (start), "task:<model>" or "accel:<id>" (who replied)
 *                type <event>   payload = the RunEvent the kernel produced (type = its _tag);
 *                               source "sched"
 *
 * Entries are written in the order the kernel saw and produced them: an input, then the events
 * applying it produced. JSON has no Infinity/NaN: a non-finite decision score is written as the
 * string "Infinity", "-Infinity" or "NaN" (LoggedScore decodes it back).
 *
 * Schemas only, no I/O (runtime/event-log reads and writes).
 */
import { Schema, SchemaAST } from "effect";
import { BlockResult, PROTOCOL_VERSION, decisionEventWith, RunEvent, TaskReleased } from "./messages";

/** Largest live timing tolerance, wall ms (`--tolerance`; actors/kernel-time.ts). */
export const MAX_TOLERANCE_MS = 1000;

export const LOG_FORMAT = "sdrm3-event-log" as const;
export const LOG_FORMAT_VERSION = 1 as const;

const Token = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9_-]{1,64}$/, { message: () => "expected 1-64 characters of letters, digits, '_' or '-'" }),
);
const Finite = Schema.Number.pipe(Schema.finite());
const NonNegative = Schema.Number.pipe(Schema.finite(), Schema.nonNegative());
const Positive = Schema.Number.pipe(Schema.finite(), Schema.positive());
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative());
const PositiveInt = Schema.Number.pipe(Schema.int(), Schema.positive());
const Dataflow = Schema.Literal("WS", "OS", "RS");

// ─── header ──────────────────────────────────────────────────────────────────────────────────

const Probability = Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(1));

/**
 * domain Scenario, as recorded (the whole object: the reader keeps fields this schema does not
 * name, so a scenario feature added later still reaches the replay).
 */
export const LoggedScenario = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  models: Schema.Array(
    Schema.Struct({
      name: Token,
      model: Schema.String,
      fps: Positive,
      dependsOn: Schema.Array(Token),
      probability: Probability,
      active: Schema.optionalWith(Schema.Array(Schema.Struct({ fromMs: NonNegative, toMs: Schema.NullOr(NonNegative), fps: Positive })), { exact: true }),
      exits: Schema.optionalWith(Schema.Array(Schema.Struct({ afterLayer: Count, probability: Probability })), { exact: true }),
      skips: Schema.optionalWith(Schema.Array(Schema.Struct({ fromLayer: Count, toLayer: Count, probability: Probability })), { exact: true }),
    }),
  ).pipe(Schema.minItems(1)),
  phases: Schema.optionalWith(Schema.Array(Schema.Struct({ name: Schema.String, fromMs: NonNegative, toMs: Schema.NullOr(NonNegative) })), { exact: true }),
});
export type LoggedScenario = typeof LoggedScenario.Type;

/** domain Hardware, as recorded. */
export const LoggedHardware = Schema.Struct({
  name: Schema.String,
  config: Schema.String,
  dataflows: Schema.Array(Dataflow),
  accelerators: Schema.Array(
    Schema.Struct({
      index: Count,
      name: Schema.String,
      numPes: PositiveInt,
      nocBw: PositiveInt,
      id: Token,
      dataflow: Dataflow,
      costClass: Schema.String,
    }),
  ).pipe(Schema.minItems(1)),
});
export type LoggedHardware = typeof LoggedHardware.Type;

/**
 * One scenario model's cost on every accelerator of the hardware: cycles[acc][layer] (latency at
 * 1 GHz; ms = cycles / 1e6) and energyMJ[acc][layer]. What the accelerators and the policy used.
 */
export const LoggedModelCosts = Schema.Struct({
  /** Scenario model name. */
  name: Token,
  /** Canonical model whose costs these are. */
  model: Schema.String,
  layerCount: PositiveInt,
  cycles: Schema.Array(Schema.Array(NonNegative)),
  energyMJ: Schema.Array(Schema.Array(NonNegative)),
});
export type LoggedModelCosts = typeof LoggedModelCosts.Type;

/**
 * A supernet run's variants of one scenario model (RunOptions.variants): index 0 is the full model
 * (width 1; its costs equal the model's entry in `costs`), each variant's width, relative accuracy
 * and costs on every accelerator, as in LoggedModelCosts.
 */
export const LoggedModelVariants = Schema.Struct({
  /** Scenario model name. */
  name: Token,
  variants: Schema.Array(
    Schema.Struct({
      width: Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(1)),
      accuracy: Probability,
      /** Name of the variant's model (e.g. `ES_RITNet@x0.75`). */
      model: Schema.String,
      cycles: Schema.Array(Schema.Array(NonNegative)),
      energyMJ: Schema.Array(Schema.Array(NonNegative)),
    }),
  ).pipe(Schema.minItems(1)),
});
export type LoggedModelVariants = typeof LoggedModelVariants.Type;

export const LogHeader = Schema.Struct({
  type: Schema.Literal("header"),
  format: Schema.Literal(LOG_FORMAT),
  formatVersion: Schema.Literal(LOG_FORMAT_VERSION),
  protocolVersion: Schema.Literal(PROTOCOL_VERSION),
  /** Version of sdrm3 that recorded the log. */
  sdrm3Version: Schema.String,
  /**
   * The scheduling behaviour the recording kernel implemented (runtime/event-log/header.ts): a
   * replay refuses a behaviour it does not implement. Absent (logs older than the field): 1.
   */
  behaviourVersion: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.positive()), { exact: true }),
  run: Token,
  /** "xrbench" (the XRBench runtime's semantics) or "exact" (DESIGN.md §5). */
  mode: Schema.Literal("xrbench", "exact"),
  scenario: LoggedScenario,
  hardware: LoggedHardware,
  /** The policy by name with every parameter resolved (defaults included): replay does not read today's defaults. */
  policy: Schema.Struct({ name: Schema.String, params: Schema.Record({ key: Schema.String, value: Finite }) }),
  seed: Count,
  durationMs: Positive,
  blockSize: PositiveInt,
  /**
   * Dispatch quantum, ms (docs/live.md "Quantum blocks"): blocks grouped until their latency
   * reaches it (`blockSize` unused). Absent: blocks of `blockSize` layers (every log before it).
   */
  quantumMs: Schema.optionalWith(Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(1000)), { exact: true }),
  /**
   * Dispatch queue depth (docs/architecture.md "Dispatch queues"), only when not 1: blocks an
   * accelerator may hold committed. Absent: 1, no queue (every log before it).
   */
  queueDepth: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.greaterThan(1), Schema.lessThanOrEqualTo(16)), { exact: true }),
  /**
   * Bounded chains (docs/architecture.md "Dispatch queues"), ms, only when on: a job's next block
   * committed behind its own for up to this much run time. Absent: off (every log before it).
   */
  chainMs: Schema.optionalWith(Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(1000)), { exact: true }),
  /**
   * Look-ahead (docs/architecture.md "Dispatch queues"), ms, only when set: a busy accelerator takes
   * a block behind its queue only once the queue ends within it. Absent: any room (every log before it).
   */
  lookaheadMs: Schema.optionalWith(Schema.Number.pipe(Schema.greaterThanOrEqualTo(0), Schema.lessThanOrEqualTo(1000)), { exact: true }),
  /** Seeded phase offsets of root model tasks (exact mode). */
  phase: Schema.Boolean,
  /** Bound of the seeded release delay, ms (exact mode). */
  jitterMs: NonNegative,
  /** Window of the per-model recent miss rate, ms. */
  missWindowMs: NonNegative,
  costs: Schema.Array(LoggedModelCosts),
  /**
   * Supernet runs (docs/supernets.md): every scenario model's variants. Absent: supernets off (as
   * in every log recorded before supernets existed, which therefore replay as supernets off).
   */
  variants: Schema.optionalWith(Schema.Array(LoggedModelVariants), { exact: true }),
  /**
   * Live runs (docs/live.md): the clock speed, how releases were asked (absent: "held", the
   * logs recorded before releases were asked ahead) and the timing tolerance in wall ms (absent: 0,
   * the logs recorded before it). Absent: virtual time. Inputs then carry clock readings.
   */
  live: Schema.optionalWith(
    Schema.Struct({
      speed: Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(1000)),
      releases: Schema.optionalWith(Schema.Literal("ahead", "held"), { exact: true }),
      toleranceMs: Schema.optionalWith(Schema.Number.pipe(Schema.greaterThanOrEqualTo(0), Schema.lessThanOrEqualTo(MAX_TOLERANCE_MS)), { exact: true }),
    }),
    { exact: true },
  ),
  /**
   * Virtual-time runs in exact mode: how releases were asked (actors/kernel-release.ts; absent:
   * "held", the logs recorded before releases were asked ahead in virtual time). Live runs record it in `live`.
   */
  releases: Schema.optionalWith(Schema.Literal("ahead", "held"), { exact: true }),
});
export type LogHeader = typeof LogHeader.Type;

// ─── entries ─────────────────────────────────────────────────────────────────────────────────

/** A decision score: a number, or "Infinity" / "-Infinity" / "NaN" for the values JSON cannot hold. */
export const LoggedScore = Schema.Union(
  Schema.Number,
  Schema.transform(Schema.Literal("Infinity", "-Infinity", "NaN"), Schema.Number, {
    strict: true,
    decode: (s) => Number(s),
    encode: (n) => (Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity"),
  }),
);

/** DecisionEvent with non-finite scores written as strings. */
export const LoggedDecisionEvent = decisionEventWith(LoggedScore);

/** The kernel inputs (shared/src/actors/scheduler-kernel KernelInput). */
export const LoggedKernelInput = Schema.Union(
  Schema.Struct({ kind: Schema.Literal("start") }),
  Schema.Struct({
    kind: Schema.Literal("reply"),
    corr: PositiveInt,
    reply: Schema.Union(TaskReleased, BlockResult),
    /** Live mode: the clock reading when the reply arrived. */
    at: Schema.optional(NonNegative),
  }),
  /** Live mode: the clock woke the scheduler. */
  Schema.Struct({ kind: Schema.Literal("clock"), at: NonNegative }),
);
export type LoggedKernelInput = typeof LoggedKernelInput.Type;

export const LogSource = Schema.String.pipe(
  Schema.pattern(/^(sched|task:[A-Za-z0-9_-]{1,64}|accel:[A-Za-z0-9_-]{1,64})$/, {
    message: () => "expected 'sched', 'task:<model>' or 'accel:<id>'",
  }),
);

const envelope = { seq: PositiveInt, at: NonNegative, source: LogSource } as const;

export const InputEntry = Schema.Struct({ ...envelope, type: Schema.Literal("input"), payload: LoggedKernelInput });
export type InputEntry = typeof InputEntry.Type;

const tagOf = (member: Schema.Schema.Any): string => {
  const tag = SchemaAST.getPropertySignatures(member.ast).find((p) => p.name === "_tag");
  if (tag === undefined || !SchemaAST.isLiteral(tag.type)) throw new Error("every RunEvent member has a literal _tag");
  return String(tag.type.literal);
};

/**
 * Payload schema of each event entry type (= the RunEvent's _tag), taken from the RunEvent union
 * itself, so an event added to the protocol is recorded and read without a change here.
 */
export const EVENT_PAYLOADS: ReadonlyMap<string, Schema.Schema<RunEvent, unknown>> = new Map(
  RunEvent.members.map((m) => {
    const tag = tagOf(m);
    return [tag, (tag === "decision" ? LoggedDecisionEvent : m) as unknown as Schema.Schema<RunEvent, unknown>] as const;
  }),
);
export type EventType = RunEvent["_tag"];
export const EVENT_TYPES: ReadonlyArray<string> = [...EVENT_PAYLOADS.keys()];

export const LoggedRunEvent: Schema.Schema<RunEvent, unknown> = Schema.Union(...EVENT_PAYLOADS.values()) as unknown as Schema.Schema<RunEvent, unknown>;

export const EventEntry = Schema.Struct({
  ...envelope,
  type: Schema.String,
  payload: LoggedRunEvent,
});
export type EventEntry = { readonly seq: number; readonly at: number; readonly source: string; readonly type: EventType; readonly payload: RunEvent };

/** Any line after the header. */
export const LogEntry = Schema.Union(InputEntry, EventEntry);
export type LogEntry = InputEntry | EventEntry;
