import { expect } from "vitest";
import type { RunEvent } from "@sdrm3/shared/contracts";
import { EventRecorder, JsonlLogSink, type RunOptions, type RunResult, logHeaderFor, openLogFile, replayLog, runScenario, simulateDirect } from "@sdrm3/shared/runtime";

/** What two runs of one spec must agree on, as text (the run id may differ and is left out). */
export const comparable = (r: RunResult): string => JSON.stringify({ models: r.models, summary: r.summary, frames: r.frames, decisions: r.decisions });

/** A run of the direct engine (run id `run`) with every event it emitted. */
export const directRun = (opts: RunOptions, run: string) => {
  const events: RunEvent[] = [];
  const result = simulateDirect({ ...opts, run, onEvent: (e) => events.push(e) });
  return { result, events };
};

/** Every released frame ends at most once; with `exact` (exact mode), exactly once. */
export const expectEachFrameEndsOnce = (events: ReadonlyArray<RunEvent>, exact = true) => {
  const released = events.filter((e) => e._tag === "frame.released").length;
  const ended = events.flatMap((e) => (e._tag === "frame.ended" ? [e.job] : []));
  expect(new Set(ended).size).toBe(ended.length);
  if (exact) expect(ended.length).toBe(released);
  else expect(ended.length).toBeLessThanOrEqual(released);
};

/** Runs `opts` in the actor system (in-memory bus), recording its event log to `path`. */
export const recordedRun = async (opts: RunOptions, path: string): Promise<RunResult> => {
  const sink = new JsonlLogSink(path);
  const recorder = new EventRecorder(sink, logHeaderFor(opts));
  try {
    return await runScenario({ ...opts, observer: recorder });
  } finally {
    sink.close();
  }
};

/** The log at `path` replays, without divergence, to `result`'s decisions and frames; the replay. */
export const expectReplays = async (path: string, result: RunResult) => {
  const replay = await replayLog(await openLogFile(path));
  expect(replay.divergence).toBeUndefined();
  expect(replay.kernel.finished).toBe(true);
  expect(replay.decisions).toBe(result.decisions);
  expect(replay.kernel.frameRecords()).toEqual(result.frames);
  return replay;
};
