/**
 * Load case (issue 7, "Load"): 30 synthetic XRBench models on 64 accelerators held by 8 accelerator
 * processes (`sdrm3 serve accelerator --slots 8`), a workload and a scheduler process, over NATS,
 * virtual time, sdrm3 (topology: test/load/topology.ts). Reports the wall time, simulated s / wall s,
 * whether the accounting invariant held, and every process's peak RSS.
 *
 *   node --import tsx test/bench/load.ts [--duration 60s] [--block 8] [--out figure.json] [--profile dir]
 *   npm run bench -- --load [--load-duration 60s]        # the same, as part of the bench
 *
 * Run alone it prints the tables; with --out it writes the FigureResult for test/bench/run.ts;
 * --profile writes the scheduler process's CPU profile (node --cpu-prof) into dir (summarise it
 * with `node --import tsx test/bench/profile.ts --file <dir>/<file>.cpuprofile`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Table from "cli-table3";
import { runLoad, type LoadResult } from "../load/topology";
import { exitOnSignals } from "./children";
import { loadAverage } from "./machine";
import { startNats } from "./nats-server";
import { cpuWaitMeter, fmt, fmtPct } from "./stats";
import type { FigureResult } from "./types";

const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const parseMs = (text: string): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (m === null) throw new Error(`--duration: expected e.g. 60s or 500ms, got '${text}'`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as "ms" | "s" | "m"];
};

const durationMs = parseMs(value("--duration") ?? "60s");
const block = Number(value("--block") ?? "8");
const outFile = value("--out");
const profileDir = value("--profile");
const timeoutMs = parseMs(value("--timeout") ?? "180m");

const log = (line: string) => process.stderr.write(`  ${line}\n`);

const figure = (r: LoadResult, extra: { loadBefore: number[]; loadAfter: number[]; cpuWait: number | null }): FigureResult => {
  const speed = durationMs / r.runMs;
  const byRole = (role: string) => r.memory.filter((m) => m.role === role).map((m) => m.peakRssMB);
  const accs = byRole("accelerator");
  const maxAcc = Math.max(...accs);
  const mb = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "not reported" : `${fmt(x)} MB`);
  const sim = `${durationMs / 1000} s sim`;
  const what = `30 models × 64 accelerators (8 processes × 8), NATS, B = ${block}, ${sim}`;
  return {
    id: "load",
    rows: [
      { figure: "load", what: `${what}: completes, accounting invariant`, measured: r.invariantOk ? `OK (${r.summary.released} frames, ${r.decisions} decisions)` : `VIOLATED: ${r.invariantProblems[0]}`, target: "completes, invariant intact", met: r.invariantOk },
      { figure: "load", what: `${what}: wall time, sim speed`, measured: `${fmt(r.runMs / 1000)} s run (scheduler process ${fmt(r.schedulerWallMs / 1000)} s), ${fmt(speed)}× real time`, target: "—", met: null },
      {
        figure: "load",
        what: `${what}: peak RSS per process`,
        measured: `scheduler ${mb(byRole("scheduler")[0])}, workload ${mb(byRole("workload")[0])}, accelerators ${fmt(Math.min(...accs))}–${fmt(maxAcc)} MB`,
        target: "reported",
        met: r.memory.every((m) => Number.isFinite(m.peakRssMB)),
      },
    ],
    tables: [
      {
        title: `Load: ${r.scenario} (30 models, sdrm3 gen scenario --models 30 --seed 7) on Synthetic_64 (sdrm3 gen hardware --accelerators 64), sdrm3, B = ${block}, ${sim}, virtual time; 8 × serve accelerator --slots 8, serve workload, serve scheduler over NATS`,
        head: ["measure", "value"],
        rows: [
          ["start-up: 8 accelerator processes (64 slots claimed) and the workload ready", `${fmt(r.startupMs / 1000)} s`],
          ["run: first task command → finished", `${fmt(r.runMs / 1000)} s`],
          ["scheduler process: every process ready → exit", `${fmt(r.schedulerWallMs / 1000)} s`],
          ["simulated s / wall s (run)", `${fmt(speed)}×`],
          ["kernel decisions; wall µs per decision", `${r.decisions}; ${fmt((r.runMs * 1000) / r.decisions)}`],
          ["frames released / on time / late / dropped / unfinished", `${r.summary.released} / ${r.summary.onTime} / ${r.summary.late} / ${r.summary.dropped} / ${r.summary.unfinished}`],
          ["accounting invariant (per model and in total)", r.invariantOk ? "OK" : r.invariantProblems.join("; ")],
          ["UXCost; deadline-miss rate", `${fmt(r.summary.uxCost)}; ${fmtPct(r.summary.deadlineMissRate)}`],
          ["slots per accelerator process", r.slotsPerProcess.join(", ")],
          ...r.memory.map((m) => [`peak RSS: ${m.name}`, mb(m.peakRssMB)]),
          ["load average before / after (1 / 5 / 15 min)", `${extra.loadBefore.join(" / ")}; ${extra.loadAfter.join(" / ")}`],
          ["CPU wait of this (observer) process", fmtPct(extra.cpuWait)],
        ],
        notes: ["peak RSS = getrusage maxRSS (VmHWM) printed by each process at exit (`sdrm3 serve … --report-memory`)"],
      },
    ],
    data: { ...r, durationMs, block, speed, ...extra },
  };
};

const print = (f: FigureResult) => {
  for (const t of f.tables) {
    const table = new Table({ head: [...t.head], style: { head: [], border: [] } });
    for (const row of t.rows) table.push([...row]);
    process.stdout.write(`${t.title}\n${table.toString()}\n`);
  }
};

exitOnSignals();
const dir = mkdtempSync(join(tmpdir(), "sdrm3-load-"));
const nats = await startNats();
try {
  log(`load: NATS ${nats.url} (${nats.source}); ${durationMs} ms simulated, B = ${block}`);
  const loadBefore = loadAverage();
  const meter = cpuWaitMeter();
  const r = await runLoad(nats, { durationMs, models: 30, seed: 7, accelerators: 64, processes: 8, block, dir, timeoutMs, log,
    ...(profileDir === undefined ? {} : { schedulerNodeArgs: ["--cpu-prof", "--cpu-prof-dir", profileDir] }) });
  const f = figure(r, { loadBefore, loadAfter: loadAverage(), cpuWait: meter.stop() });
  if (outFile !== undefined) writeFileSync(outFile, JSON.stringify(f));
  else print(f);
  if (!r.invariantOk) process.exitCode = 1;
} catch (e) {
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`load case failed: ${message}\n`);
  if (outFile !== undefined) writeFileSync(outFile, JSON.stringify({ error: message }));
  process.exitCode = 2;
} finally {
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
}
