/**
 * The load topology of issue 7 ("Load"), as real processes over a real nats-server, shared by the
 * test (test/load/load.test.ts, short) and the benchmark (test/bench/load.ts, 60 s simulated):
 *
 *   sdrm3 gen scenario --models 30 --seed 7 --out s.json      # 30 XRBench models at 15–60 FPS
 *   sdrm3 gen hardware --accelerators 64 --out h.json          # 64 accelerators, every MAESTRO class
 *   sdrm3 serve accelerator --slots 8 --report-memory  × 8     # 8 processes × 8 slots (KV leases)
 *   sdrm3 serve workload --report-memory
 *   sdrm3 serve scheduler --json --report-memory
 *
 * Virtual time, sdrm3. The accelerator and workload processes are started first and waited for
 * (every slot claimed, the workload ready); then the scheduler. Every process is asked for its peak
 * RSS (`--report-memory`: getrusage maxRSS, printed when it ends). Returned: wall times (spawn →
 * exit of the scheduler; the scheduler's first task command → the `finished` announcement, seen
 * on the bus by an observer), the scheduler's JSON, the per-model accounting check and every
 * process's peak RSS.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { Subjects } from "@sdrm3/shared/contracts";
import { fileURLToPath } from "node:url";
import { connectNatsBus } from "@sdrm3/shared/nats";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "services/cli/bin/sdrm3.cjs");

export interface LoadNats {
  readonly url: string;
  readonly user?: string;
  readonly pass?: string;
}

export interface LoadOptions {
  readonly durationMs: number;
  readonly models: number;
  readonly seed: number;
  readonly accelerators: number;
  readonly processes: number;
  readonly block: number;
  /** Where the generated scenario and hardware files go. */
  readonly dir: string;
  /** Fail (kill everything) when the run is not over within this time. */
  readonly timeoutMs: number;
  readonly policy?: string;
  readonly log?: (line: string) => void;
  /** Node flags for the scheduler process only, e.g. ["--cpu-prof", "--cpu-prof-dir", dir]. */
  readonly schedulerNodeArgs?: ReadonlyArray<string>;
}

export interface ProcessMemory {
  readonly name: string;
  readonly role: string;
  readonly peakRssMB: number;
}

export interface ModelAccount {
  readonly name: string;
  readonly released: number;
  readonly onTime: number;
  readonly late: number;
  readonly dropped: number;
  readonly unfinished: number;
}

export interface LoadResult {
  readonly run: string;
  readonly scenario: string;
  readonly hardware: string;
  /** Every accelerator and the workload process ready (from their spawn). */
  readonly startupMs: number;
  /** Scheduler spawn → exit (start-up, registration, run, output). */
  readonly schedulerWallMs: number; // from every process ready (the scheduler starts first) to the scheduler's exit
  /** First task command → `finished` on the bus: the run itself. */
  readonly runMs: number;
  readonly decisions: number;
  readonly models: ReadonlyArray<ModelAccount>;
  readonly summary: { released: number; onTime: number; late: number; dropped: number; unfinished: number; uxCost: number; deadlineMissRate: number };
  /** Per model released = onTime + late + dropped + unfinished, and the sums equal the summary's. */
  readonly invariantOk: boolean;
  readonly invariantProblems: ReadonlyArray<string>;
  readonly memory: ReadonlyArray<ProcessMemory>;
  readonly slotsPerProcess: ReadonlyArray<number>;
  /** The slots each accelerator process claimed (its "claimed slot accN" lines). */
  readonly slotsByProcess: Readonly<Record<string, ReadonlyArray<string>>>;
  /** Dispatches each slot answered (from the accelerator processes' "stopped hosting slot" lines). */
  readonly answeredBySlot: Readonly<Record<string, number>>;
  /** The scheduler's `--json` output as printed (compare it with `sdrm3 run … --json` of `runArgs`). */
  readonly schedulerStdout: string;
  /** The run flags (generated scenario and hardware, policy, duration, block): `sdrm3 run <runArgs>` is the same run in one process. */
  readonly runArgs: ReadonlyArray<string>;
}

interface Proc {
  readonly name: string;
  readonly role: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  out(): string;
  err(): string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const MEMORY_LINE = /^\[(\w+) ([^\]]+)\] peak RSS: ([\d.]+) MB/m;

/** Runs the CLI once to completion (gen). */
const cli = (args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    child.on("exit", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`sdrm3 ${args.join(" ")} exited ${code}: ${err}`))));
  });

/** `--x a --y b` printed by `sdrm3 gen --out` → [flag, value, …] and the named value. */
const flagsOf = (line: string) => {
  const parts = line.split(/\s+/);
  return { argv: parts, value: (flag: string) => parts[parts.indexOf(flag) + 1]! };
};

export const runLoad = async (nats: LoadNats, o: LoadOptions): Promise<LoadResult> => {
  const log = o.log ?? (() => {});
  const run = `load-${randomUUID().slice(0, 8)}`;
  const scenarioFlags = flagsOf(await cli(["gen", "scenario", "--models", String(o.models), "--seed", String(o.seed), "--out", join(o.dir, "scenario.json")]));
  const hardwareFlags = flagsOf(await cli(["gen", "hardware", "--accelerators", String(o.accelerators), "--out", join(o.dir, "hardware.json")]));
  const env = { ...process.env, ...(nats.user === undefined ? {} : { NATS_USER: nats.user }), ...(nats.pass === undefined ? {} : { NATS_PASS: nats.pass }) };
  const runArgs = [...scenarioFlags.argv, ...hardwareFlags.argv, "--policy", o.policy ?? "sdrm3", "--duration", `${o.durationMs}ms`, "--block", String(o.block)];
  // the run's spec is the scheduler's: accelerators and the workload join by --run (issue 15.4)
  const common = ["--nats", nats.url, "--run", run, "--report-memory"];
  // 10 processes on a shared machine: a starved process must not lose its lease, nor the scheduler give up registering
  const roleFlags: Readonly<Record<string, ReadonlyArray<string>>> = {
    scheduler: [...runArgs, "--register-timeout", "5m"],
    accelerator: ["--lease-ttl", "15s"],
    workload: [],
  };
  const procs: Proc[] = [];
  const start = (role: string, name: string, extra: ReadonlyArray<string>): Proc => {
    const nodeArgs = role === "scheduler" ? (o.schedulerNodeArgs ?? []) : [];
    const child = spawn(process.execPath, [...nodeArgs, BIN, "serve", role, ...common, ...(roleFlags[role] ?? []), "--name", name, ...extra], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    const p = { name, role, child, exited, out: () => out, err: () => err };
    procs.push(p);
    return p;
  };
  const waitFor = async (p: Proc, re: RegExp, count: number, deadline: number) => {
    const global = new RegExp(re.source, "g");
    while ((p.err().match(global) ?? []).length < count) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${p.name} exited before it was ready: ${p.err()}`);
      if (performance.now() > deadline) throw new Error(`${p.name} not ready in time: ${p.err().slice(-2000)}`);
      await sleep(100);
    }
  };
  const observer = await connectNatsBus({ servers: nats.url, ...(nats.user === undefined ? {} : { user: nats.user }), ...(nats.pass === undefined ? {} : { pass: nats.pass }), name: "sdrm3-load-observer" });
  let startedAt: number | undefined;
  let finishedAt: number | undefined;
  const t0 = performance.now();
  const deadline = t0 + o.timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    observer.nc.subscribe(Subjects.allTaskCmds(run), { callback: () => void (startedAt ??= performance.now()) });
    observer.nc.subscribe(Subjects.control(run, "control"), { callback: (_e, msg) => void (msg.string().includes('"finished"') && (finishedAt ??= performance.now())) });
    await observer.nc.flush();
    const perProcess = o.accelerators / o.processes;
    if (!Number.isInteger(perProcess)) throw new Error(`${o.accelerators} accelerators do not split evenly over ${o.processes} processes`);
    // the scheduler first: it publishes the run's spec, which the others wait for, then waits for their registrations
    const scheduler = start("scheduler", "scheduler", ["--json"]);
    const accs = Array.from({ length: o.processes }, (_, i) => start("accelerator", `acc-p${i}`, ["--slots", String(perProcess)]));
    const workload = start("workload", "workload", []);
    for (const p of accs) await waitFor(p, /ready for run/, perProcess, deadline);
    await waitFor(workload, /workload ready/, 1, deadline);
    const startupMs = performance.now() - t0;
    log(`load: the scheduler, ${o.processes} accelerator processes × ${perProcess} slots and the workload ready in ${(startupMs / 1000).toFixed(1)} s (${o.durationMs} ms simulated)`);
    const spawnedAt = performance.now();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`load run ${run} not over within ${o.timeoutMs / 1000} s; scheduler: ${scheduler.err().slice(-2000)}`)), Math.max(0, deadline - performance.now()));
    });
    const s = await Promise.race([scheduler.exited, timeout]);
    const schedulerWallMs = performance.now() - spawnedAt;
    if (s.code !== 0) throw new Error(`scheduler exited with ${s.code ?? s.signal}: ${scheduler.err().slice(-3000)}`);
    const ends = await Promise.race([Promise.all(procs.map((p) => p.exited)), timeout]);
    ends.forEach((e, i) => {
      if (e.code !== 0) throw new Error(`${procs[i]!.name} exited with ${e.code ?? e.signal}: ${procs[i]!.err().slice(-2000)}`);
    });
    if (startedAt === undefined || finishedAt === undefined) throw new Error("did not see the run start and finish on the bus");
    const json = JSON.parse(scheduler.out()) as {
      decisions?: number;
      models: ModelAccount[];
      summary: LoadResult["summary"] & { decisions?: number };
    };
    const problems: string[] = [];
    const sum = { released: 0, onTime: 0, late: 0, dropped: 0, unfinished: 0 };
    for (const m of json.models) {
      const ended = m.onTime + m.late + m.dropped + m.unfinished;
      if (m.released !== ended) problems.push(`${m.name}: released ${m.released} ≠ on time ${m.onTime} + late ${m.late} + dropped ${m.dropped} + unfinished ${m.unfinished}`);
      for (const k of Object.keys(sum) as Array<keyof typeof sum>) sum[k] += m[k];
    }
    for (const k of Object.keys(sum) as Array<keyof typeof sum>) if (sum[k] !== json.summary[k]) problems.push(`summary ${k} ${json.summary[k]} ≠ sum over models ${sum[k]}`);
    if (json.models.length !== o.models) problems.push(`${json.models.length} models in the result, ${o.models} in the scenario`);
    const memory = procs.map((p): ProcessMemory => {
      const m = MEMORY_LINE.exec(p.err());
      return { name: p.name, role: p.role, peakRssMB: m === null ? Number.NaN : Number(m[3]) };
    });
    return {
      run,
      scenario: scenarioFlags.value("--scenario"),
      hardware: hardwareFlags.value("--hardware"),
      startupMs,
      schedulerWallMs,
      runMs: finishedAt - startedAt,
      decisions: Number(json.decisions ?? json.summary.decisions ?? Number.NaN),
      models: json.models,
      summary: json.summary,
      invariantOk: problems.length === 0,
      invariantProblems: problems,
      memory,
      slotsPerProcess: accs.map((p) => (p.err().match(/ready for run/g) ?? []).length),
      slotsByProcess: Object.fromEntries(accs.map((p) => [p.name, [...p.err().matchAll(/claimed slot (acc\d+)/g)].map((m) => m[1]!)])),
      answeredBySlot: Object.fromEntries(
        accs.flatMap((p) => [...p.err().matchAll(/stopped hosting slot (acc\d+) [^\n]*: answered (\d+) of \d+ dispatches/g)].map((m) => [m[1]!, Number(m[2])])),
      ),
      schedulerStdout: scheduler.out(),
      runArgs,
    };
  } finally {
    clearTimeout(timer);
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await observer.close();
  }
};
