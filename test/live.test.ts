/**
 * Live mode on the embedded in-memory bus (docs/live.md): the accelerators really wait (scaled by
 * --speed), the scheduler reacts to replies as they arrive. Results depend on timing, so these
 * tests check what must hold whatever the timing: the accounting invariant (resultOf checks it),
 * the frames released (nominal releases do not depend on timing), the lag figures, the wall time
 * the run takes (at least duration / speed), and that a recorded live run replays exactly.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "@sdrm3/cli";
import {
  EventRecorder,
  JsonlLogSink,
  type RunOptions,
  liveFigures,
  logHeaderFor,
  openLogFile,
  replayLog,
  resolveRunSpec,
  runScenario,
  simulateDirect,
} from "@sdrm3/shared/runtime";
import { captureIo } from "./support/processes";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-live-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (policy = "sdrm3", durationMs = 400) =>
  resolveRunSpec({ scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy, durationMs, seed: 3 });

describe("the live lag report", () => {
  it("gives the quantiles, the mean and the summed lag's share of the accelerators' run time", () => {
    // four blocks late by 0, 0.5, 1 and 2.5 ms on 2 accelerators over a 10-ms run: 4 ms of 20
    expect(liveFigures(1, [1, 0, 2.5, 0.5], 2 * 10)).toEqual({
      speed: 1,
      lag: { blocks: 4, p50Ms: 0.5, p99Ms: 2.5, maxMs: 2.5, meanMs: 1, share: 0.2 }, // nearest-rank quantiles
    });
    expect(liveFigures(0.5, [], 20).lag).toEqual({ blocks: 0, p50Ms: null, p99Ms: null, maxMs: null, meanMs: null, share: null });
  });
});

describe("live mode on the in-memory bus", () => {
  it("runs for at least duration / speed of wall time, accounts every frame once, and reports scheduler lag", async () => {
    // half real speed (800 ms of wall time): the scheduler keeps up even on a loaded machine, so the run
    // dispatches hundreds of blocks (~740 here at load average 27); at speed 2 a starved scheduler
    // dropped most frames and dispatched only 40–100 blocks
    const SPEED = 0.5;
    const opts: RunOptions = { ...spec(), live: { speed: SPEED } };
    const t0 = performance.now();
    const live = await runScenario(opts);
    const wallMs = performance.now() - t0;
    expect(wallMs).toBeGreaterThanOrEqual(400 / SPEED); // the accelerators really waited (a bound, not a timing measurement)
    const virtual = await runScenario(spec());
    // releases are nominal (k·T), whatever the timing: the same frames of the root models
    for (const m of live.models) {
      const v = virtual.models.find((x) => x.name === m.name)!;
      if (m.name === "KD_Res8" || m.name === "ASR_EM") continue; // cascade children: released by their parent's draws
      expect(m.released, m.name).toBe(v.released);
    }
    expect(live.summary.unfinished).toBe(0);
    expect(live.summary.onTime + live.summary.late + live.summary.dropped).toBe(live.summary.released);
    expect(live.live?.speed).toBe(SPEED);
    const lag = live.live!.lag;
    expect(lag.blocks).toBeGreaterThan(100);
    expect(lag.p50Ms).not.toBeNull();
    expect(lag.p50Ms!).toBeGreaterThanOrEqual(0);
    expect(lag.p99Ms!).toBeGreaterThanOrEqual(lag.p50Ms!);
    expect(lag.maxMs!).toBeGreaterThanOrEqual(lag.p99Ms!);
    expect(virtual.live).toBeUndefined();
  }, 180_000);

  it.each([
    ["asked ahead, no timing tolerance (a log recorded before the tolerance)", undefined, 0],
    ["asked ahead, a tolerance of 5 ms (every live run from the command line now)", undefined, 5],
    ["held (a log recorded before releases were asked ahead: its header has no `releases`)", "held", 0],
  ] as const)("a recorded live run replays with identical decisions (the clock readings are inputs), releases %s", async (_, releases, toleranceMs) => {
    const opts: RunOptions = { ...spec("edf", 300), live: { speed: 1, ...(releases === undefined ? {} : { releases }), ...(toleranceMs > 0 ? { toleranceMs } : {}) } };
    const path = join(dir, `live-${releases ?? "ahead"}-${toleranceMs}.jsonl`);
    const sink = new JsonlLogSink(path);
    const recorder = new EventRecorder(sink, logHeaderFor(opts));
    let result;
    try {
      result = await runScenario({ ...opts, observer: recorder });
    } finally {
      sink.close();
    }
    if (releases === "held") {
      // the header as it was written before `releases` existed
      const [head, ...rest] = readFileSync(path, "utf8").split("\n");
      const header = JSON.parse(head!);
      expect(header.live).toEqual({ speed: 1, releases: "held" });
      writeFileSync(path, [JSON.stringify({ ...header, live: { speed: 1 } }), ...rest].join("\n"));
    }
    const log = await openLogFile(path);
    expect(log.header.live).toEqual(releases === "held" ? { speed: 1 } : { speed: 1, releases: "ahead", ...(toleranceMs > 0 ? { toleranceMs } : {}) });
    // the clock starts when the model tasks have answered their first ticks (one per model): those answers arrive at run time 0
    const replies = readFileSync(path, "utf8").split("\n").filter((l) => l.includes('"kind":"reply"')).map((l) => JSON.parse(l).payload);
    const models = log.header.scenario.models.length;
    expect(replies.slice(0, models).map((p) => [p.reply._tag, p.at])).toEqual(Array.from({ length: models }, () => ["task.released", 0]));
    expect(replies[models].at).toBeGreaterThan(0);
    const replay = await replayLog(log);
    expect(replay.divergence).toBeUndefined();
    expect(replay.kernel.finished).toBe(true);
    expect(replay.decisions).toBe(result.decisions);
    expect(replay.kernel.frameRecords()).toEqual(result.frames);
    expect(liveFigures(1, replay.kernel.lagMs, replay.kernel.cfg.accelerators.length * opts.durationMs, toleranceMs).lag).toEqual(result.live!.lag); // the same lag, block by block
  }, 180_000);

  it("a tuned live run tunes (its look-aheads run in virtual time) and accounts every frame once", async () => {
    const opts: RunOptions = { ...resolveRunSpec({ scenario: "VR_gaming", hardware: "Dual_4K/WS_OS", policy: "sdrm3", tune: true, durationMs: 300, seed: 3 }), live: { speed: 1 } };
    const live = await runScenario(opts);
    expect(live.tuning.length).toBeGreaterThan(0);
    expect(live.tuning[0]!.at).toBe(0);
    expect(live.summary.onTime + live.summary.late + live.summary.dropped).toBe(live.summary.released);
    expect(live.summary.released).toBeGreaterThan(0);
  }, 180_000);

  it("the direct engine and the xrbench policy refuse live mode", async () => {
    expect(() => simulateDirect({ ...spec(), live: { speed: 1 } })).toThrow(/virtual time only/);
    await expect(runScenario({ ...spec("xrbench"), live: { speed: 1 } })).rejects.toThrow(/xrbench policy reproduces the XRBench runtime in virtual time/);
  });
});

describe("sdrm3 run --clock live", () => {
  const base = ["run", "--scenario", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "200ms"];

  it("prints the clock and the scheduler lag, and a live block in --json", async () => {
    const io = captureIo();
    expect(await main([...base, "--clock", "live", "--speed", "2"], io)).toBe(0);
    expect(io.stdout).toMatch(/clock {17}: live, speed 2 \(2\.000× faster than real\)/);
    expect(io.stdout).toMatch(/scheduler lag {9}: p50 \d+\.\d{4} ms {2}p99 \d+\.\d{4} ms {2}max \d+\.\d{4} ms {2}over \d+ blocks/);
    const json = captureIo();
    expect(await main([...base, "--clock", "live", "--json"], json)).toBe(0);
    const r = JSON.parse(json.stdout) as { live: { speed: number; toleranceMs: number; lag: { blocks: number; p50Ms: number; p99Ms: number; beyondTolerance: number } } };
    expect(r.live.speed).toBe(1);
    expect(r.live.toleranceMs).toBe(5); // the default (docs/live.md "Timing tolerance")
    expect(r.live.lag.beyondTolerance).toBeGreaterThanOrEqual(0);
    expect(io.stdout).toMatch(/timing tolerance {6}: 5 ms of wall time absorbed; \d+ of \d+ blocks retired later than that/);
    const strict = captureIo();
    expect(await main([...base, "--clock", "live", "--tolerance", "0", "--json"], strict)).toBe(0);
    expect(JSON.parse(strict.stdout).live).not.toHaveProperty("toleranceMs");
    expect(r.live.lag.blocks).toBeGreaterThan(0);
    const virtual = captureIo();
    expect(await main([...base, "--json"], virtual)).toBe(0);
    expect(JSON.parse(virtual.stdout)).not.toHaveProperty("live");
  }, 180_000);

  it.each([
    [["--clock", "wall"], "--clock: expected virtual or live, got 'wall'"],
    [["--speed", "2"], "--speed: only with --clock live"],
    [["--clock", "live", "--speed", "0"], "--speed: expected a number in [0.001, 1000]"],
    [["--clock", "live", "--speed", "fast"], "--speed: expected a number in [0.001, 1000]"],
    [["--clock", "live", "--speed", "5000"], "--speed: expected a number in [0.001, 1000]"],
    // a 20 ms run at 1e-300 never ended, its timers overflowing Node's limit (fired after 1 ms, a warning each)
    [["--clock", "live", "--speed", "1e-300"], "--speed: expected a number in [0.001, 1000] (0.1 = ten times slower than real), got '1e-300'"],
    [["--clock", "live", "--speed", "0.0009"], "--speed: expected a number in [0.001, 1000]"],
    [["--tolerance", "2ms"], "--tolerance: only with --clock live (virtual time is exact)"],
    [["--clock", "live", "--tolerance", "-1ms"], "--tolerance"],
    [["--clock", "live", "--tolerance", "soon"], "--tolerance"],
    [["--clock", "live", "--tolerance", "2s"], "--tolerance"],
  ])("bad clock flags %j exit 2 naming the flag", async (flags, message) => {
    const io = captureIo();
    expect(await main([...base, ...flags], io)).toBe(2);
    expect(io.stderr).toContain(message);
    expect(io.stdout).toBe("");
  });

  it("the xrbench policy is refused in live mode (exit 2)", async () => {
    const io = captureIo();
    expect(await main(["run", "--scenario", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--policy", "xrbench", "--clock", "live"], io)).toBe(2);
    expect(io.stderr).toContain("--clock live: the xrbench policy reproduces the XRBench runtime in virtual time");
  });
});
