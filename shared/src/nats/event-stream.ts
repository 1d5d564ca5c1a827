/**
 * The event log in JetStream (docs/event-log.md "JetStream", STACK.md §2.4).
 *
 * One stream, `SDRM3_LOG` (subjects `sdrm3.*.log`, file storage, 2 min duplicate window), one
 * subject per run, `sdrm3.<run>.log`. Message k of a run's subject is line k of the run's JSONL
 * log (the header is line 1, entry k is line k + 1), byte for byte without the newline, published
 * with msgID `<run>:<line>` so that a retried publish is stored once.
 *
 * Writing: `JetStreamLogSink` is an `EventLogSink` (the `EventRecorder` observer's sink). The
 * observer is synchronous and must not influence the run, so `header` / `entry` only queue the
 * line; a pump publishes the queue in order with a bounded number of publishes in flight (one
 * connection keeps them in order), retrying a failed publish with the same msgID. `done()` waits
 * for every ack and throws when a line could not be stored: a recording failure fails the run
 * loudly at its end, never silently.
 *
 * Order: while the server is reachable, lines are stored in line order. When it is not (a
 * restart, a partition), publishes in flight fail or time out and some are retried after later
 * lines were stored, so a line may be stored after its successors; the msgID (which names the
 * line) puts it back in its place when reading, and deduplicates a retry of a line that was stored
 * but whose ack was lost.
 *
 * Reading: `streamLogLines` yields a run's messages as `LogLine`s in line order through an ordered
 * consumer (filter `sdrm3.<run>.log`, DeliverPolicy.All) until the subject's last message (looked
 * up first with `last_by_subj`), so `openLog` — replay, explain, trace, export — reads a stream as
 * it reads a file, with the same checks. A run with no messages is a `LogSourceMissingError`.
 */

import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { LogHeader } from "../contracts/log";
import { Subjects } from "../contracts/subjects";
import { type EventLogSink, type LogLine, LogFormatError, type OutEntry, entryLine, headerLine } from "../runtime/event-log";
import { Sdrm3Error, errorMessage } from "../contracts/errors";

/** The stream that holds every run's event log. */
export const LOG_STREAM = "SDRM3_LOG";
/** Subjects of the log stream: one per run. */
export const LOG_STREAM_SUBJECTS = Subjects.allLogs();
/** The duplicate window of the log stream (a retried publish within it is stored once). */
export const LOG_DUPLICATE_WINDOW_MS = 2 * 60_000;

/** The subject of a run's log, `sdrm3.<run>.log`. */
export const logSubject = (run: string): string => Subjects.log(run);
/** The msgID of line `line` of a run's log, `<run>:<line>`. */
export const logMsgId = (run: string, line: number): string => `${run}:${line}`;

const isNotFound = (e: unknown) => e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound;

/** Creates the log stream when it is missing (an existing stream is used as it is). */
export const ensureLogStream = async (nc: NatsConnection): Promise<void> => {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(LOG_STREAM);
    return;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    await jsm.streams.add({
      name: LOG_STREAM,
      subjects: [LOG_STREAM_SUBJECTS],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: LOG_DUPLICATE_WINDOW_MS * 1e6,
    });
  } catch (e) {
    // another process created it in between: fine if it exists now
    await jsm.streams.info(LOG_STREAM).catch(() => {
      throw e;
    });
  }
};

/** Deletes a run's messages from the log stream; false when the stream does not exist. */
export const purgeRunLog = async (nc: NatsConnection, run: string): Promise<boolean> => {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.purge(LOG_STREAM, { filter: logSubject(run) });
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
};

export interface JetStreamLogSinkOptions {
  /** Publishes in flight at most. Default 256. */
  readonly window?: number;
  /** Attempts per line (same msgID each time). Default 3. */
  readonly attempts?: number;
  /** Ack timeout of one publish, ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Lines of the run's log the stream holds already (a resumed recording continues after them). Default 0. */
  readonly linesStored?: number;
}

/** What a JetStream recording stored. */
export interface JetStreamRecordStats {
  readonly subject: string;
  /** Lines published (header + entries). */
  readonly lines: number;
  /** Bytes of the lines with their newlines (= the size of the JSONL file of the same run). */
  readonly bytes: number;
  /** Publishes the server reported as duplicates (a retry of a line it had stored). */
  readonly duplicates: number;
  /** Publishes retried. */
  readonly retries: number;
  /** Lines stored after the line that follows them (retried in an outage; reading puts them back in place). */
  readonly reordered: number;
}

/** A recording that could not be stored completely or in order. */
export class JetStreamRecordError extends Sdrm3Error {
  readonly _tag = "JetStreamRecordError";
  readonly failure = "terminal";
}

/** Records a run's log to `sdrm3.<run>.log` (call `ensureLogStream` first; await `done()` at the end). */
export class JetStreamLogSink implements EventLogSink {
  readonly subject: string;
  private readonly js: JetStreamClient;
  private readonly window: number;
  private readonly attempts: number;
  private readonly timeoutMs: number;
  private readonly queue: Array<{ line: number; text: string }> = [];
  private head = 0;
  private inFlight = 0;
  private lines = 0;
  private bytes = 0;
  private duplicates = 0;
  private retries = 0;
  /** Stream sequence of each stored line (index line − 1). */
  private readonly seqs: number[] = [];
  private readonly failures: string[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(
    nc: NatsConnection,
    readonly run: string,
    opts: JetStreamLogSinkOptions = {},
  ) {
    this.subject = logSubject(run);
    this.js = jetstream(nc);
    this.window = opts.window ?? 256;
    this.attempts = opts.attempts ?? 3;
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.lines = this.firstLine = opts.linesStored ?? 0;
  }

  /** Lines before this recording (stored by an earlier one). */
  private readonly firstLine: number;

  header(header: LogHeader): void {
    this.push(headerLine(header));
  }

  entry(e: OutEntry): void {
    this.push(entryLine(e));
  }

  /** No more lines; `done()` waits for the acks. */
  close(): void {
    this.closed = true;
  }

  /** Waits until every line is acknowledged; throws a JetStreamRecordError when one was not stored or the order broke. */
  async done(): Promise<JetStreamRecordStats> {
    this.closed = true;
    while (this.inFlight > 0 || this.head < this.queue.length) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failures.length > 0) {
      throw new JetStreamRecordError(
        `recording run ${this.run} to JetStream (${LOG_STREAM}, ${this.subject}) failed: ${this.failures.length} of ${this.lines} lines not stored; first: ${this.failures[0]}`,
      );
    }
    let reordered = 0;
    for (let i = this.firstLine + 1; i < this.seqs.length; i++) if (!(this.seqs[i]! > this.seqs[i - 1]!)) reordered++;
    return { subject: this.subject, lines: this.lines, bytes: this.bytes, duplicates: this.duplicates, retries: this.retries, reordered };
  }

  private push(text: string) {
    if (this.closed) throw new Error(`JetStream log sink of run ${this.run} is closed`);
    this.lines++;
    this.bytes += Buffer.byteLength(text, "utf8") + 1;
    this.queue.push({ line: this.lines, text });
    this.pump();
  }

  private pump() {
    while (this.inFlight < this.window && this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      this.queue[this.head] = undefined as never;
      this.head++;
      this.inFlight++;
      void this.publish(item.line, item.text).finally(() => {
        this.inFlight--;
        this.pump();
        this.wake();
      });
    }
    // drop the consumed prefix now and then (memory stays proportional to what is pending)
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async publish(line: number, text: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await this.js.publish(this.subject, text, { msgID: logMsgId(this.run, line), timeout: this.timeoutMs });
        if (ack.duplicate) this.duplicates++;
        this.seqs[line - 1] = ack.seq;
        return;
      } catch (e) {
        if (attempt >= this.attempts) {
          this.failures.push(`line ${line}: ${errorMessage(e)}`);
          return;
        }
        this.retries++;
      }
    }
  }
}

/** A run has no log in the stream (or the stream does not exist). */
export class LogSourceMissingError extends Sdrm3Error {
  readonly _tag = "LogSourceMissingError";
  readonly failure = "retryable";
}

export interface StreamLogInfo {
  readonly subject: string;
  /** Stream sequence of the run's last message. */
  readonly lastSeq: number;
}

/** Where a run's log ends in the stream; a LogSourceMissingError when it has none. */
export const streamLogInfo = async (jsm: JetStreamManager, run: string): Promise<StreamLogInfo> => {
  const subject = logSubject(run);
  let last;
  try {
    last = await jsm.streams.getMessage(LOG_STREAM, { last_by_subj: subject });
  } catch (e) {
    if (isNotFound(e)) throw new LogSourceMissingError(`run ${run}: no event log in JetStream (stream ${LOG_STREAM} does not exist)`);
    throw e;
  }
  if (last === null) throw new LogSourceMissingError(`run ${run}: no event log in JetStream stream ${LOG_STREAM} (no messages on ${subject})`);
  return { subject, lastSeq: last.seq };
};

/**
 * A run's log in the stream: its subject and how many lines it holds, or undefined when the run has
 * no log (or there is no stream). Asks with stream info filtered on the run's subject, so a role
 * allowed `$JS.API.STREAM.INFO.SDRM3_LOG` (the recording scheduler) can ask, without the right to
 * read any message of the stream (`STREAM.MSG.GET` would let it read every run's log).
 */
export const findRunLog = async (nc: NatsConnection, run: string): Promise<{ readonly subject: string; readonly lines: number } | undefined> => {
  const subject = logSubject(run);
  const info = await (await jetstreamManager(nc)).streams.info(LOG_STREAM, { subjects_filter: subject }).catch((e: unknown) => {
    if (isNotFound(e)) return undefined; // no stream: no log
    throw e;
  });
  const lines = info?.state.subjects?.[subject] ?? 0;
  return lines === 0 ? undefined : { subject, lines };
};

/**
 * A run's log lines from the stream, in order: an ordered consumer on `sdrm3.<run>.log` from the
 * first message to the subject's last one (as it was when reading started). Line k = the k-th
 * message; each message's msgID must name line k (a line stored twice or out of order is a
 * LogFormatError naming the line). The first message is awaited before anything is yielded, so a
 * missing run fails at once (LogSourceMissingError).
 */
export async function* streamLogLines(nc: NatsConnection, run: string, opts: { readonly idleMs?: number } = {}): AsyncGenerator<LogLine> {
  const jsm = await jetstreamManager(nc);
  const { subject, lastSeq } = await streamLogInfo(jsm, run);
  const consumer = await jetstream(nc).consumers.get(LOG_STREAM, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 512, idle_heartbeat: opts.idleMs ?? 5_000 });
  const decoder = new TextDecoder();
  // lines stored ahead of a line retried in an outage wait here until it comes (bounded by the
  // recorder's publish window)
  const ahead = new Map<number, string>();
  let line = 0;
  let position = 0;
  try {
    for await (const m of messages) {
      position++;
      const id = m.headers?.get("Nats-Msg-Id");
      const prefix = `${run}:`;
      const named = id !== undefined && id.startsWith(prefix) && /^[1-9]\d*$/.test(id.slice(prefix.length)) ? Number(id.slice(prefix.length)) : undefined;
      if (named === undefined && id !== undefined && id !== "") {
        throw new LogFormatError(position, `stream message ${m.seq} holds ${id}, expected ${logMsgId(run, position)} (a line id of run ${run})`);
      }
      const k = named ?? position; // a line published without an id (a tool) is taken where it stands
      if (k <= line || ahead.has(k)) throw new LogFormatError(k, `stream message ${m.seq} holds line ${k} of run ${run} again (the line is stored twice)`);
      ahead.set(k, decoder.decode(m.data));
      for (let next = ahead.get(line + 1); next !== undefined; next = ahead.get(line + 1)) {
        ahead.delete(line + 1);
        yield { line: ++line, text: next, terminated: true };
      }
      if (m.seq >= lastSeq) break;
    }
    if (ahead.size > 0) {
      throw new LogFormatError(line + 1, `line ${line + 1} of run ${run} is missing from the stream (${ahead.size} later line(s) are stored)`);
    }
  } finally {
    messages.stop();
    await consumer.delete().catch(() => false);
  }
}

/** Publishes one line of a run's log with its msgID (tools and tests; a recording uses JetStreamLogSink). */
export const publishLogLine = async (nc: NatsConnection, run: string, line: number, text: string): Promise<{ seq: number; duplicate: boolean }> => {
  const ack = await jetstream(nc).publish(logSubject(run), text, { msgID: logMsgId(run, line) });
  return { seq: ack.seq, duplicate: ack.duplicate };
};

/** Following a run's log gave up: nothing new within the idle timeout, or the stream went away. */
export class LogFollowError extends Sdrm3Error {
  readonly _tag = "LogFollowError";
  readonly failure = "retryable";
}

export interface FollowLogOptions {
  /** How long to wait for the run's first line: the stream, or the run's log in it, may not exist yet. Default 60 s. */
  readonly waitMs?: number;
  /** How long to wait for the next line once the log has begun. Default 5 min (a scheduler waits for its registrations, 30 s by default, between its header and its first entry). */
  readonly idleMs?: number;
  /** How often to look for the stream while it does not exist. Default 250 ms. */
  readonly pollMs?: number;
  /** Heartbeat interval of the consumer, ms. Default 5000. */
  readonly heartbeatMs?: number;
}

/** `<run>:<k>` → k; undefined for another run's id or a malformed one. */
const lineOfMsgId = (run: string, id: string): number | undefined => {
  const prefix = `${run}:`;
  return id.startsWith(prefix) && /^[1-9]\d*$/.test(id.slice(prefix.length)) ? Number(id.slice(prefix.length)) : undefined;
};

/** Rejects after `ms` with `error()` unless `work` settles first (the timer is cleared either way). */
const within = <T>(work: Promise<T>, ms: number, error: () => Error): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
};

/**
 * A run's log lines from the stream **as they are written** (the `recorder` role, `sdrm3 serve
 * recorder`): an ordered consumer on `sdrm3.<run>.log` from the first message that keeps going
 * until the line that holds the `run.finished` entry, then ends. Unlike `streamLogLines` it does
 * not look up where the log ends (the run is not over yet) and needs nothing but the consumer API:
 * it waits, at most `waitMs`, for a stream or a log that does not exist yet (a recorder started
 * before the scheduler), and fails when no new line comes within `idleMs` (the scheduler died).
 *
 * Lines are put in msgID order as `streamLogLines` does (a line retried in an outage may be stored
 * after its successors); a line stored twice or a gap is a LogFormatError naming the line. The
 * end is found by the line's `type` (parsed here only for that): every other check is the
 * reader's (`openLog`), which the caller runs over these lines as over a file's.
 */
export async function* followLogLines(nc: NatsConnection, run: string, opts: FollowLogOptions = {}): AsyncGenerator<LogLine> {
  const subject = logSubject(run);
  const waitMs = opts.waitMs ?? 60_000;
  const idleMs = opts.idleMs ?? 5 * 60_000;
  const pollMs = opts.pollMs ?? 250;
  const missing = () =>
    new LogSourceMissingError(
      `run ${run}: no event log in JetStream stream ${LOG_STREAM} within ${waitMs} ms (nothing on ${subject}; is the run's scheduler recording it with --record-stream?)`,
    );
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  // the stream: created by the first recording scheduler; until then, look for it every pollMs
  let waited = 0;
  for (;;) {
    try {
      await jsm.streams.info(LOG_STREAM);
      break;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (waited >= waitMs) throw missing();
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    waited += pollMs;
  }
  const consumer = await js.consumers.get(LOG_STREAM, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 512, idle_heartbeat: opts.heartbeatMs ?? 5_000 });
  const it = messages[Symbol.asyncIterator]();
  const decoder = new TextDecoder();
  const ahead = new Map<number, string>();
  let line = 0;
  let position = 0;
  try {
    for (;;) {
      const r =
        line === 0 && ahead.size === 0
          ? await within(it.next(), Math.max(1, waitMs - waited), missing)
          : await within(it.next(), idleMs, () => new LogFollowError(`run ${run}: no new line on ${subject} for ${idleMs} ms after line ${line} (idle timeout; did the scheduler stop?)`));
      if (r.done === true) throw new LogFollowError(`run ${run}: the consumer of ${subject} stopped after line ${line}, before the run.finished entry`);
      const m = r.value;
      position++;
      const id = m.headers?.get("Nats-Msg-Id");
      const named = id === undefined || id === "" ? undefined : lineOfMsgId(run, id);
      if (named === undefined && id !== undefined && id !== "") {
        throw new LogFormatError(position, `stream message ${m.seq} holds ${id}, expected ${logMsgId(run, position)} (a line id of run ${run})`);
      }
      const k = named ?? position; // a line published without an id (a tool) is taken where it stands
      if (k <= line || ahead.has(k)) throw new LogFormatError(k, `stream message ${m.seq} holds line ${k} of run ${run} again (the line is stored twice)`);
      ahead.set(k, decoder.decode(m.data));
      for (let next = ahead.get(line + 1); next !== undefined; next = ahead.get(line + 1)) {
        ahead.delete(line + 1);
        yield { line: ++line, text: next, terminated: true };
        if (isFinishedLine(next)) return;
      }
    }
  } finally {
    messages.stop();
    await consumer.delete().catch(() => false);
  }
}

/** The line holds the run.finished entry (the end of a log). Malformed lines are not: the reader reports them. */
const isFinishedLine = (text: string): boolean => {
  if (!text.includes('"run.finished"')) return false;
  try {
    const json: unknown = JSON.parse(text);
    return typeof json === "object" && json !== null && (json as { type?: unknown }).type === "run.finished";
  } catch {
    return false;
  }
};
