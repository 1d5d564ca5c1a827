/**
 * Runs one figure of the benchmark in its own process (so that JIT state, heaps and peaks of one
 * figure never leak into another) and writes its FigureResult as JSON to <out file>.
 *
 *   node --import tsx test/bench/figure.ts <id> <options JSON> <out file>
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmtUs, runBusOverhead } from "./bus";
import { exitOnSignals, track } from "./children";
import { scalingChartSpec, renderChart } from "./chart";
import { runDecisionLatency } from "./decisions";
import { runDistributed } from "./distributed";
import { LIVE_DISPATCH_DEFAULTS } from "../../services/cli/src/flags";
import { type FloorOptions, floorRows, floorTable, runFloor } from "./floor";
import { LIVE_HARDWARE, type LiveOptions, runLive } from "./live";
import { type NatsServer, startNats } from "./nats-server";
import { runScaling, type GridCell, type SimPoint } from "./scaling";
import { runSimSpeed } from "./sim-speed";
import { runStartup } from "./startup";
import { fmt, fmtSummary } from "./stats";
import type { FigureResult, Row } from "./types";

const HERE = fileURLToPath(new URL(".", import.meta.url));

export interface BenchOptions {
  readonly sim: { runs: number; durationMs: number; warmupMs: number };
  readonly decisions: { batches: number; maxCalls: number; maxMs: number; minCalls: number };
  readonly bus: { rounds: number; calls: number };
  readonly distributed: { runs: number; durationMs: number };
  readonly live: LiveOptions;
  /** Figure 4's floor: the same message pattern between bare relay processes (./floor.ts). */
  readonly floor: FloorOptions;
  readonly scaling: { decisionBatches: number; decisionMaxMs: number; simRuns: number; simDurationMs: number; sweepAJobs: number; sweepBAccs: number };
  readonly memory: { shortMs: number; longMs: number; shortRuns: number; longRuns: number };
  readonly startup: { runs: number };
  /** Where charts go; `docsDir` too when set (full runs only). */
  readonly outDir: string;
  readonly docsDir?: string;
  readonly subtitle: string;
}

const log = (line: string) => process.stderr.write(`  ${line}\n`);

/**
 * Simulated time of figure 3c's runs, ms: `sdrm3 run`'s default duration. Every process runs cold
 * code (JIT) for its first second or so, which weighs on a short run: 3-s runs read lower.
 */
const QUANTUM_RUN_MS = 10_000;

/** Figure 3b's and 3c's table rows: a distributed run's speed, times and decisions (median [min–max]). */
const distributedRows = (d: Awaited<ReturnType<typeof runDistributed>>): string[][] => [
  ["simulated s / wall s (first task command → run finished)", fmtSummary(d.speed, "×")],
  ["run wall time (first task command → finished)", fmtSummary(d.runMs, " ms")],
  ["scheduler process spawn → exit (start-up, registration, run, output)", fmtSummary(d.schedulerWallMs, " ms")],
  ["kernel decisions per run", String(d.runs[0]?.decisions ?? "?")],
  ["wall µs per decision (median run)", fmt((d.runMs.median * 1000) / (d.runs[0]?.decisions ?? Number.NaN))],
];

const busFigure = async (o: BenchOptions): Promise<FigureResult> => {
  const nats = await startNats();
  log(`NATS: ${nats.url} (${nats.source})`);
  try {
    const bus = await runBusOverhead(nats, o.bus);
    log(`dispatch p50 ${fmt(bus.dispatchP50Us.median)} µs, raw p50 ${fmt(bus.rawP50Us.median)} µs`);
    const dist = await runDistributed(nats, { ...o.distributed, scenario: "AR_Assistant", hardware: "Quad_8K/WS_OS_WS_OS" });
    // issue 13's figure: the same topology at the live defaults' quantum, long enough to be mostly run
    const quantum = { ...o.distributed, durationMs: Math.max(o.distributed.durationMs, QUANTUM_RUN_MS), scenario: "AR_Assistant", hardware: "Quad_8K/WS_OS_WS_OS", dispatch: ["--quantum", `${LIVE_DISPATCH_DEFAULTS.quantumMs}ms`] };
    const distQ = await runDistributed(nats, quantum);
    return {
      id: "3",
      rows: [
        {
          figure: "3 bus",
          what: "NATS dispatch round trip / raw request-reply, p50 ratio",
          measured: `${fmt(bus.ratio.median)} [${fmt(bus.ratio.min)}–${fmt(bus.ratio.max)}] (${fmt(bus.dispatchP50Us.median)} vs ${fmt(bus.rawP50Us.median)} µs)`,
          target: "≤ 1.5",
          met: bus.ratio.median <= 1.5,
        },
        {
          figure: "3 bus",
          what: `distributed AR_Assistant, 4 accelerator processes (${o.distributed.durationMs} ms sim)`,
          measured: `${fmtSummary(dist.speed, "×")} real time`,
          target: "≥ 1×",
          met: dist.speed.median >= 1,
        },
        {
          figure: "3 bus",
          what: `distributed AR_Assistant at a ${LIVE_DISPATCH_DEFAULTS.quantumMs}-ms quantum (live runs' default), 4 accelerator processes (${quantum.durationMs} ms sim)`,
          measured: `${fmtSummary(distQ.speed, "×")} real time`,
          target: "≥ 2×",
          met: distQ.speed.median >= 2,
        },
      ],
      tables: [
        {
          title: `3. Bus overhead over NATS on loopback (${nats.source === "env (NATS_URL)" ? nats.url : "nats-server started for the bench"}); median [min–max] over ${o.bus.rounds} rounds of ${o.bus.calls} sequential requests`,
          head: ["measure", "p50", "p99"],
          rows: [
            ["dispatch: scheduler side → hostAccelerator (decode, XState) → block.result, decoded", fmtUs(bus.dispatchP50Us), fmtUs(bus.dispatchP99Us)],
            [`raw NATS request/reply (${bus.requestBytes} B request, ${bus.replyBytes} B reply)`, fmtUs(bus.rawP50Us), fmtUs(bus.rawP99Us)],
            ["ratio of p50s (per round)", `${fmt(bus.ratio.median)} [${fmt(bus.ratio.min)}–${fmt(bus.ratio.max)}]`, ""],
          ],
          notes: ["requester and responder are separate processes (this one and test/bench/bus-responder.ts); same payload sizes both ways"],
        },
        {
          title: `3b. Distributed run: AR_Assistant on Quad_8K/WS_OS_WS_OS, sdrm3, B = 1, ${o.distributed.durationMs} ms simulated; scheduler, workload and 4 accelerator processes (sdrm3 serve) over NATS; ${o.distributed.runs} runs`,
          head: ["measure", "median [min–max]"],
          rows: distributedRows(dist),
          notes: [`a short simulated duration (${o.distributed.durationMs} ms) keeps the bench within its time budget; AR_Assistant's slowest models run at 3 FPS`],
        },
        {
          title: `3c. The same at a ${LIVE_DISPATCH_DEFAULTS.quantumMs}-ms quantum (the dispatch default of live runs, LIVE_DISPATCH_DEFAULTS), ${quantum.durationMs} ms simulated; ${o.distributed.runs} runs`,
          head: ["measure", "median [min–max]"],
          rows: distributedRows(distQ),
          notes: ["issue 13's target: ≥ 2× real time in virtual time over NATS"],
        },
      ],
      data: { nats: nats.source, bus, distributed: { ...dist, options: o.distributed }, distributedQuantum: { ...distQ, options: quantum } },
    };
  } finally {
    await nats.stop();
  }
};

interface MemSample {
  durationMs: number;
  wallMs: number;
  decisions: number;
  rssBeforeRunMB: number;
  peakRssMB: number;
  peakSource: string;
}

const memoryChild = (durationMs: number): Promise<MemSample> =>
  new Promise((resolve, reject) => {
    const child = track(
      spawn(process.execPath, ["--import", "tsx", join(HERE, "memory-child.ts"), "AR_Assistant", "Quad_8K/WS_OS_WS_OS", String(durationMs)], {
        stdio: ["ignore", "pipe", "inherit"],
      }),
    );
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop()!) as MemSample) : reject(new Error(`memory child exited with ${code}`))));
  });

const memoryFigure = async (o: BenchOptions): Promise<FigureResult> => {
  const shorts: MemSample[] = [];
  const longs: MemSample[] = [];
  for (let i = 0; i < Math.max(o.memory.shortRuns, o.memory.longRuns); i++) {
    if (i < o.memory.shortRuns) shorts.push(await memoryChild(o.memory.shortMs));
    if (i < o.memory.longRuns) longs.push(await memoryChild(o.memory.longMs));
  }
  log(`memory: ${o.memory.shortMs / 1000} s peaks ${shorts.map((m) => fmt(m.peakRssMB)).join(", ")} MB; ${o.memory.longMs / 1000} s peaks ${longs.map((m) => fmt(m.peakRssMB)).join(", ")} MB`);
  const med = (xs: MemSample[], f: (m: MemSample) => number) => xs.map(f).sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const shortPeak = med(shorts, (m) => m.peakRssMB);
  const longPeak = med(longs, (m) => m.peakRssMB);
  const growth = longPeak - shortPeak;
  // flat: the 6× longer run needs at most 10 % more peak memory
  const flat = growth <= 0.1 * shortPeak;
  const s = `${o.memory.shortMs / 1000} s`;
  const l = `${o.memory.longMs / 1000} s`;
  const row = (label: string, xs: MemSample[]) => [
    label,
    xs.map((m) => fmt(m.peakRssMB)).join(", "),
    xs.map((m) => fmt(m.rssBeforeRunMB)).join(", "),
    xs.map((m) => fmt(m.peakRssMB - m.rssBeforeRunMB)).join(", "),
    xs.map((m) => fmt(m.wallMs / 1000)).join(", "),
    String(xs[0]!.decisions),
  ];
  return {
    id: "6",
    rows: [
      { figure: "6 memory", what: `peak RSS, AR_Assistant ${l} in-process`, measured: `${fmt(longPeak)} MB`, target: "≤ 300 MB", met: longPeak <= 300 },
      { figure: "6 memory", what: `growth with run length (${s} → ${l})`, measured: `${fmt(shortPeak)} → ${fmt(longPeak)} MB (${growth >= 0 ? "+" : ""}${fmt(growth)} MB)`, target: "flat (≤ +10 %)", met: flat },
    ],
    tables: [
      {
        title: `6. Memory: AR_Assistant on Quad_8K/WS_OS_WS_OS, sdrm3, B = 1, in-process, one fresh process per measurement (${o.memory.shortRuns} × ${s}, ${o.memory.longRuns} × ${l}; median)`,
        head: ["run", "peak RSS MB", "RSS before run MB", "peak − before MB", "wall s", "decisions"],
        rows: [row(s, shorts), row(l, longs)],
        notes: [`peak = ${shorts[0]!.peakSource} of the child; "before run" = RSS once node, tsx, the modules and the XRBench data are loaded`],
      },
    ],
    data: { shorts, longs, shortPeakMB: shortPeak, longPeakMB: longPeak, growthMB: growth, flat },
  };
};

const scalingFigure = async (o: BenchOptions): Promise<FigureResult> => {
  const r = await runScaling(o.scaling);
  const d = r.data as { grid: GridCell[]; sims: SimPoint[] };
  const { svg, png } = await renderChart(scalingChartSpec(d.grid, d.sims, o.subtitle));
  const written: string[] = [];
  for (const dir of [o.outDir, ...(o.docsDir === undefined ? [] : [o.docsDir])]) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "perf-scaling.svg"), svg);
    writeFileSync(join(dir, "perf-scaling.png"), png);
    written.push(join(dir, "perf-scaling.svg"), join(dir, "perf-scaling.png"));
  }
  return { ...r, data: { ...(r.data as object), charts: written } };
};

const liveFigure = async (o: BenchOptions): Promise<FigureResult> => {
  const nats = await startNats();
  log(`NATS: ${nats.url} (${nats.source})`);
  try {
    const r = await runLive(nats, o.live);
    const floor = await runFloor(nats, o.floor, log);
    const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;
    return {
      id: "4",
      rows: r.scenarios.flatMap((sc): Row[] => [
        {
          figure: "4 live",
          what: `scheduler lag p50 / p99, ${sc.scenario} over NATS at speed ${o.live.speed}, 4 accelerator processes (${o.live.durationMs} ms)`,
          measured: `${fmt(sc.p50Ms.median)} / ${fmt(sc.p99Ms.median)} ms (p99 ${fmt(sc.p99Ms.min)}–${fmt(sc.p99Ms.max)})`,
          target: "p99 ≤ 2 ms",
          met: sc.p99Ms.median <= 2,
        },
        {
          figure: "4 live",
          what: `UXCost over NATS at speed ${o.live.speed} against the same spec in virtual time, ${sc.scenario}`,
          measured: sc.uxCostExcess === null ? "no UXCost" : `${pct(sc.uxCostExcess.median)} (${pct(sc.uxCostExcess.min)} to ${pct(sc.uxCostExcess.max)})`,
          target: "within 5%",
          met: sc.uxCostExcess !== null && Math.abs(sc.uxCostExcess.median) <= 0.05,
        },
      ]).concat(floorRows(floor, o.floor)),
      tables: [
        {
          title: `4. Live mode over NATS: ${LIVE_HARDWARE}, sdrm3, ${o.live.flags === undefined || o.live.flags.length === 0 ? "serve's defaults" : o.live.flags.join(" ")}, speed ${o.live.speed}, ${o.live.durationMs} ms; scheduler --clock live, workload, 4 accelerator processes (--slot accN); ${o.live.runs} runs per scenario`,
          head: ["run", "scenario", "blocks", "lag p50 ms", "lag p99 ms", "lag max ms", "lag share", "beyond tolerance", "miss rate", "UXCost", "virtual miss rate", "virtual UXCost"],
          rows: r.runs.map((x, i) => [
            String(i + 1), x.scenario, String(x.blocks), fmt(x.p50Ms), fmt(x.p99Ms), fmt(x.maxMs), `${(100 * x.share).toFixed(1)}%`, x.beyondTolerance === null ? "-" : String(x.beyondTolerance), `${(100 * x.missRate).toFixed(1)}%`, x.uxCost === null ? "-" : fmt(x.uxCost),
            `${(100 * x.virtualMissRate).toFixed(1)}%`, x.virtualUxCost === null ? "-" : fmt(x.virtualUxCost),
          ]),
          notes: [
            "lag = when a block retired (its accelerator free again) − its due completion, ms of run time (docs/live.md); from the scheduler's --json output",
            "lag share = the summed lag over the accelerators' run time (4 × the duration)",
            "beyond tolerance = blocks retired later than the run's timing tolerance (default 5 ms) after their due completion: only their lateness beyond it moves the run from its virtual twin (docs/live.md \"Timing tolerance\")",
            "virtual = `sdrm3 run` with the same scenario, hardware, policy, duration and the live run's dispatch settings (live.dispatch) in one process (virtual time)",
          ],
        },
        floorTable(floor, o.floor, natsLabel(nats)),
      ],
      data: { ...r, floor: { ...floor, options: o.floor } },
    };
  } finally {
    await nats.stop();
  }
};

const natsLabel = (nats: NatsServer) => (nats.source === "env (NATS_URL)" ? nats.url : "the figure's nats-server");

/** The floor alone (`npm run bench -- --only floor`): figure 4's floor rows and table, on a nats-server of its own. */
const floorFigure = async (o: BenchOptions): Promise<FigureResult> => {
  const nats = await startNats();
  log(`NATS: ${nats.url} (${nats.source})`);
  try {
    const floor = await runFloor(nats, o.floor, log);
    return { id: "floor", rows: floorRows(floor, o.floor), tables: [floorTable(floor, o.floor, natsLabel(nats))], data: { ...floor, options: o.floor } };
  } finally {
    await nats.stop();
  }
};

const run = async (id: string, o: BenchOptions): Promise<FigureResult> => {
  switch (id) {
    case "1":
      return runSimSpeed(o.sim);
    case "2":
      return runDecisionLatency(o.decisions);
    case "3":
      return busFigure(o);
    case "4":
      return liveFigure(o);
    case "floor":
      return floorFigure(o);
    case "5":
      return scalingFigure(o);
    case "6":
      return memoryFigure(o);
    case "7":
      return runStartup(o.startup);
    default:
      throw new Error(`unknown figure ${id}`);
  }
};

const [id, optionsJson, outFile] = process.argv.slice(2);
if (id === undefined || optionsJson === undefined || outFile === undefined) throw new Error("usage: figure.ts <id> <options JSON> <out file>");
exitOnSignals();
const t0 = performance.now();
try {
  const result = await run(id, JSON.parse(optionsJson) as BenchOptions);
  writeFileSync(outFile, JSON.stringify({ ...result, seconds: (performance.now() - t0) / 1000 }));
} catch (e) {
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`figure ${id} failed: ${e instanceof Error ? (e.stack ?? message) : message}\n`);
  writeFileSync(outFile, JSON.stringify({ error: message }));
  process.exitCode = 2;
}
