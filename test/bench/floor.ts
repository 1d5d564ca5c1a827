/**
 * The floor beside figure 4: what a dispatch → completion round trip over NATS costs on this
 * machine when the processes only relay. Same message pattern as the live run, none of the
 * product: 4 bare accelerator processes and 1 bare workload process (test/bench/floor-bare.mjs
 * relay: plain `node` + @nats-io/transport-node, subscribe, JSON.parse, publish a ≈ 220-byte JSON
 * completion to <prefix>.done) and a driver, a 6th process (floor-bare.mjs driver), in the
 * scheduler's place: ≈ 220-byte JSON dispatches round-robin to the accelerators at the live run's
 * rate (600/s) and requests to the workload (165/s), deadline-paced with setTimeout, warm-up
 * unrecorded, then the figure's duration recorded (every send → its completion received).
 *
 * With `workUs` > 0 every bare process spins that many µs per message it handles (the relays per
 * request, the driver per completion): how the round trip's tail grows with the per-message CPU of
 * real processes. CPU: /proc/<pid>/stat utime + stime of the 6 children and of the nats-server (if
 * started here) over the recorded window, and the whole machine's busy time from /proc/stat (other
 * load on the machine included). A benchmark: nothing here asserts a time.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { track } from "./children";
import type { NatsServer } from "./nats-server";
import { type Summary, fmt, fmtSummary, percentile, summarize } from "./stats";
import type { Row, Table } from "./types";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCRIPT = join(HERE, "floor-bare.mjs");
const ACCS = 4;
const RUN_TIMEOUT_MS = 60_000;

export interface FloorOptions {
  readonly runs: number;
  /** Recorded window per run (figure 4's run length). */
  readonly durationMs: number;
  /** Unrecorded traffic before the window (JIT, connections). */
  readonly warmupMs: number;
  /** Dispatches per second to the accelerators in total (round-robin). */
  readonly accRate: number;
  /** Requests per second to the workload. */
  readonly workloadRate: number;
  /** µs of spinning per message in every bare process; one variant per value. */
  readonly workUs: ReadonlyArray<number>;
}

export interface FloorRun {
  readonly workUs: number;
  readonly dispatches: number;
  /** Dispatches sent per second over the recorded window (first to last send). */
  readonly achievedRate: number;
  readonly workloadRequests: number;
  /** Accelerator round trips, ms. */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly workloadP50Ms: number;
  readonly workloadP99Ms: number;
  /** Sends whose completion did not come back within the drain time. */
  readonly lost: number;
  /** How late the driver sent against its schedule, p99 ms (setTimeout's granularity). */
  readonly sendLateP99Ms: number;
  /** Cores (CPU s per wall s) over the recorded window. */
  readonly cpu: { relays: number; driver: number; nats: number | null; machineBusy: number | null; windowMs: number };
  /** CPU ms each child reported at exit (process.cpuUsage, start-up included): 4 accelerators, workload, driver. */
  readonly childCpuMs: ReadonlyArray<number>;
}

export interface FloorVariant {
  readonly workUs: number;
  readonly p50Ms: Summary;
  readonly p90Ms: Summary;
  readonly p99Ms: Summary;
  readonly maxMs: Summary;
}

export interface FloorResult {
  readonly variants: ReadonlyArray<FloorVariant>;
  readonly runs: ReadonlyArray<FloorRun>;
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process (all its threads), clock ticks; null if unreadable. */
const processTicks = (pid: number | undefined): number | null => {
  if (pid === undefined) return null;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
};

/** The machine's busy and total clock ticks (all cores) from /proc/stat; null off Linux. */
const machineTicks = (): { busy: number; total: number } | null => {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((s, x) => s + x, 0);
    return { busy: total - f[3]! - f[4]!, total };
  } catch {
    return null;
  }
};

interface Bare {
  readonly child: ChildProcess;
  /** The first stdout line that `match`es (already printed or to come); rejects if the process exits first. */
  line(match: (l: string) => boolean): Promise<string>;
  readonly exited: Promise<number | null>;
}

const bare = (role: "relay" | "driver", config: object): Bare => {
  const child = track(spawn(process.execPath, [SCRIPT, role, JSON.stringify(config)], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] }));
  const lines: string[] = [];
  const waiters: Array<{ match: (l: string) => boolean; resolve: (l: string) => void; reject: (e: Error) => void }> = [];
  let buffered = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => {
    buffered += d;
    for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
      const l = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      lines.push(l);
      for (const w of waiters.filter((x) => x.match(l))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`floor ${role} exited with ${code}: ${err.trim()}`));
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    line: (match) => {
      const found = lines.find(match);
      if (found !== undefined) return Promise.resolve(found);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`floor ${role} exited: ${err.trim()}`));
      return new Promise((resolve, reject) => waiters.push({ match, resolve, reject }));
    },
  };
};

interface DriverResult {
  accRtt: number[];
  workloadRtt: number[];
  lateness: number[];
  lost: number;
  accSent: number;
  sendSpanMs: number;
  cpuUs: number;
}

const oneFloorRun = async (nats: NatsServer, o: FloorOptions, workUs: number): Promise<FloorRun> => {
  const prefix = `bench-floor-${randomUUID().slice(0, 8)}`;
  const common = { url: nats.url, prefix, workUs };
  const relays = [
    ...Array.from({ length: ACCS }, (_, i) => bare("relay", { ...common, name: `acc${i}`, subject: `${prefix}.acc${i}` })),
    bare("relay", { ...common, name: "workload", subject: `${prefix}.workload` }),
  ];
  const all = [...relays];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const measure = async (): Promise<FloorRun> => {
    await Promise.all(relays.map((r) => r.line((l) => l === "ready")));
    const driver = bare("driver", { ...common, accs: ACCS, accRate: o.accRate, workloadRate: o.workloadRate, warmupMs: o.warmupMs, durationMs: o.durationMs, drainMs: 2000 });
    all.push(driver);
    await driver.line((l) => l === "ready");
    const pids = all.map((b) => b.child.pid);
    const sample = () => ({ at: performance.now(), machine: machineTicks(), children: pids.map(processTicks), nats: processTicks(nats.pid) });
    driver.child.stdin!.write("go\n");
    await driver.line((l) => l === "measure");
    const s0 = sample();
    await driver.line((l) => l === "end");
    const s1 = sample();
    const r = JSON.parse(await driver.line((l) => l.startsWith("{"))) as DriverResult;
    for (const x of relays) x.child.stdin!.end();
    const relayExits = await Promise.all(relays.map(async (x) => JSON.parse(await x.line((l) => l.startsWith("{"))) as { handled: number; cpuUs: number }));
    await Promise.all(all.map((b) => b.exited));
    const seconds = (s1.at - s0.at) / 1000;
    const cores = (a: number | null | undefined, b: number | null | undefined) => (a === null || a === undefined || b === null || b === undefined ? null : (b - a) / CLK_TCK / seconds);
    const childCores = pids.map((_, i) => cores(s0.children[i], s1.children[i]) ?? Number.NaN);
    const busy = s0.machine === null || s1.machine === null ? null : ((s1.machine.busy - s0.machine.busy) / (s1.machine.total - s0.machine.total)) * os.cpus().length;
    return {
      workUs,
      dispatches: r.accSent,
      achievedRate: r.accSent / (r.sendSpanMs / 1000),
      workloadRequests: r.workloadRtt.length,
      p50Ms: percentile(r.accRtt, 50),
      p90Ms: percentile(r.accRtt, 90),
      p99Ms: percentile(r.accRtt, 99),
      maxMs: percentile(r.accRtt, 100),
      workloadP50Ms: percentile(r.workloadRtt, 50),
      workloadP99Ms: percentile(r.workloadRtt, 99),
      lost: r.lost,
      sendLateP99Ms: percentile(r.lateness, 99),
      cpu: { relays: childCores.slice(0, relays.length).reduce((s, x) => s + x, 0), driver: childCores[relays.length]!, nats: cores(s0.nats, s1.nats), machineBusy: busy, windowMs: s1.at - s0.at },
      childCpuMs: [...relayExits.map((x) => x.cpuUs / 1000), r.cpuUs / 1000],
    };
  };
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`floor run ${prefix} did not finish within ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
    });
    return await Promise.race([measure(), timeout]);
  } finally {
    clearTimeout(timer);
    for (const b of all) if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill("SIGKILL");
  }
};

export const runFloor = async (nats: NatsServer, o: FloorOptions, log: (line: string) => void = () => {}): Promise<FloorResult> => {
  const runs: FloorRun[] = [];
  // variants interleaved run by run, so a slow minute of the machine does not land on one of them
  for (let i = 0; i < o.runs; i++)
    for (const workUs of o.workUs) {
      const r = await oneFloorRun(nats, o, workUs);
      log(`floor (${workUs} µs/msg) run ${i + 1}: RTT p50 ${fmt(r.p50Ms)} / p90 ${fmt(r.p90Ms)} / p99 ${fmt(r.p99Ms)} / max ${fmt(r.maxMs)} ms at ${fmt(r.achievedRate)}/s`);
      runs.push(r);
    }
  return {
    variants: o.workUs.map((workUs) => {
      const mine = runs.filter((r) => r.workUs === workUs);
      const s = (f: (r: FloorRun) => number) => summarize(mine.map(f));
      return { workUs, p50Ms: s((r) => r.p50Ms), p90Ms: s((r) => r.p90Ms), p99Ms: s((r) => r.p99Ms), maxMs: s((r) => r.maxMs) };
    }),
    runs,
  };
};

const spinText = (workUs: number) => (workUs === 0 ? "no work" : `${workUs} µs spin per message`);

export const floorRows = (r: FloorResult, o: FloorOptions): Row[] =>
  r.variants.map((v) => ({
    figure: "4 floor",
    what: `FLOOR, not the product: bare relay round trip p50 / p90 / p99 over NATS, 4 bare accelerator + workload + driver processes (plain node + NATS client), ${o.accRate} dispatches/s, ${spinText(v.workUs)} (${o.durationMs} ms)`,
    measured: `${fmt(v.p50Ms.median)} / ${fmt(v.p90Ms.median)} / ${fmt(v.p99Ms.median)} ms (p99 ${fmt(v.p99Ms.min)}–${fmt(v.p99Ms.max)})`,
    target: "—",
    met: null,
  }));

const cores = (x: number | null) => (x === null || Number.isNaN(x) ? "n/a" : x.toFixed(2));

export const floorTable = (r: FloorResult, o: FloorOptions, natsLabel: string): Table => ({
  title: `4f. Floor (not the product): dispatch → completion round trip over NATS (${natsLabel}) between bare processes that only relay (test/bench/floor-bare.mjs): 4 "accelerators" + 1 "workload" + the driver in the scheduler's place, 6 plain node processes; ${o.accRate} dispatches/s round-robin + ${o.workloadRate} workload requests/s, ≈ 220-byte JSON both ways; ${o.warmupMs} ms warm-up, then ${o.durationMs} ms recorded; ${o.runs} run${o.runs === 1 ? "" : "s"} per variant, interleaved`,
  head: ["work per msg", "run", "dispatches", "achieved /s", "RTT p50 ms", "p90 ms", "p99 ms", "max ms", "workload p50 / p99 ms", "lost", "send late p99 ms", "CPU cores: relays / driver / nats-server", "machine busy cores (all load)"],
  rows: r.runs.map((x, i) => [
    spinText(x.workUs),
    String(Math.floor(i / o.workUs.length) + 1),
    String(x.dispatches),
    fmt(x.achievedRate),
    fmt(x.p50Ms),
    fmt(x.p90Ms),
    fmt(x.p99Ms),
    fmt(x.maxMs),
    `${fmt(x.workloadP50Ms)} / ${fmt(x.workloadP99Ms)}`,
    String(x.lost),
    fmt(x.sendLateP99Ms),
    `${cores(x.cpu.relays)} / ${cores(x.cpu.driver)} / ${cores(x.cpu.nats)}`,
    `${cores(x.cpu.machineBusy)} of ${os.cpus().length}`,
  ]),
  notes: [
    ...r.variants.map((v) => `${spinText(v.workUs)}: RTT p50 ${fmtSummary(v.p50Ms, " ms")}, p90 ${fmtSummary(v.p90Ms, " ms")}, p99 ${fmtSummary(v.p99Ms, " ms")}, max ${fmtSummary(v.maxMs, " ms")} (median [min–max] over runs)`),
    "RTT = the driver's performance.now() at publishing a dispatch → at its completion reaching the subscription callback (before JSON.parse); the workload's requests are timed the same way and reported apart",
    "work per msg: every bare process spins that long per message it handles (relays per request, the driver per completion, after timing it), to mimic the real processes' CPU (--floor-work-us)",
    "CPU cores = /proc/<pid>/stat utime + stime over the recorded window ÷ its wall time (10 ms ticks); machine busy = /proc/stat, all processes including other load on the machine",
    "send late = driver's send time − its schedule (setTimeout pacing, catching up on every tick); achieved /s = dispatches ÷ first-to-last send",
  ],
});
