/**
 * Reading a log: any `AsyncIterable<LogLine>` (a file through `fileLines`, a JetStream consumer);
 * `openLog` decodes the header and yields decoded entries, checking that sequence numbers are
 * consecutive and that the log ends with run.finished. Any defect is a `LogFormatError` naming the
 * line and what is wrong; with `allowTruncated` the reader stops at the first bad line instead and
 * reports how many lines it used.
 */
import { statSync } from "node:fs";
import { Either, ParseResult, Schema } from "effect";
import type { KernelInput } from "../../actors/scheduler-kernel";
import { errorMessage } from "../../contracts/errors";
import { EVENT_PAYLOADS, EVENT_TYPES, type InputEntry, InputEntry as InputEntrySchema, LOG_FORMAT, LOG_FORMAT_VERSION, type LogEntry, LogHeader } from "../../contracts/log";
import { PROTOCOL_VERSION } from "../../contracts/messages";
import { LogFileError, LogFormatError } from "./errors";
import { SDRM3_VERSION } from "./header";
import { DEFAULT_LOG_BUFFER_BYTES } from "./writer";
import { type LogLine, MAX_LOG_LINE_BYTES, fileLines } from "./lines";

export interface OpenLogOptions {
  /** Stop at the first bad line (or a missing end) instead of failing; `status` says where. */
  readonly allowTruncated?: boolean;
  /** Name of the log in messages (e.g. its path). */
  readonly name?: string;
  /** openLogFile: the longest line accepted, in bytes (default MAX_LOG_LINE_BYTES). */
  readonly maxLineBytes?: number;
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
  /** The log's name in messages (its path, or the stream it is read from); "" when not given. */
  readonly name: string;
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
  // an editor's byte-order mark: invisible in JSON.parse's message, so named (a log is written without one)
  if (l.text.charCodeAt(0) === 0xfeff) throw new LogFormatError(l.line, "the line starts with a byte-order mark (U+FEFF): an event log is UTF-8 without one; save it without the BOM");
  let json: unknown;
  try {
    json = JSON.parse(l.text);
  } catch (e) {
    throw new LogFormatError(l.line, `not valid JSON (${errorMessage(e)})`);
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
  const named = (e: unknown) => (e instanceof LogFormatError ? e.withSource(source) : e);
  let header: LogHeader;
  try {
    const first = await it.next();
    if (first.done === true) throw new LogFormatError(1, "the log is empty (no header)");
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
        if (status.finished && l.terminated && l.text.trim() === "") continue; // blank lines after the end (an editor's trailing newline)
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
  return { name: source, header, status, entries: entries() };
};

/** Opens a log file (see openLog), streaming its lines. */
export const openLogFile = (path: string, opts: OpenLogOptions = {}): Promise<OpenedLog> => {
  try {
    if (!statSync(path).isFile()) throw new LogFileError(`${path}: not a file`);
  } catch (e) {
    if (e instanceof LogFileError) throw e;
    throw new LogFileError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(e)}`);
  }
  return openLog(fileLines(path, DEFAULT_LOG_BUFFER_BYTES, opts.maxLineBytes ?? MAX_LOG_LINE_BYTES), { name: path, ...opts });
};

/** The kernel input of an input entry (the decoded payload is the kernel's own type). */
export const kernelInputOf = (e: InputEntry): KernelInput => e.payload as KernelInput;
