/**
 * The event log (DESIGN.md §9, docs/event-log.md): recording a run's kernel inputs and events as
 * JSONL, and reading a log back with line-precise errors.
 *
 * Writing: `EventRecorder` is a KernelObserver (the scheduler host's tap at the relay point); it
 * turns every kernel input and every RunEvent effect into one entry and hands it to an
 * `EventLogSink`. `JsonlLogSink` serialises entries into a `BufferedFileWriter`: a fixed buffer
 * (64 KiB by default) flushed with fs.writeSync, so memory stays flat however long the run (no
 * stream with an unbounded queue). A JetStream sink can implement the same interface.
 *
 * Reading: a log is any `AsyncIterable<LogLine>` (a file through `fileLines`, later a JetStream
 * consumer); `openLog` decodes the header and yields decoded entries, checking that sequence
 * numbers are consecutive and that the log ends with run.finished. Any defect is a
 * `LogFormatError` naming the line and what is wrong; with `allowTruncated` the reader stops at
 * the first bad line instead and reports how many lines it used.
 */
import { closeSync, createReadStream, openSync, statSync, writeSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { Either, ParseResult, Schema } from "effect";
import type { KernelConfig, KernelEffect, KernelInput } from "../actors/scheduler-kernel";
import { taskPeriodMs } from "../actors/task-logic";
import {
  EVENT_PAYLOADS,
  EVENT_TYPES,
  type InputEntry,
  LOG_FORMAT,
  LOG_FORMAT_VERSION,
  type LogEntry,
  LogHeader,
  InputEntry as InputEntrySchema,
  type LoggedModelCosts,
  type LoggedModelVariants,
} from "../contracts/log";
import { PROTOCOL_VERSION, type RunEvent } from "../contracts/messages";
import type { Hardware, ModelCosts, RunVariant, Scenario } from "../domain/types";
import type { Policy } from "../policies/types";
import type { KernelObserver } from "./host";
import { type RunOptions, kernelConfigFor, modeOf, taskConfigsFor } from "./run";
import { tuningFor } from "./tuner";
import rootPackage from "../../../package.json" with { type: "json" };
import { Sdrm3Error } from "../contracts/errors";

/** Version of sdrm3 (the root package.json), recorded in every log header. */
export const SDRM3_VERSION: string = rootPackage.version;

export const DEFAULT_LOG_BUFFER_BYTES = 64 * 1024;

// ─── writing ─────────────────────────────────────────────────────────────────────────────────

/**
 * Appends text to a file through one fixed buffer: `write` copies into the buffer and flushes it
 * with fs.writeSync when the next piece would not fit; a piece larger than the buffer (a big
 * header) is written directly. `maxBufferedBytes` is the high-water mark of the buffer (≤ cap).
 */
export class BufferedFileWriter {
  private readonly buf: Buffer;
  private used = 0;
  private fd: number | undefined;
  /** Bytes currently buffered, not yet written. */
  get bufferedBytes(): number {
    return this.used;
  }
  /** Most bytes ever held in the buffer. */
  maxBufferedBytes = 0;
  /** Bytes handed to the file so far. */
  bytesWritten = 0;
  flushes = 0;

  constructor(
    readonly path: string,
    readonly capBytes = DEFAULT_LOG_BUFFER_BYTES,
  ) {
    if (!(capBytes >= 16)) throw new Error(`buffer cap must be at least 16 bytes, got ${capBytes}`);
    this.buf = Buffer.allocUnsafe(capBytes);
    this.fd = openSync(path, "w");
  }

  write(text: string): void {
    if (this.fd === undefined) throw new Error(`${this.path}: writer is closed`);
    // A UTF-16 code unit takes at most 3 UTF-8 bytes; check exactly only when that bound does not fit.
    let bytes = text.length * 3;
    if (bytes > this.capBytes - this.used) {
      bytes = Buffer.byteLength(text, "utf8");
      if (bytes > this.capBytes - this.used) {
        this.flush();
        if (bytes > this.capBytes) {
          this.writeAll(Buffer.from(text, "utf8"));
          return;
        }
      }
    }
    this.used += this.buf.write(text, this.used, "utf8");
    if (this.used > this.maxBufferedBytes) this.maxBufferedBytes = this.used;
  }

  flush(): void {
    if (this.fd === undefined || this.used === 0) return;
    this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
    this.flushes++;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }

  private writeAll(data: Uint8Array) {
    let off = 0;
    while (off < data.length) off += writeSync(this.fd!, data, off, data.length - off);
    this.bytesWritten += data.length;
  }
}

/** Where recorded entries go: a JSONL file here; a JetStream stream later. */
export interface EventLogSink {
  header(header: LogHeader): void;
  entry(entry: OutEntry): void;
  close(): void;
}

/** An entry as written (payloads are the kernel's own values). */
export type OutEntry =
  | { readonly seq: number; readonly at: number; readonly source: string; readonly type: "input"; readonly payload: KernelInput }
  | { readonly seq: number; readonly at: number; readonly source: "sched"; readonly type: RunEvent["_tag"]; readonly payload: RunEvent };

const NON_FINITE = (n: number) => (Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity");

/** The JSON form of an event: non-finite decision scores become "Infinity" / "-Infinity" / "NaN". */
export const encodeEvent = (e: RunEvent): RunEvent | Record<string, unknown> => {
  if (e._tag !== "decision" || e.scores === undefined) return e;
  let clean = true;
  for (const k in e.scores) if (!Number.isFinite(e.scores[k])) clean = false;
  if (clean) return e;
  const scores: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(e.scores)) scores[k] = Number.isFinite(v) ? v : NON_FINITE(v);
  return { ...e, scores };
};

/** The header's line of a log (without the newline): what every sink writes first. */
export const headerLine = (header: LogHeader): string => JSON.stringify(header);

/** An entry's line of a log (without the newline): the same bytes for every sink (file, JetStream). */
export const entryLine = (e: OutEntry): string => {
  const payload = e.type === "input" ? e.payload : encodeEvent(e.payload);
  return `{"seq":${e.seq},"at":${JSON.stringify(e.at)},"source":${JSON.stringify(e.source)},"type":"${e.type}","payload":${JSON.stringify(payload)}}`;
};

/** One JSON line per entry, header first, into a BufferedFileWriter. */
export class JsonlLogSink implements EventLogSink {
  readonly writer: BufferedFileWriter;
  lines = 0;

  constructor(path: string, capBytes = DEFAULT_LOG_BUFFER_BYTES) {
    this.writer = new BufferedFileWriter(path, capBytes);
  }

  header(header: LogHeader): void {
    this.writeLine(headerLine(header));
  }

  entry(e: OutEntry): void {
    this.writeLine(entryLine(e));
  }

  close(): void {
    this.writer.close();
  }

  private writeLine(text: string) {
    this.writer.write(`${text}\n`);
    this.lines++;
  }
}

/** Who sent a kernel input: the scheduler itself (start, live clock wake-ups) or the task / accelerator that replied. */
export const inputSource = (input: KernelInput): string =>
  input.kind !== "reply" ? "sched" : input.reply._tag === "task.released" ? `task:${input.reply.model}` : `accel:${input.reply.acc}`;

/** The kernel observer that records: every input, then every event applying it produced. */
export class EventRecorder implements KernelObserver {
  private seq = 0;
  private readonly skipThrough: number;

  /**
   * Resuming (a resumed scheduler, runtime/resume.ts): the sink already holds the header and
   * entries 1..`resumeAfter`; numbering starts after entry `seq` (the entries before the step the
   * recorder is shown first), and entries up to `resumeAfter` are counted but not written twice.
   */
  constructor(
    private readonly sink: EventLogSink,
    header: LogHeader,
    opts: { readonly resume?: { readonly seq: number; readonly resumeAfter: number } } = {},
  ) {
    this.seq = opts.resume?.seq ?? 0;
    this.skipThrough = opts.resume?.resumeAfter ?? 0;
    if (opts.resume === undefined) sink.header(header);
  }

  /** Entries recorded so far. */
  get entries(): number {
    return this.seq;
  }

  step(input: KernelInput, at: number, effects: ReadonlyArray<KernelEffect>): void {
    if (++this.seq > this.skipThrough) this.sink.entry({ seq: this.seq, at, source: inputSource(input), type: "input", payload: input });
    for (const e of effects) {
      if (e.kind === "event" && ++this.seq > this.skipThrough) {
        this.sink.entry({ seq: this.seq, at: e.event.at, source: "sched", type: e.event._tag, payload: e.event });
      }
    }
  }
}

/** The header of a run with these options (every default resolved as the run resolves it). */
export const logHeaderFor = (opts: RunOptions, sdrm3Version = SDRM3_VERSION): LogHeader => {
  const run = opts.run ?? "embedded";
  const kernel = kernelConfigFor(opts, run);
  const task = taskConfigsFor(opts, run)[0];
  return {
    type: "header",
    format: LOG_FORMAT,
    formatVersion: LOG_FORMAT_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    sdrm3Version,
    run,
    mode: kernel.mode,
    // The whole objects (plain JSON data), so fields added to them later are recorded too.
    scenario: JSON.parse(JSON.stringify(opts.scenario)) as LogHeader["scenario"],
    hardware: JSON.parse(JSON.stringify(opts.hardware)) as LogHeader["hardware"],
    policy: { name: opts.policy.name, params: { ...opts.policy.params } },
    seed: opts.seed,
    durationMs: opts.durationMs,
    blockSize: kernel.blockSize,
    phase: task?.phase ?? opts.phase ?? true,
    jitterMs: task?.jitterMs ?? opts.jitterMs ?? 0,
    missWindowMs: kernel.missWindowMs,
    costs: opts.scenario.models.map((m) => {
      const c = kernel.models.find((k) => k.name === m.name)!.costs;
      return { name: m.name, model: c.model, layerCount: c.layerCount, cycles: c.cycles.map((a) => Array.from(a)), energyMJ: c.energyMJ.map((a) => Array.from(a)) };
    }),
    ...(kernel.models.some((k) => k.variants !== undefined)
      ? {
          variants: opts.scenario.models.map((m) => ({
            name: m.name,
            variants: kernel.models.find((k) => k.name === m.name)!.variants!.map((v) => ({
              width: v.width,
              accuracy: v.accuracy,
              model: v.costs.model,
              cycles: v.costs.cycles.map((a) => Array.from(a)),
              energyMJ: v.costs.energyMJ.map((a) => Array.from(a)),
            })),
          })),
        }
      : {}),
    ...(opts.live === undefined ? {} : { live: { speed: opts.live.speed } }),
  };
};

/** Dense costs from the header (latency derived from cycles exactly as the data loader does). */
const modelCostsOf = (c: LoggedModelCosts): ModelCosts => ({
  model: c.model,
  layerCount: c.layerCount,
  cycles: c.cycles.map((a) => Float64Array.from(a)),
  latencyMs: c.cycles.map((a) => Float64Array.from(a, (cy) => cy / 1e6)),
  energyMJ: c.energyMJ.map((a) => Float64Array.from(a)),
});

/** A supernet model's variants from the header (costs dense, latency derived as for the model). */
const variantsOf = (v: LoggedModelVariants, layerCount: number, accCount: number): RunVariant[] =>
  v.variants.map((x, i) => {
    const bad = [x.cycles, x.energyMJ].some((t) => t.length !== accCount || t.some((row) => row.length !== layerCount));
    if (bad) throw new LogFormatError(1, `header: variants of ${v.name}: variant ${i} must be ${accCount} accelerators × ${layerCount} layers`);
    return { width: x.width, accuracy: x.accuracy, costs: modelCostsOf({ name: v.name, model: x.model, layerCount, cycles: x.cycles, energyMJ: x.energyMJ }) };
  });

/**
 * The run options the header describes, under `policy` (the recorded one, or another for a
 * re-simulation). Checks that the header is consistent (costs for every model and accelerator).
 */
export const runOptionsFromHeader = (header: LogHeader, policy: Policy): RunOptions => {
  const accCount = header.hardware.accelerators.length;
  const costs = new Map<string, ModelCosts>();
  for (const m of header.scenario.models) {
    const c = header.costs.find((x) => x.name === m.name);
    if (c === undefined) throw new LogFormatError(1, `header: costs has no entry for scenario model ${m.name}`);
    const bad = [c.cycles, c.energyMJ].some((t) => t.length !== accCount || t.some((row) => row.length !== c.layerCount));
    if (bad) throw new LogFormatError(1, `header: costs of ${m.name} must be ${accCount} accelerators × ${c.layerCount} layers`);
    costs.set(m.name, modelCostsOf(c));
  }
  let variants: Map<string, RunVariant[]> | undefined;
  if (header.variants !== undefined) {
    variants = new Map();
    for (const m of header.scenario.models) {
      const v = header.variants.find((x) => x.name === m.name);
      if (v === undefined) throw new LogFormatError(1, `header: variants has no entry for scenario model ${m.name}`);
      if (v.variants[0]!.width !== 1) throw new LogFormatError(1, `header: variants of ${m.name}: variant 0 must be the full model (width 1), got ${v.variants[0]!.width}`);
      variants.set(m.name, variantsOf(v, costs.get(m.name)!.layerCount, accCount));
    }
  }
  const scenario: Scenario = header.scenario;
  const hardware: Hardware = header.hardware;
  return {
    scenario,
    hardware,
    costs,
    policy,
    durationMs: header.durationMs,
    seed: header.seed,
    blockSize: header.blockSize,
    phase: header.phase,
    jitterMs: header.jitterMs,
    missWindowMs: header.missWindowMs,
    run: header.run,
    ...(variants === undefined ? {} : { supernet: true, variants }),
    ...(header.live === undefined ? {} : { live: { speed: header.live.speed } }),
  };
};

/** The kernel configuration a recorded run used, rebuilt from its header with `policy`. */
export const kernelConfigFromHeader = (header: LogHeader, policy: Policy): KernelConfig => {
  const opts = runOptionsFromHeader(header, policy);
  if (modeOf(policy) !== header.mode) {
    throw new LogFormatError(1, `header: mode ${header.mode} does not match policy ${policy.name} (mode ${modeOf(policy)})`);
  }
  // exactly what a run does (runtime/run): the online tuner, when the recorded parameters turn it on
  return kernelConfigFor(opts, header.run, tuningFor(opts));
};

/** Period of a scenario model in the header's mode. */
export const headerPeriodMs = (header: LogHeader, model: string): number => {
  const m = header.scenario.models.find((x) => x.name === model);
  if (m === undefined) throw new Error(`unknown model ${model}`);
  return taskPeriodMs({ fps: m.fps, mode: header.mode });
};

// ─── reading ─────────────────────────────────────────────────────────────────────────────────

/** One line of a log: its 1-based number, its text, and whether a newline ended it. */
export interface LogLine {
  readonly line: number;
  readonly text: string;
  readonly terminated: boolean;
}

/** A defect of a log: the line (1-based; the header is line 1) and what is wrong. */
export class LogFormatError extends Sdrm3Error {
  readonly _tag = "LogFormatError";
  readonly failure = "input";
  constructor(
    readonly line: number,
    readonly detail: string,
    readonly source = "",
  ) {
    super(`${source === "" ? "" : `${source}: `}line ${line}: ${detail}`);
  }

  withSource(source: string): LogFormatError {
    return new LogFormatError(this.line, this.detail, source);
  }
}

/** The lines of a file, read in 64 KiB chunks (memory stays flat). */
export async function* fileLines(path: string, chunkBytes = DEFAULT_LOG_BUFFER_BYTES): AsyncGenerator<LogLine> {
  const stream = createReadStream(path, { highWaterMark: chunkBytes });
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let line = 0;
  const strip = (s: string) => (s.endsWith("\r") ? s.slice(0, -1) : s);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf("\n", start); nl >= 0; nl = text.indexOf("\n", start)) {
      yield { line: ++line, text: strip(text.slice(start, nl)), terminated: true };
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.length > 0) yield { line: ++line, text: rest, terminated: false };
}

/** The lines of an in-memory text (tests, small logs). */
export async function* textLines(text: string): AsyncGenerator<LogLine> {
  const parts = text.split("\n");
  const last = parts.pop()!;
  let line = 0;
  for (const p of parts) yield { line: ++line, text: p, terminated: true };
  if (last.length > 0) yield { line: ++line, text: last, terminated: false };
}

export interface OpenLogOptions {
  /** Stop at the first bad line (or a missing end) instead of failing; `status` says where. */
  readonly allowTruncated?: boolean;
  /** Name of the log in messages (e.g. its path). */
  readonly name?: string;
}

export interface LogStatus {
  /** Lines read and used so far, header included. */
  linesUsed: number;
  /** Entries yielded so far. */
  entries: number;
  /** The log's run.finished entry was read. */
  finished: boolean;
  /** allowTruncated: the defect at which reading stopped. */
  stoppedAt: LogFormatError | undefined;
}

export interface OpenedLog {
  readonly header: LogHeader;
  readonly status: LogStatus;
  /** The entries, in order (consume once). */
  readonly entries: AsyncIterable<LogEntry>;
}

const describeJson = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

const issuesOf = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((i) => (i.path.length === 0 ? i.message : `${i.path.map(String).join(".")}: ${i.message}`))
    .join("; ");

const parseLine = (l: LogLine): Record<string, unknown> => {
  if (!l.terminated) throw new LogFormatError(l.line, "the line is cut (the file ends without a newline): the log is truncated");
  if (l.text.trim() === "") throw new LogFormatError(l.line, "empty line");
  let json: unknown;
  try {
    json = JSON.parse(l.text);
  } catch (e) {
    throw new LogFormatError(l.line, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new LogFormatError(l.line, `expected a JSON object, got ${describeJson(json)}`);
  return json as Record<string, unknown>;
};

const decodeHeader = (l: LogLine): LogHeader => {
  const json = parseLine(l);
  if (json.type !== "header") throw new LogFormatError(l.line, `expected the log header (type "header"), got type ${describeJson(json.type)}`);
  if (json.format !== LOG_FORMAT) throw new LogFormatError(l.line, `not an sdrm3 event log (format ${describeJson(json.format)}, expected "${LOG_FORMAT}")`);
  if (json.formatVersion !== LOG_FORMAT_VERSION) {
    throw new LogFormatError(l.line, `unknown log format version ${describeJson(json.formatVersion)} (this sdrm3 ${SDRM3_VERSION} reads version ${LOG_FORMAT_VERSION})`);
  }
  if (json.protocolVersion !== PROTOCOL_VERSION) {
    throw new LogFormatError(l.line, `unknown protocol version ${describeJson(json.protocolVersion)} (this sdrm3 ${SDRM3_VERSION} speaks version ${PROTOCOL_VERSION})`);
  }
  const decoded = Schema.decodeUnknownEither(LogHeader, { errors: "all", onExcessProperty: "preserve" })(json);
  if (Either.isLeft(decoded)) throw new LogFormatError(l.line, `bad header: ${issuesOf(decoded.left)}`);
  return decoded.right;
};

const eventEntrySchemas = new Map(
  [...EVENT_PAYLOADS].map(([t, payload]) => [t, Schema.Struct({ ...InputEntrySchema.fields, type: Schema.Literal(t), payload })] as const),
);

const decodeEntry = (l: LogLine, expectedSeq: number): LogEntry => {
  const json = parseLine(l);
  const type = json.type;
  if (type === "header") throw new LogFormatError(l.line, "a second header");
  const schema = type === "input" ? InputEntrySchema : typeof type === "string" ? eventEntrySchemas.get(type) : undefined;
  if (schema === undefined) throw new LogFormatError(l.line, `unknown entry type ${describeJson(type)} (expected "input" or ${EVENT_TYPES.map((t) => `"${t}"`).join(", ")})`);
  if (json.seq !== expectedSeq) {
    throw new LogFormatError(l.line, `expected seq ${expectedSeq}, got ${describeJson(json.seq)} (a line is missing, repeated or out of order)`);
  }
  const decoded = Schema.decodeUnknownEither(schema as Schema.Schema<LogEntry, unknown>)(json);
  if (Either.isLeft(decoded)) throw new LogFormatError(l.line, `bad ${type} entry: ${issuesOf(decoded.left)}`);
  const entry = decoded.right;
  if (entry.type !== "input" && entry.payload._tag !== entry.type) {
    throw new LogFormatError(l.line, `type "${entry.type}" does not match the payload's _tag "${entry.payload._tag}"`);
  }
  return entry;
};

/**
 * Opens a log: decodes its header (line 1; a bad header always fails) and returns the entries as
 * an async iterable. Sequence numbers must run 1, 2, … (line = seq + 1) and the last entry must be
 * run.finished; otherwise a LogFormatError is thrown from the iteration — or, with
 * `allowTruncated`, the iteration ends at the defect and `status.stoppedAt` holds it.
 */
export const openLog = async (lines: AsyncIterable<LogLine>, opts: OpenLogOptions = {}): Promise<OpenedLog> => {
  const source = opts.name ?? "";
  const it = lines[Symbol.asyncIterator]();
  const first = await it.next();
  const named = (e: unknown) => (e instanceof LogFormatError ? e.withSource(source) : e);
  if (first.done === true) throw new LogFormatError(1, "the log is empty (no header)", source);
  let header: LogHeader;
  try {
    header = decodeHeader(first.value);
  } catch (e) {
    throw named(e);
  }
  const status: LogStatus = { linesUsed: 1, entries: 0, finished: false, stoppedAt: undefined };
  async function* entries(): AsyncGenerator<LogEntry> {
    let lastLine = 1;
    try {
      for (let r = await it.next(); r.done !== true; r = await it.next()) {
        const l = r.value;
        lastLine = l.line;
        if (status.finished) throw new LogFormatError(l.line, "entry after run.finished");
        const entry = decodeEntry(l, status.entries + 1);
        status.linesUsed = l.line;
        status.entries++;
        if (entry.type === "run.finished") status.finished = true;
        yield entry;
      }
      if (!status.finished) {
        throw new LogFormatError(lastLine + 1, `the log ends after line ${lastLine} before the run finished (no run.finished entry): it is truncated`);
      }
    } catch (e) {
      const err = named(e);
      if (opts.allowTruncated === true && err instanceof LogFormatError) {
        status.stoppedAt = err;
        return;
      }
      throw err;
    } finally {
      await it.return?.();
    }
  }
  return { header, status, entries: entries() };
};

/** A log file that cannot be read at all (missing, a directory, no permission). */
export class LogFileError extends Sdrm3Error {
  readonly _tag = "LogFileError";
  readonly failure = "input";
}

/** Opens a log file (see openLog). */
export const openLogFile = (path: string, opts: OpenLogOptions = {}): Promise<OpenedLog> => {
  try {
    if (!statSync(path).isFile()) throw new LogFileError(`${path}: not a file`);
  } catch (e) {
    if (e instanceof LogFileError) throw e;
    throw new LogFileError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(e)}`);
  }
  return openLog(fileLines(path), { name: path, ...opts });
};

/** The kernel input of an input entry (the decoded payload is the kernel's own type). */
export const kernelInputOf = (e: InputEntry): KernelInput => e.payload as KernelInput;
