/**
 * Figure 3b — distributed virtual-time speed: AR_Assistant on Quad_8K/WS_OS_WS_OS under sdrm3 as
 * separate processes over NATS, exactly as deployed: `sdrm3 serve accelerator --slot accN` × 4,
 * `sdrm3 serve workload`, `sdrm3 serve scheduler`.
 *
 * The accelerator and workload processes are started first and waited for (each logs "ready");
 * then the scheduler is spawned. This process listens on the run's subjects: the run starts with
 * the scheduler's first command to a model task (sent once every service has registered) and ends
 * with its `run.control finished` announcement. Reported: simulated time / (end − start), and
 * also the scheduler's whole wall time from spawn to exit (process start-up, tsx compilation,
 * data loading and registration included).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Subjects } from "@sdrm3/shared/contracts";
import { connectBench } from "./bus";
import { track } from "./children";
import type { NatsServer } from "./nats-server";
import { summarize, type Summary } from "./stats";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = `${ROOT}services/cli/bin/sdrm3.cjs`;
/** A run that takes longer than this is abandoned (its processes killed) and the figure fails. */
const RUN_TIMEOUT_MS = 180_000;

export interface DistributedOptions {
  readonly runs: number;
  readonly durationMs: number;
  readonly scenario: string;
  readonly hardware: string;
  /** Dispatch flags of every role (default `--block 1`: layer blocks, virtual time's default). */
  readonly dispatch?: ReadonlyArray<string>;
  /** Flags of the scheduler alone (e.g. `--speculate 0`). */
  readonly scheduler?: ReadonlyArray<string>;
}

export interface DistributedRun {
  readonly runMs: number;
  readonly speed: number;
  readonly schedulerWallMs: number;
  readonly decisions: number;
}

export interface DistributedResult {
  readonly speed: Summary;
  readonly runMs: Summary;
  readonly schedulerWallMs: Summary;
  readonly runs: ReadonlyArray<DistributedRun>;
}

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; out: string; err: string }>;
  ready: Promise<void>;
}

const start = (args: string[], readyPattern: RegExp | undefined): Proc => {
  const child = track(spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
  let out = "";
  let err = "";
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => {
    err += d;
    if (readyPattern !== undefined && readyPattern.test(err)) markReady();
  });
  const exited = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on("exit", (code) => {
      markReady();
      resolve({ code, out, err });
    }),
  );
  return { child, exited, ready };
};

const oneRun = async (nats: NatsServer, o: DistributedOptions): Promise<DistributedRun> => {
  const run = `bench-${randomUUID().slice(0, 8)}`;
  const common = ["--nats", nats.url, "--run", run, "--scenario", o.scenario, "--hardware", o.hardware, "--policy", "sdrm3", "--duration", `${o.durationMs}ms`, ...(o.dispatch ?? ["--block", "1"])];
  const bus = await connectBench(nats, "sdrm3-bench-observer");
  let startedAt: number | undefined;
  let finishedAt: number | undefined;
  const procs: Proc[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const taskSub = bus.subscribe(`sdrm3.${run}.task.*.cmd`, () => {
      startedAt ??= performance.now();
    });
    const ctlSub = bus.subscribe(Subjects.control(run, "control"), (msg) => {
      if (msg.data.includes('"finished"')) finishedAt ??= performance.now();
    });
    await bus.flush();
    for (let i = 0; i < 4; i++) procs.push(start(["serve", "accelerator", ...common, "--slot", `acc${i}`], /ready for run/));
    procs.push(start(["serve", "workload", ...common], /workload ready/));
    await Promise.all(procs.map((p) => p.ready));
    const spawnedAt = performance.now();
    const scheduler = start(["serve", "scheduler", ...common, ...(o.scheduler ?? []), "--json"], undefined);
    procs.push(scheduler);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`distributed run ${run} did not finish within ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
    });
    const s = await Promise.race([scheduler.exited, timeout]);
    const exitedAt = performance.now();
    if (s.code !== 0) throw new Error(`scheduler exited with ${s.code}: ${s.err.trim()}`);
    const others = await Promise.race([Promise.all(procs.slice(0, 5).map((p) => p.exited)), timeout]);
    taskSub.unsubscribe();
    ctlSub.unsubscribe();
    for (const p of others) if (p.code !== 0) throw new Error(`a service exited with ${p.code}: ${p.err.trim()}`);
    if (startedAt === undefined || finishedAt === undefined) throw new Error("did not see the run start and finish on the bus");
    const result = JSON.parse(s.out) as { decisions?: number };
    const runMs = finishedAt - startedAt;
    return { runMs, speed: o.durationMs / runMs, schedulerWallMs: exitedAt - spawnedAt, decisions: Number(result.decisions ?? Number.NaN) };
  } finally {
    clearTimeout(timer);
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await bus.close();
  }
};

export const runDistributed = async (nats: NatsServer, o: DistributedOptions): Promise<DistributedResult> => {
  const runs: DistributedRun[] = [];
  for (let i = 0; i < o.runs; i++) runs.push(await oneRun(nats, o));
  return {
    speed: summarize(runs.map((r) => r.speed)),
    runMs: summarize(runs.map((r) => r.runMs)),
    schedulerWallMs: summarize(runs.map((r) => r.schedulerWallMs)),
    runs,
  };
};
