/**
 * Figure 4 — live mode: scheduler lag at speed 1.0, VR_gaming on Quad_8K/WS_OS_WS_OS under sdrm3,
 * as separate processes over NATS: 2 accelerator processes (`--slots 2` each), the workload, and
 * the scheduler with `--clock live --speed 1`. The lag of each block (the scheduler handling its
 * reply − its due completion, run-time ms; docs/live.md) comes from the scheduler's `--json`
 * output (`live.lag`); the figure is the median over runs of each run's p50 and p99.
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
}

export interface LiveRun {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly blocks: number;
  readonly missRate: number;
  readonly uxCost: number | null;
}

export interface LiveResult {
  readonly p50Ms: Summary;
  readonly p99Ms: Summary;
  readonly missRate: Summary;
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

const oneRun = async (nats: NatsServer, o: LiveOptions): Promise<LiveRun> => {
  const run = `bench-live-${randomUUID().slice(0, 8)}`;
  const common = ["--nats", nats.url, "--run", run, "--scenario", "VR_gaming", "--hardware", "Quad_8K/WS_OS_WS_OS", "--policy", "sdrm3", "--duration", `${o.durationMs}ms`];
  const procs = [start(["serve", "accelerator", ...common, "--slots", "2"], /ready for run[^]*ready for run/), start(["serve", "accelerator", ...common, "--slots", "2"], /ready for run[^]*ready for run/)];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await procs[0]!.ready;
    await procs[1]!.ready;
    procs.push(start(["serve", "workload", ...common], /workload ready/));
    await procs[2]!.ready;
    const scheduler = start(["serve", "scheduler", ...common, "--clock", "live", "--speed", String(o.speed), "--json"]);
    procs.push(scheduler);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`live run ${run} did not finish within ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
    });
    const s = await Promise.race([scheduler.exited, timeout]);
    if (s.code !== 0) throw new Error(`scheduler exited with ${s.code}: ${s.err.trim()}`);
    const r = JSON.parse(s.out) as { summary: { deadlineMissRate: number; uxCost: number | null }; live: { lag: { p50Ms: number; p99Ms: number; maxMs: number; blocks: number } } };
    return { ...r.live.lag, missRate: r.summary.deadlineMissRate, uxCost: r.summary.uxCost };
  } finally {
    clearTimeout(timer);
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  }
};

export const runLive = async (nats: NatsServer, o: LiveOptions): Promise<LiveResult> => {
  const runs: LiveRun[] = [];
  for (let i = 0; i < o.runs; i++) runs.push(await oneRun(nats, o));
  return { p50Ms: summarize(runs.map((r) => r.p50Ms)), p99Ms: summarize(runs.map((r) => r.p99Ms)), missRate: summarize(runs.map((r) => r.missRate)), runs };
};
