/**
 * Figure 4 — live mode over NATS at speed 1 (issue 13's topology): VR_gaming and AR_Assistant on
 * Quad_8K/WS_OS_WS_OS under sdrm3 with `serve`'s defaults, as separate processes on one
 * nats-server: 4 accelerator processes (`--slot accN`, one each), the workload, and the scheduler
 * with `--clock live --speed 1`. The lag of each block (the scheduler handling its reply − its due
 * completion, run-time ms; docs/live.md) comes from the scheduler's `--json` output (`live.lag`);
 * the figure is the median over runs of each run's p50 and p99. Each run's UXCost is set beside
 * the same spec's in virtual time in one process (`sdrm3 run --json` with the dispatch settings the
 * live scheduler reports: a live run has its own dispatch defaults).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { track } from "./children";
import type { NatsServer } from "./nats-server";
import { type Summary, summarize } from "./stats";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = `${ROOT}services/cli/bin/sdrm3.cjs`;
const RUN_TIMEOUT_MS = 120_000;

export interface LiveOptions {
  readonly runs: number;
  readonly durationMs: number;
  readonly speed: number;
  /**
   * Dispatch flags of the run (`--quantum 0.25ms --queue-depth 2`, …; `npm run bench -- --live-flags
   * "…"`), given to every role (the accelerators and the workload check them against the run's
   * spec) and to the virtual-time run beside it. Default: none, serve's defaults.
   */
  readonly flags?: ReadonlyArray<string>;
  /** Scenarios on Quad_8K/WS_OS_WS_OS (default VR_gaming and AR_Assistant). */
  readonly scenarios?: ReadonlyArray<string>;
}

export const LIVE_HARDWARE = "Quad_8K/WS_OS_WS_OS";
export const LIVE_SLOTS = ["acc0", "acc1", "acc2", "acc3"] as const;

export interface LiveRun {
  readonly scenario: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The summed lag's share of the accelerators' run time (docs/live.md). */
  readonly share: number;
  readonly blocks: number;
  /** Blocks retired later than the run's timing tolerance after their due completion (docs/live.md "Timing tolerance"); null: no tolerance. */
  readonly beyondTolerance: number | null;
  readonly missRate: number;
  readonly uxCost: number | null;
  /** The same spec in virtual time, in one process. */
  readonly virtualUxCost: number | null;
  readonly virtualMissRate: number;
}

export interface LiveScenarioResult {
  readonly scenario: string;
  readonly p50Ms: Summary;
  readonly p99Ms: Summary;
  readonly missRate: Summary;
  /** Per run: live UXCost / virtual UXCost − 1 (null when either has no UXCost). */
  readonly uxCostExcess: Summary | null;
}

export interface LiveResult {
  readonly scenarios: ReadonlyArray<LiveScenarioResult>;
  readonly runs: ReadonlyArray<LiveRun>;
}

const start = (args: string[], ready?: RegExp) => {
  const child: ChildProcess = track(spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
  let out = "";
  let err = "";
  let markReady: () => void = () => {};
  const isReady = new Promise<void>((r) => (markReady = r));
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => {
    err += d;
    if (ready !== undefined && ready.test(err)) markReady();
  });
  const exited = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on("exit", (code) => {
      markReady();
      resolve({ code, out, err });
    }),
  );
  return { child, exited, ready: isReady };
};

type Dispatch = { blockSize: number; quantumMs: number; queueDepth: number; chainMs: number; lookaheadMs?: number };
type RunJson = {
  summary: { deadlineMissRate: number; uxCost: number | null };
  live?: { dispatch?: Dispatch; lag: { p50Ms: number; p99Ms: number; maxMs: number; share: number; blocks: number; beyondTolerance?: number } };
};

/** The flags of the dispatch settings a live run reports (live runs have their own defaults): the same experiment in virtual time. */
const dispatchFlags = (d: Dispatch): string[] => [
  ...(d.quantumMs > 0 ? ["--quantum", `${d.quantumMs}ms`] : ["--block", String(d.blockSize)]),
  "--queue-depth",
  String(d.queueDepth),
  ...(d.chainMs > 0 ? ["--chain", `${d.chainMs}ms`] : []),
  ...(d.lookaheadMs === undefined ? [] : ["--lookahead", `${d.lookaheadMs}ms`]),
];

/** The spec in virtual time in one process: `sdrm3 run --json` with the same flags. */
const virtualRun = async (spec: ReadonlyArray<string>): Promise<RunJson> => {
  const r = await start(["run", ...spec, "--json"]).exited;
  if (r.code !== 0) throw new Error(`sdrm3 run ${spec.join(" ")} exited with ${r.code}: ${r.err.trim()}`);
  return JSON.parse(r.out) as RunJson;
};

const oneRun = async (nats: NatsServer, o: LiveOptions, scenario: string): Promise<LiveRun> => {
  const run = `bench-live-${randomUUID().slice(0, 8)}`;
  const spec = ["--scenario", scenario, "--hardware", LIVE_HARDWARE, "--policy", "sdrm3", "--duration", `${o.durationMs}ms`];
  const common = ["--nats", nats.url, "--run", run, ...spec, ...(o.flags ?? [])];
  const procs = LIVE_SLOTS.map((slot) => start(["serve", "accelerator", ...common, "--slot", slot], /ready for run/));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    for (const p of procs) await p.ready;
    procs.push(start(["serve", "workload", ...common], /workload ready/));
    await procs[procs.length - 1]!.ready;
    const scheduler = start(["serve", "scheduler", ...common, "--clock", "live", "--speed", String(o.speed), "--json"]);
    procs.push(scheduler);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`live run ${run} did not finish within ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
    });
    const s = await Promise.race([scheduler.exited, timeout]);
    if (s.code !== 0) throw new Error(`scheduler exited with ${s.code}: ${s.err.trim()}`);
    const r = JSON.parse(s.out) as RunJson;
    if (r.live === undefined) throw new Error(`live run ${run}: no lag in the scheduler's output`);
    if (r.live.dispatch === undefined) throw new Error(`live run ${run}: no dispatch settings in the scheduler's output`);
    const v = await virtualRun([...spec, ...dispatchFlags(r.live.dispatch)]);
    const { p50Ms, p99Ms, maxMs, share, blocks, beyondTolerance } = r.live.lag;
    return { scenario, p50Ms, p99Ms, maxMs, share, blocks, beyondTolerance: beyondTolerance ?? null, missRate: r.summary.deadlineMissRate, uxCost: r.summary.uxCost, virtualUxCost: v.summary.uxCost, virtualMissRate: v.summary.deadlineMissRate };
  } finally {
    clearTimeout(timer);
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  }
};

export const runLive = async (nats: NatsServer, o: LiveOptions): Promise<LiveResult> => {
  const runs: LiveRun[] = [];
  const scenarios = o.scenarios ?? ["VR_gaming", "AR_Assistant"];
  // scenarios interleaved run by run, so a slow minute of the machine does not land on one of them
  for (let i = 0; i < o.runs; i++) for (const scenario of scenarios) runs.push(await oneRun(nats, o, scenario));
  return {
    scenarios: scenarios.map((scenario) => {
      const mine = runs.filter((r) => r.scenario === scenario);
      const excess = mine.flatMap((r) => (r.uxCost === null || r.virtualUxCost === null ? [] : [r.uxCost / r.virtualUxCost - 1]));
      return {
        scenario,
        p50Ms: summarize(mine.map((r) => r.p50Ms)),
        p99Ms: summarize(mine.map((r) => r.p99Ms)),
        missRate: summarize(mine.map((r) => r.missRate)),
        uxCostExcess: excess.length === 0 ? null : summarize(excess),
      };
    }),
    runs,
  };
};
