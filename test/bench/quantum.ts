/**
 * Quantum blocks (issue 13, part 3; docs/live.md "Quantum blocks"): UXCost and miss rate of sdrm3
 * in virtual time for dispatch quanta 0 (B = 1), 0.1, 0.25, 0.5, 1 and 2 ms, over the paper's 5
 * scenarios × {Dual_4K/WS_OS, Quad_8K/WS_OS_WS_OS} × 3 seeds, with the blocks' mean length (layers
 * and ms) and the number of blocks (the messages a distributed run pays a round trip for).
 *
 *   nice -n 10 node --import tsx test/bench/quantum.ts [--duration 10s] [--seeds 1,2,3]
 *     [--quanta 0,0.1,0.25,0.5,1,2] [--depths 1] [--chains 0] [--lookahead ms] [--policy sdrm3] [--hardware Dual_4K/WS_OS,…] [--engine direct|actors] [--json out.json]
 *
 * --depths: dispatch queue depths (`--queue-depth`); a depth other than 1 is passed to the run spec
 * as `queueDepth` (docs/live.md "Dispatch queues").
 * --chains: chain budgets, ms (`--chain`, bounded chains: docs/architecture.md "Dispatch queues");
 * a budget above 0 runs at depths above 1 only (skipped at depth 1). With several budgets a summary
 * table (budget × hardware × quantum) comes first.
 * --engine: direct (default: the scheduler kernel fed by the actors' pure logic, identical results,
 * test/direct-engine.test.ts and test/quantum.test.ts) or actors (the emulated system, slower).
 * Prints markdown tables (stdout); progress on stderr.
 */
import { writeFileSync } from "node:fs";
import { type ResolvedRun, type RunResult, type RunSpec, resolveRunSpec, runScenario, simulateDirect } from "@sdrm3/shared/runtime";
import { geomean } from "@sdrm3/shared/domain";
import type { RunEvent } from "@sdrm3/shared/contracts";

/** The SDRM3 paper's 5 scenarios (`sdrm3 compare --scenarios paper`, services/cli/src/compare.ts PAPER_SCENARIOS). */
const PAPER_SCENARIOS = ["VR_gaming", "AR_gaming", "social_interactionA", "outdoor_activity_A", "AR_Assistant"] as const;
const ALL_HARDWARE = ["Dual_4K/WS_OS", "Quad_8K/WS_OS_WS_OS"] as const;

const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const list = (name: string, fallback: string): number[] =>
  (value(name) ?? fallback).split(",").map((x) => {
    const n = Number(x);
    if (x.trim() === "" || !Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a comma-separated list of numbers, got '${value(name)}'`);
    return n;
  });
const parseMs = (text: string): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  if (m === null) throw new Error(`--duration: expected e.g. 10s or 500ms, got '${text}'`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
};

const durationMs = parseMs(value("--duration") ?? "10s");
const seeds = list("--seeds", "1,2,3");
const quanta = list("--quanta", "0,0.1,0.25,0.5,1,2");
const depths = list("--depths", "1");
const chains = list("--chains", "0");
/** --lookahead ms: the look-ahead of every run with a queue (`--lookahead`, docs/architecture.md "Dispatch queues"); default none. */
const lookahead = value("--lookahead") === undefined ? undefined : list("--lookahead", "0")[0];
const engine = value("--engine") ?? "direct";
if (engine !== "direct" && engine !== "actors") throw new Error(`--engine: expected direct or actors, got '${engine}'`);
const jsonOut = value("--json");
const policy = value("--policy") ?? "sdrm3";
const HARDWARE = (value("--hardware") ?? ALL_HARDWARE.join(",")).split(",");

interface Cell {
  readonly scenario: string;
  readonly hardware: string;
  readonly quantumMs: number;
  readonly depth: number;
  readonly chainMs: number;
  /** Per seed. */
  readonly uxCost: Array<number | null>;
  readonly missRate: number[];
  readonly blocks: number[];
  readonly blockLayers: number[];
  readonly blockMs: number[];
}

/** The run spec of one cell; a depth other than 1 needs a spec that resolves `queueDepth`. */
const resolve = (scenario: string, hardware: string, quantumMs: number, depth: number, chainMs: number, seed: number): ResolvedRun => {
  const spec: RunSpec & { queueDepth?: number } = {
    scenario,
    hardware,
    policy,
    durationMs,
    seed,
    ...(quantumMs > 0 ? { quantumMs } : { blockSize: 1 }),
    ...(depth === 1 ? {} : { queueDepth: depth }),
    ...(chainMs > 0 ? { chainMs } : {}),
    ...(depth > 1 && lookahead !== undefined ? { lookaheadMs: lookahead } : {}),
  };
  const resolved = resolveRunSpec(spec);
  if (depth !== 1 && (resolved as { queueDepth?: number }).queueDepth !== depth) {
    throw new Error(`--depths ${depth}: this sdrm3's run spec has no dispatch queues (queueDepth); run with --depths 1`);
  }
  return resolved;
};

const runOne = async (opts: ResolvedRun): Promise<{ result: RunResult; blocks: number; layers: number; ms: number }> => {
  let blocks = 0;
  let layers = 0;
  let ms = 0;
  const onEvent = (e: RunEvent) => {
    if (e._tag !== "block.dispatched") return;
    blocks++;
    layers += e.layerCount;
    ms += e.completesAt - e.at;
  };
  const result = engine === "direct" ? simulateDirect({ ...opts, onEvent }) : await runScenario({ ...opts, onEvent });
  return { result, blocks, layers, ms };
};

const mean = (xs: ReadonlyArray<number>): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const f3 = (x: number | null): string => (x === null ? "—" : x.toFixed(3));
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const qLabel = (q: number): string => (q === 0 ? "0 (B = 1)" : `${q} ms`);

const main = async (): Promise<void> => {
  const cells: Cell[] = [];
  // (depth, chain budget) pairs: a chain needs a queue
  const setups = depths.flatMap((depth) => chains.filter((c) => c === 0 || depth > 1).map((chainMs) => ({ depth, chainMs })));
  const total = PAPER_SCENARIOS.length * HARDWARE.length * quanta.length * setups.length * seeds.length;
  let done = 0;
  const t0 = performance.now();
  for (const { depth, chainMs } of setups) {
    for (const hardware of HARDWARE) {
      for (const scenario of PAPER_SCENARIOS) {
        for (const quantumMs of quanta) {
          const cell: Cell = { scenario, hardware, quantumMs, depth, chainMs, uxCost: [], missRate: [], blocks: [], blockLayers: [], blockMs: [] };
          for (const seed of seeds) {
            const r = await runOne(resolve(scenario, hardware, quantumMs, depth, chainMs, seed));
            cell.uxCost.push(r.result.summary.uxCost);
            cell.missRate.push(r.result.summary.deadlineMissRate);
            cell.blocks.push(r.blocks);
            cell.blockLayers.push(r.blocks === 0 ? 0 : r.layers / r.blocks);
            cell.blockMs.push(r.blocks === 0 ? 0 : r.ms / r.blocks);
            done++;
          }
          cells.push(cell);
          process.stderr.write(`  ${done}/${total} ${scenario} ${hardware} q=${quantumMs} d=${depth} chain=${chainMs}: UXCost ${f3(geomean(cell.uxCost))} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
        }
      }
    }
  }

  const out: string[] = [];
  out.push(
    `${policy}, virtual time, ${engine} engine, ${durationMs / 1000} s per run, seeds ${seeds.join(",")}; UXCost: geomean over the seeds ` +
      `(per scenario) and over scenarios × seeds (summary); miss rate, blocks and block lengths: means.` +
      (lookahead === undefined ? "" : ` Runs with a queue have a look-ahead of ${lookahead} ms.`),
    "",
  );
  if (chains.length > 1) {
    out.push("Summary: UXCost (geomean over scenarios × seeds) and miss rate (mean), per queue depth and chain budget.", "");
    const cols = HARDWARE.flatMap((h) => quanta.map((q) => ({ h, q })));
    out.push(`| depth | chain | ${cols.map((c) => `${c.h} q=${c.q} ms`).join(" | ")} |`);
    out.push(`|---|---|${cols.map(() => "---").join("|")}|`);
    for (const { depth, chainMs } of setups) {
      const row = cols.map(({ h, q }) => {
        const cs = cells.filter((c) => c.hardware === h && c.quantumMs === q && c.depth === depth && c.chainMs === chainMs);
        return `${f3(geomean(cs.flatMap((c) => c.uxCost)))} (${pct(mean(cs.flatMap((c) => c.missRate)))})`;
      });
      out.push(`| ${depth} | ${chainMs === 0 ? "off" : `${chainMs} ms`} | ${row.join(" | ")} |`);
    }
    out.push("");
  }
  for (const { depth, chainMs } of setups) {
    const sel = (c: Cell) => c.depth === depth && c.chainMs === chainMs;
    if (setups.length > 1) out.push(`### Queue depth ${depth}${chainMs === 0 ? "" : `, chain ${chainMs} ms`}`, "");
    out.push(`| quantum | ${HARDWARE.map((h) => `${h} UXCost | miss | blocks/s | layers/block | ms/block`).join(" | ")} |`);
    out.push(`|---|${HARDWARE.map(() => "---|---|---|---|---").join("|")}|`);
    for (const q of quanta) {
      const row = HARDWARE.map((h) => {
        const cs = cells.filter((c) => c.hardware === h && c.quantumMs === q && sel(c));
        const ux = geomean(cs.flatMap((c) => c.uxCost));
        const miss = mean(cs.flatMap((c) => c.missRate));
        const blocksPerS = mean(cs.flatMap((c) => c.blocks)) / (durationMs / 1000);
        return `${f3(ux)} | ${pct(miss)} | ${blocksPerS.toFixed(0)} | ${mean(cs.flatMap((c) => c.blockLayers)).toFixed(1)} | ${mean(cs.flatMap((c) => c.blockMs)).toFixed(3)}`;
      });
      out.push(`| ${qLabel(q)} | ${row.join(" | ")} |`);
    }
    out.push("", "Per scenario: UXCost (geomean over seeds) and miss rate.", "");
    out.push(`| scenario | hardware | ${quanta.map(qLabel).join(" | ")} |`);
    out.push(`|---|---|${quanta.map(() => "---").join("|")}|`);
    for (const hardware of HARDWARE) {
      for (const scenario of PAPER_SCENARIOS) {
        const row = quanta.map((q) => {
          const c = cells.find((x) => x.scenario === scenario && x.hardware === hardware && x.quantumMs === q && sel(x))!;
          return `${f3(geomean(c.uxCost))} (${pct(mean(c.missRate))})`;
        });
        out.push(`| ${scenario} | ${hardware} | ${row.join(" | ")} |`);
      }
    }
    out.push("");
  }
  process.stdout.write(`${out.join("\n")}\n`);
  process.stderr.write(`  ${total} runs in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  if (jsonOut !== undefined) writeFileSync(jsonOut, `${JSON.stringify({ durationMs, seeds, engine, chains, cells }, null, 1)}\n`);
};

await main();
