/**
 * Event logs in JetStream, for the CLI (docs/event-log.md "JetStream"):
 *
 *   sdrm3 serve scheduler … --record-stream            record the run to stream SDRM3_LOG, subject sdrm3.<run>.log
 *   sdrm3 log export --nats <url> --run <id> [--out run.jsonl]   the run's JSONL, byte for byte
 *   sdrm3 replay|explain|trace --nats <url> --run <id> …         read the log from the stream
 *
 * `openLogSource` picks a file or the stream; the stream is read through `streamLogLines`, an
 * async iterable of lines like a file's, so the reader's checks apply unchanged. A missing run
 * (or stream) is a LogFileError (exit 2). Connections opened here are closed by
 * `closeLogSources()` when the command ends.
 */
import { rmSync } from "node:fs";
import type { Command } from "commander";
import { checkToken } from "@sdrm3/shared/contracts";
import {
  JetStreamLogSink,
  LOG_STREAM,
  LogSourceMissingError,
  NatsConnectError,
  type NatsBus,
  connectNatsBus,
  ensureLogStream,
  findRunLog,
  streamLogLines,
} from "@sdrm3/shared/nats";
import {
  BufferedFileWriter,
  EventRecorder,
  LogFileError,
  type LogLine,
  type OpenLogOptions,
  type OpenedLog,
  type RunOptions,
  catchUp,
  kernelConfigFor,
  logHeaderFor,
  openLog,
  openLogFile,
  logWithEntries,
  resumeKernel,
  tuningFor,
} from "@sdrm3/shared/runtime";
import type { KernelEffect, SchedulerKernel } from "@sdrm3/shared/actors";
import { CliInputError } from "./duration";
import { type NatsConnectionFlags, resolveNatsConnection } from "./nats-flags";

/** Flags naming a log in JetStream. */
export interface StreamSourceFlags extends NatsConnectionFlags {
  nats?: string;
  run?: string;
}

const open = new Set<NatsBus>();

const connect = async (flags: StreamSourceFlags & { nats: string }, name: string): Promise<NatsBus> => {
  const connection = resolveNatsConnection(flags.nats, flags);
  try {
    const bus = await connectNatsBus({ ...connection.options, name, connectTimeoutMs: 5_000 });
    open.add(bus);
    return bus;
  } catch (e) {
    if (e instanceof NatsConnectError) throw new LogFileError(e.message);
    throw e;
  }
};

/** Closes the NATS connections the log commands opened. */
export const closeLogSources = async (): Promise<void> => {
  const buses = [...open];
  open.clear();
  await Promise.all(buses.map((b) => b.close().catch(() => undefined)));
};

const runOf = (flags: StreamSourceFlags): string => {
  if (flags.run === undefined) throw new CliInputError("--nats needs --run <id> (the run whose log to read)");
  try {
    return checkToken("run id", flags.run);
  } catch (e) {
    throw new CliInputError(`--run: ${(e as Error).message}`);
  }
};

/** The name of a log source in messages: its path, or `nats <url> run <id>`. */
export const logSourceName = (path: string | undefined, flags: StreamSourceFlags): string =>
  flags.nats === undefined ? (path ?? "") : `JetStream ${LOG_STREAM} run ${flags.run ?? "?"}`;

/** A run's log lines from JetStream (connects; a missing run is a LogFileError). */
export const streamSourceLines = async (flags: StreamSourceFlags & { nats: string }): Promise<AsyncIterable<LogLine>> => {
  const run = runOf(flags);
  const bus = await connect(flags, `sdrm3-log-${run}`);
  const lines = streamLogLines(bus.nc, run);
  // pull the first line now, so a missing run fails here with a clear message
  const it = lines[Symbol.asyncIterator]();
  let first: IteratorResult<LogLine>;
  try {
    first = await it.next();
  } catch (e) {
    if (e instanceof LogSourceMissingError) throw new LogFileError(e.message);
    throw e;
  }
  return {
    [Symbol.asyncIterator]: () => {
      let pending: IteratorResult<LogLine> | undefined = first;
      return {
        next: async () => {
          if (pending !== undefined) {
            const r = pending;
            pending = undefined;
            return r;
          }
          return it.next();
        },
        return: async () => (await it.return?.(undefined)) ?? { done: true as const, value: undefined },
      };
    },
  };
};

/** Opens the log named by a path or by `--nats <url> --run <id>` (exactly one of them). */
export const openLogSource = async (path: string | undefined, flags: StreamSourceFlags, opts: OpenLogOptions = {}): Promise<OpenedLog> => {
  if (flags.nats === undefined) {
    if (flags.run !== undefined) throw new CliInputError("--run names a run in JetStream: give --nats <url> too");
    if (path === undefined) throw new CliInputError("give a log file, or --nats <url> --run <id>");
    return openLogFile(path, opts);
  }
  if (path !== undefined) throw new CliInputError(`give a log file or --nats/--run, not both (got ${path})`);
  const lines = await streamSourceLines({ ...flags, nats: flags.nats });
  return openLog(lines, { name: logSourceName(path, flags), ...opts });
};

// ─── recording ──────────────────────────────────────────────────────────────────────────────

/** A recorder of a run to JetStream: the observer, and `finish()` that waits for every ack (throws on failure). */
export interface StreamRecording {
  readonly recorder: EventRecorder;
  readonly sink: JetStreamLogSink;
  finish(): Promise<string>;
}

/** Starts recording the run `opts` describes to JetStream over `bus` (creates the stream when missing). */
export const startStreamRecording = async (bus: NatsBus, opts: RunOptions & { run: string }): Promise<StreamRecording> => {
  await ensureLogStream(bus.nc);
  // a run id whose log is already in the stream: new lines would be dropped as duplicates or follow
  // the old run's log, and a recorder would follow the old run — refuse instead of mixing two runs
  const existing = await findRunLog(bus.nc, opts.run);
  if (existing !== undefined) {
    throw new CliInputError(
      `run ${opts.run} already has an event log in JetStream (${LOG_STREAM}, ${existing.subject}); record under another --run, or continue that run with --resume`,
    );
  }
  const sink = new JetStreamLogSink(bus.nc, opts.run);
  const recorder = new EventRecorder(sink, logHeaderFor(opts));
  return {
    recorder,
    sink,
    finish: async () => {
      const s = await sink.done();
      return `recorded ${recorder.entries} entries (${s.lines} lines, ${s.bytes} bytes) to JetStream stream ${LOG_STREAM}, subject ${s.subject}${s.retries === 0 ? "" : ` (${s.retries} publishes retried, ${s.duplicates} deduplicated, ${s.reordered} stored out of line order)`}\n`;
    },
  };
};

/**
 * A resumed recording: the rebuilt kernel to resume from and the recorder that carries on the run's
 * log. No kernel (`resume` undefined) when the log held only its header: the run starts from the
 * beginning and its recording carries on after the header.
 */
export interface StreamResume extends StreamRecording {
  readonly resume: { readonly kernel: SchedulerKernel; readonly outstanding: ReadonlyArray<KernelEffect> } | undefined;
  /** What was rebuilt, for the service's log. */
  readonly summary: string;
}

/**
 * `serve scheduler --resume`: the run's log in JetStream rebuilds the kernel its dead scheduler had
 * (runtime/resume.ts) and the recording carries on after the stored lines. Undefined when the
 * run has no log yet (a fresh start). A log with only its header (the scheduler died before the
 * run's first step) starts the run from the beginning, recording after that header. The log must
 * have been recorded with the same settings; a finished run is refused.
 */
export const resumeStreamRecording = async (bus: NatsBus, opts: RunOptions & { run: string }): Promise<StreamResume | undefined> => {
  await ensureLogStream(bus.nc);
  let log: OpenedLog;
  try {
    const lines = streamLogLines(bus.nc, opts.run);
    log = await openLog(lines, { name: `JetStream log of run ${opts.run}`, allowTruncated: true });
  } catch (e) {
    if (e instanceof LogSourceMissingError) return undefined;
    throw e;
  }
  const header = logHeaderFor(opts);
  for (const key of Object.keys(header) as Array<keyof typeof header>) {
    if (key === "sdrm3Version") continue;
    if (JSON.stringify(header[key]) !== JSON.stringify(log.header[key])) {
      throw new CliInputError(`--resume: run ${opts.run} was recorded with another ${key} than these flags give; resume it with the flags it was started with`);
    }
  }
  const withEntries = await logWithEntries(log);
  if (withEntries === undefined) {
    const sink = new JetStreamLogSink(bus.nc, opts.run, { linesStored: 1 });
    const recorder = new EventRecorder(sink, header, { resume: { seq: 0, resumeAfter: 0 } });
    return {
      recorder,
      sink,
      resume: undefined,
      summary: `run ${opts.run}'s JetStream log holds only its header (its scheduler stopped before the run's first step): starting the run from the beginning, recording after the header`,
      finish: async () => {
        const s = await sink.done();
        return `recorded ${recorder.entries} entries (${s.lines} lines in all, ${s.bytes} bytes from this process) to JetStream stream ${LOG_STREAM}, subject ${s.subject}\n`;
      },
    };
  }
  const resumed = await resumeKernel(withEntries, kernelConfigFor(opts, opts.run, tuningFor(opts)));
  // read once the entries are (the status says what has been read)
  if (log.status.finished) throw new CliInputError(`--resume: run ${opts.run} already finished (its log ends with run.finished); replay it with \`sdrm3 replay --nats … --run ${opts.run}\``);
  const sink = new JetStreamLogSink(bus.nc, opts.run, { linesStored: resumed.entries + 1 });
  let recorder: EventRecorder | undefined;
  catchUp(resumed, (resume) => (recorder = new EventRecorder(sink, header, { resume })));
  return {
    recorder: recorder!,
    sink,
    resume: { kernel: resumed.kernel, outstanding: resumed.outstanding },
    summary: `resumed run ${opts.run} from its JetStream log: ${resumed.entries} entries, ${resumed.inputs} inputs re-applied, kernel at ${resumed.at} ms with ${resumed.kernel.decisions} decisions; asking again ${resumed.outstanding.length} outstanding request(s)`,
    finish: async () => {
      const s = await sink.done();
      return `recorded ${recorder!.entries - resumed.entries} more entries (${s.lines} lines in all, ${s.bytes} bytes from this process) to JetStream stream ${LOG_STREAM}, subject ${s.subject}\n`;
    },
  };
};

// ─── sdrm3 log export ─────────────────────────────────────────────────────────────────────────

export interface LogExportFlags extends StreamSourceFlags {
  out?: string;
}

export interface LogStreamIo {
  out(text: string): void;
  err(text: string): void;
}

/**
 * Writes a run's log from the stream as JSONL (the bytes `--record` writes), checking it as it
 * goes with the reader's checks; a defect fails (exit 2) and leaves no `--out` file behind.
 */
export const executeLogExport = async (flags: LogExportFlags, io: LogStreamIo): Promise<number> => {
  if (flags.nats === undefined) throw new CliInputError("log export: missing --nats <url>");
  const lines = await streamSourceLines({ ...flags, nats: flags.nats });
  const file = flags.out === undefined ? undefined : new BufferedFileWriter(flags.out);
  let chunk = "";
  const write = (text: string) => {
    if (file !== undefined) return file.write(text);
    chunk += text;
    if (chunk.length >= 64 * 1024) {
      io.out(chunk);
      chunk = "";
    }
  };
  let bytes = 0;
  async function* tap(): AsyncGenerator<LogLine> {
    for await (const l of lines) {
      yield l;
      // written once the reader asks for the next line, i.e. after it checked this one
      const text = `${l.text}\n`;
      bytes += Buffer.byteLength(text, "utf8");
      write(text);
    }
  }
  try {
    const log = await openLog(tap(), { name: logSourceName(undefined, flags) });
    for await (const _ of log.entries) {
      // the reader checks every entry; the tap writes it
    }
    if (chunk !== "") io.out(chunk);
    file?.close();
    io.err(`exported run ${flags.run}: ${log.status.linesUsed} lines (header + ${log.status.entries} entries, ${bytes} bytes)${flags.out === undefined ? "" : ` to ${flags.out}`}\n`);
    return 0;
  } catch (e) {
    if (file !== undefined) {
      file.close();
      rmSync(file.path, { force: true });
    }
    throw e;
  }
};

/** Adds `log export` to the program (`wrap` maps log errors to exit codes and closes connections). */
export const registerLogStreamCommands = (
  program: Command,
  io: LogStreamIo,
  wrap: (fn: (flags: LogExportFlags) => Promise<number>) => (flags: LogExportFlags) => Promise<void>,
): void => {
  const log = program.command("log").description("event logs in JetStream");
  log
    .command("export")
    .description("write a run's event log from the JetStream stream as JSONL (byte-identical to `--record`)")
    .requiredOption("--nats <url>", "NATS server, e.g. nats://127.0.0.1:4222")
    .requiredOption("--run <id>", "run id")
    .option("--out <path>", "write to this file instead of stdout")
    .action(wrap((flags: LogExportFlags) => executeLogExport(flags, io)));
};
