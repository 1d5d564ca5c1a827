import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { type NatsBus, connectNatsBus } from "@sdrm3/shared/nats";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import type { RunEvent } from "@sdrm3/shared/contracts";
import { EventRecorder, JsonlLogSink, type RunOptions, type RunResult, logHeaderFor, openLogFile, replayLog, resolveRunSpec, runScenario, simulateDirect } from "@sdrm3/shared/runtime";

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

/** A temporary directory (`sdrm3-<name>-…`) for a test file or describe block, removed after its tests. */
export const scratchDir = (name: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `sdrm3-${name}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** The run options of `scenario` on `hardware` under `policy` for `durationMs` (seed, run id and `extra` as given). */
export const runSpecOf = (scenario: string, hardware: string, policy: string, durationMs: number, extra: Record<string, unknown>, seed: number, run: string): RunOptions =>
  ({ ...resolveRunSpec({ scenario, hardware, policy, durationMs, seed, ...extra }), run }) as RunOptions;

/** A NATS bus (the test server) and a temporary directory for a describe block: opened before its tests, closed and removed after. */
export const natsBusAndDir = (name: string): { readonly bus: NatsBus; readonly dir: string } => {
  const dir = scratchDir(name);
  let bus: NatsBus | undefined;
  beforeAll(async () => {
    bus = await connectNatsBus({ ...natsTestOptions(), name: `${name}-test` });
  });
  afterAll(async () => {
    await bus?.close();
  });
  return {
    get bus() {
      if (bus === undefined) throw new Error("the NATS bus is opened before the tests run");
      return bus;
    },
    dir,
  };
};

/**
 * Runs `opts` in the direct engine, the actor system on the in-memory bus and over NATS (run
 * `run`, a fresh id on NATS): the three agree, result and events, event for event, and every frame
 * ends once (`exact`: exactly once, see expectEachFrameEndsOnce). Returns the direct engine's run.
 */
export const expectEnginesAgree = async (opts: RunOptions, bus: NatsBus, run: string, exact = true) => {
  const direct = directRun(opts, run);
  const memEvents: RunEvent[] = [];
  const onMemory = await runScenario({ ...opts, run, onEvent: (e) => memEvents.push(e) });
  expect(comparable(onMemory)).toBe(comparable(direct.result));
  expect(memEvents).toEqual(direct.events);
  const natsRun = `${run}-${randomUUID().slice(0, 8)}`;
  const natsEvents: string[] = [];
  const onNats = await runScenario({ ...opts, bus, run: natsRun, onEvent: (e) => natsEvents.push(JSON.stringify(e).replaceAll(natsRun, run)) });
  expect(onNats.rejected).toBe(0);
  expect(comparable(onNats)).toBe(comparable(direct.result));
  expect(natsEvents).toEqual(direct.events.map((e) => JSON.stringify(e)));
  expectEachFrameEndsOnce(direct.events, exact);
  return direct;
};
