/** `sdrm3 run --record/--trace`: a run that also writes its event log and/or its timeline. */
import type { RunEvent } from "@sdrm3/shared/contracts";
import { BufferedFileWriter, EventRecorder, JsonlLogSink, type RunOptions, type RunResult, TraceBuilder, logHeaderFor, runScenario } from "@sdrm3/shared/runtime";
import type { Io } from "./io";

export interface LogOutputFlags {
  /** --record <path>: the event log (JSONL). */
  readonly record?: string | undefined;
  /** --trace <path>: the Chrome/Perfetto trace. */
  readonly trace?: string | undefined;
}

/** Runs `opts`, recording its event log and/or writing its trace as the flags ask (notes on stderr). */
export const runWithLogOutputs = async (opts: RunOptions, flags: LogOutputFlags, io: Io): Promise<RunResult> => {
  if (flags.record === undefined && flags.trace === undefined) return runScenario(opts);
  const header = logHeaderFor(opts);
  const sink = flags.record === undefined ? undefined : new JsonlLogSink(flags.record);
  const recorder = sink === undefined ? undefined : new EventRecorder(sink, header);
  const traceFile = flags.trace === undefined ? undefined : new BufferedFileWriter(flags.trace);
  const trace = traceFile === undefined ? undefined : new TraceBuilder(header, (t) => traceFile.write(t));
  const onEvent = opts.onEvent;
  try {
    const result = await runScenario({
      ...opts,
      ...(recorder === undefined ? {} : { observer: recorder }),
      ...(trace === undefined ? {} : { onEvent: (e: RunEvent) => { trace.event(e); onEvent?.(e); } }),
    });
    trace?.finish();
    return result;
  } finally {
    sink?.close();
    traceFile?.close();
    if (sink !== undefined) {
      io.err(`recorded ${recorder!.entries} entries (${sink.lines} lines, ${sink.writer.bytesWritten} bytes) to ${flags.record}\n`);
    }
    if (traceFile !== undefined) io.err(`wrote trace (${trace!.stats.slices} slices) to ${flags.trace}\n`);
  }
};

