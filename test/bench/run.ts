/**
 * `npm run bench`: the performance figures of issue 8, each with its target and whether it is
 * met. Benchmarks, not tests: nothing here asserts a wall-clock time, and CI does not run it.
 *
 *   npm run bench                    # everything (≈ 3–5 min on the 2-core machine)
 *   npm run bench -- --only 2,5      # some figures (7: start-up of the built command)
 *   npm run bench -- --only 4 --live-flags "--quantum 0.25ms"   # figure 4 with dispatch flags (every role and the virtual run)
 *   npm run bench -- --only floor --floor-work-us 0,200,500   # figure 4's floor alone (bare relay processes, test/bench/floor.ts),
 *                                    # one variant per µs of spin per message (default 0); figure 4 runs it too
 *   npm run bench -- --quick         # fewer repetitions and shorter runs (a smoke run; charts not copied to docs/)
 *   npm run bench -- --load          # also the load case, or --only load (30 models × 64 accelerators in 8 processes over NATS,
 *                                    # 60 s simulated; ≈ 6–7 min here at the default --load-block 8, ≈ 40 min at 1;
 *                                    # --load-duration 5s --load-block 1 to change it; test/bench/load.ts)
 *
 * Each figure runs in its own process (test/bench/figure.ts). Output: the summary table and the
 * detail tables on stdout, bench.json (machine info, options, every figure's raw data) in the
 * current directory, test/bench/out/report.md (the same tables in Markdown) and the scaling chart
 * in test/bench/out/ and docs/ (perf-scaling.svg / .png).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Table from "cli-table3";
import type { BenchOptions } from "./figure";
import { exitOnSignals, track } from "./children";
import { loadAverage, machineInfo } from "./machine";
import { fmtPct } from "./stats";
import { type FigureResult, type Row, type Table as DetailTable, met } from "./types";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = resolve(HERE, "../..");

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = flag("--quick");
const only = value("--only")?.split(",").map((s) => s.trim()) ?? ["1", "2", "3", "4", "5", "6", "7"];
if (flag("--load") && !only.includes("load")) only.push("load"); // the load case: only when asked (many minutes)
const jsonPath = resolve(value("--json") ?? "bench.json");
// figure 4's dispatch flags (e.g. --live-flags "--quantum 0.25ms --queue-depth 2"): default serve's defaults
const liveFlags = value("--live-flags")?.split(/\s+/).filter((f) => f !== "");
const outDir = join(HERE, "out");
// figure 4's floor: µs of spin per message in the bare processes, one variant each (default 0)
const floorWorkUs = (value("--floor-work-us") ?? "0").split(",").map((s) => Number(s.trim()));
if (floorWorkUs.some((n) => !Number.isFinite(n) || n < 0)) throw new Error(`--floor-work-us: a comma-separated list of µs ≥ 0, not ${value("--floor-work-us")}`);
const floorRate = Number(value("--floor-rate") ?? "600");

const machine = machineInfo();
const options: BenchOptions = quick
  ? {
      sim: { runs: 2, durationMs: 500, warmupMs: 100 },
      decisions: { batches: 2, maxCalls: 5000, maxMs: 50, minCalls: 50 },
      bus: { rounds: 2, calls: 300 },
      distributed: { runs: 1, durationMs: 200 },
      live: { runs: 1, durationMs: 500, speed: 1, ...(liveFlags === undefined ? {} : { flags: liveFlags }) },
      floor: { runs: 1, durationMs: 500, warmupMs: 250, accRate: floorRate, workloadRate: 165, workUs: floorWorkUs },
      scaling: { decisionBatches: 2, decisionMaxMs: 20, simRuns: 1, simDurationMs: 50, sweepAJobs: 16, sweepBAccs: 8 },
      memory: { shortMs: 2000, longMs: 6000, shortRuns: 1, longRuns: 1 },
      startup: { runs: 2 },
      outDir,
      subtitle: `quick run on ${machine.cpus}× ${machine.cpuModel}, node ${machine.node}`,
    }
  : {
      sim: { runs: 5, durationMs: 2000, warmupMs: 300 },
      decisions: { batches: 5, maxCalls: 20_000, maxMs: 200, minCalls: 100 },
      bus: { rounds: 5, calls: 1000 },
      distributed: { runs: 5, durationMs: 500 },
      live: { runs: 5, durationMs: 2000, speed: 1, ...(liveFlags === undefined ? {} : { flags: liveFlags }) },
      floor: { runs: 3, durationMs: 2000, warmupMs: 250, accRate: floorRate, workloadRate: 165, workUs: floorWorkUs },
      scaling: { decisionBatches: 5, decisionMaxMs: 80, simRuns: 3, simDurationMs: 200, sweepAJobs: 16, sweepBAccs: 8 },
      memory: { shortMs: 10_000, longMs: 60_000, shortRuns: 3, longRuns: 1 },
      startup: { runs: 5 },
      outDir,
      docsDir: join(ROOT, "docs"),
      subtitle: `${machine.cpus}× ${machine.cpuModel}, node ${machine.node}`,
    };

const err = (line: string) => process.stderr.write(`${line}\n`);

const runFigure = (id: string, tmp: string): Promise<FigureResult> =>
  new Promise((resolveFigure, reject) => {
    const out = join(tmp, `figure-${id}.json`);
    const child = track(
      // the V8 flag the sdrm3 command sets (services/cli/bin/load.cjs): figures run as the command does
      spawn(process.execPath, ["--no-allocation-site-pretenuring", "--import", "tsx", join(HERE, "figure.ts"), id, JSON.stringify(options), out], {
        cwd: ROOT,
        stdio: ["ignore", "inherit", "inherit"],
      }),
    );
    child.on("exit", (code) => {
      let written: (FigureResult & { error?: undefined }) | { error: string } | undefined;
      try {
        written = JSON.parse(readFileSync(out, "utf8")) as FigureResult | { error: string };
      } catch {
        written = undefined;
      }
      if (code === 0 && written !== undefined && written.error === undefined) resolveFigure(written);
      else reject(new Error(written?.error ?? `exit code ${code}`));
    });
  });

/** A figure whose process failed still gets its line, saying so. */
const failedFigure = (id: string, message: string): FigureResult => ({
  id,
  rows: [{ figure: `${id} (failed)`, what: FIGURE_NAMES[id] ?? `figure ${id}`, measured: `failed: ${message.split("\n")[0]!.slice(0, 200)}`, target: "—", met: false }],
  tables: [],
  data: { error: message },
});

const FIGURE_NAMES: Readonly<Record<string, string>> = {
  "1": "simulation speed",
  "2": "decision latency",
  "3": "bus overhead and distributed speed",
  "4": "live mode: scheduler lag",
  floor: "figure 4's floor: bare relay round trip over NATS",
  "5": "scaling",
  "6": "memory",
  load: "load: 30 models × 64 accelerators in 8 processes over NATS",
};


/** Median CPU-wait shares measured by figures 1 and 2 (how much other load took the cores). */
const contention = (results: ReadonlyArray<FigureResult>): string => {
  const parts: string[] = [];
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const f1 = results.find((r) => r.id === "1")?.data as Array<{ cpuWaitShare: number | null }> | undefined;
  const w1 = (f1 ?? []).map((d) => d.cpuWaitShare).filter((x): x is number => x !== null);
  if (w1.length > 0) parts.push(`figure 1 median ${fmtPct(med(w1)!)}`);
  const f2 = results.find((r) => r.id === "2")?.data as { policies: Array<{ sizes: Array<{ cpuWait: number | null }> }> } | undefined;
  const w2 = (f2?.policies ?? []).flatMap((p) => p.sizes.map((z) => z.cpuWait)).filter((x): x is number => x !== null);
  if (w2.length > 0) parts.push(`figure 2 median ${fmtPct(med(w2)!)}`);
  return parts.join(", ");
};

/** The load case (test/bench/load.ts) in its own process; only with --load (it takes many minutes). */
const runLoadCase = (tmp: string): Promise<FigureResult> =>
  new Promise((resolveCase) => {
    const f0 = performance.now();
    const out = join(tmp, "figure-load.json");
    const duration = value("--load-duration") ?? (quick ? "2s" : "60s");
    const block = value("--load-block") ?? "8";
    err(`load case (${duration} simulated, B = ${block}) …`);
    const child = track(spawn(process.execPath, ["--import", "tsx", join(HERE, "load.ts"), "--duration", duration, "--block", block, "--out", out], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] }));
    child.on("exit", (code) => {
      let written: FigureResult | { error: string } | undefined;
      try {
        written = JSON.parse(readFileSync(out, "utf8")) as FigureResult | { error: string };
      } catch {
        written = undefined;
      }
      err(`load case done in ${((performance.now() - f0) / 1000).toFixed(1)} s`);
      if (written !== undefined && !("error" in written)) resolveCase(written);
      else resolveCase(failedFigure("load", written?.error ?? `exit code ${code}`));
    });
  });

const summaryHead = ["figure", "what", "measured (median [min–max])", "target", "met"];
const summaryRow = (r: Row) => [r.figure, r.what, r.measured, r.target, met(r.met)];

const printTable = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const t = new Table({ head: [...head], style: { head: [], border: [] }, wordWrap: true });
  for (const r of rows) t.push([...r]);
  return t.toString();
};

const mdEscape = (s: string) => s.replace(/\|/g, "\\|");
const markdownTable = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [`| ${head.map(mdEscape).join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(mdEscape).join(" | ")} |`)].join("\n");

const main = async () => {
  const started = new Date();
  const t0 = performance.now();
  err(`sdrm3 bench${quick ? " (quick)" : ""}: figures ${only.join(", ")}`);
  err(`machine: ${machine.cpus}× ${machine.cpuModel}, ${machine.totalMemoryMB} MB, ${machine.os}, node ${machine.node}, load ${machine.loadAverageAtStart.join(" ")}, git ${machine.git}`);
  const tmp = mkdtempSync(join(tmpdir(), "sdrm3-bench-"));
  exitOnSignals();
  process.once("exit", () => rmSync(tmp, { recursive: true, force: true }));
  const results: FigureResult[] = [];
  try {
    for (const id of only) {
      const f0 = performance.now();
      err(`figure ${id} …`);
      const r = id === "load" ? await runLoadCase(tmp) : await runFigure(id, tmp).catch((e: unknown) => failedFigure(id, e instanceof Error ? e.message : String(e)));
      results.push(r);
      err(`figure ${id} done in ${((performance.now() - f0) / 1000).toFixed(1)} s`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  const loadAtEnd = loadAverage();
  const rows = results.flatMap((r) => r.rows);
  const details: DetailTable[] = results.flatMap((r) => r.tables);

  const waits = contention(results);
  const header = [
    `sdrm3 bench — ${started.toISOString()}, ${seconds.toFixed(0)} s${quick ? " (quick: fewer repetitions, shorter runs)" : ""}`,
    `machine: ${machine.cpus}× ${machine.cpuModel}, ${machine.totalMemoryMB} MB RAM, ${machine.os}, node ${machine.node}, git ${machine.git}`,
    `load average at start ${machine.loadAverageAtStart.join(" / ")}, at end ${loadAtEnd.join(" / ")} (1 / 5 / 15 min)${waits === "" ? "" : `; CPU wait (bench thread runnable, cores taken by other load): ${waits}`}`,
  ];
  const out: string[] = [...header, "", printTable(summaryHead, rows.map(summaryRow))];
  for (const d of details) {
    out.push("", d.title, printTable(d.head, d.rows));
    for (const n of d.notes ?? []) out.push(`  ${n}`);
  }
  process.stdout.write(`${out.join("\n")}\n`);

  const md: string[] = [...header.map((h) => `${h}  `), "", markdownTable(summaryHead, rows.map(summaryRow))];
  for (const d of details) {
    md.push("", `**${d.title}**`, "", markdownTable(d.head, d.rows));
    if (d.notes !== undefined && d.notes.length > 0) md.push("", ...d.notes.map((n) => `- ${n}`));
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "report.md"), `${md.join("\n")}\n`);
  writeFileSync(
    jsonPath,
    `${JSON.stringify(
      {
        command: `npm run bench${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`,
        startedAt: started.toISOString(),
        seconds,
        quick,
        machine,
        loadAverageAtEnd: loadAtEnd,
        cpuWait: waits,
        options,
        summary: rows,
        figures: results,
      },
      null,
      2,
    )}\n`,
  );
  err(`wrote ${jsonPath} and ${join(outDir, "report.md")}`);
};

await main();
