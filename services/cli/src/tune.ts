/**
 * `sdrm3 tune --grid`: grid search over fixed SDRM3 parameters (α, β, γ) on a scenario, scored
 * per phase (the reference the online tuner is measured against). Runs on the direct engine.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import type { TopLevelSpec } from "vega-lite";
import { type RunResult, defaultDurationMs, gridSearch, resolveRunSpec, runScenario, spansOf } from "@sdrm3/shared/runtime";
import { renderChart } from "./charts";
import { formatRunHuman } from "./format";
import Table from "cli-table3";
import { CliInputError, parseRunDuration, parseSeed } from "./duration";
import { decimalOf, parseParams } from "./flags";
import { checkOutputDir } from "./output-paths";
import { tuneGcForSimulation } from "./gc-tuning";

interface TuneFlags {
  grid?: boolean;
  trajectory?: boolean;
  out?: string;
  scenario?: string;
  hardware?: string;
  duration?: string;
  seed: string;
  param?: string[];
  alpha?: string;
  beta?: string;
  gamma?: string;
  top: string;
  json?: boolean;
}

export interface TuneIo {
  out(text: string): void;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/**
 * `--alpha 0.5,1,2`: decimal numbers ≥ 0, each once. An empty entry (`--alpha ,` ran alpha 0 twice:
 * Number("") is 0), `0x1` and a value given twice are refused.
 */
const parseList = (flag: string, text: string | undefined, fallback: ReadonlyArray<number>): number[] => {
  if (text === undefined) return [...fallback];
  const values = text.split(",").map((v) => decimalOf(v) ?? Number.NaN);
  if (values.some((v) => !(v >= 0))) {
    throw new CliInputError(`${flag}: expected a comma-separated list of non-negative numbers, got '${text}'`);
  }
  const twice = values.find((v, i) => values.indexOf(v) !== i);
  if (twice !== undefined) throw new CliInputError(`${flag}: ${twice} given twice in '${text}'; give each value once`);
  return values;
};

/** The tuning trajectory of an online-tuned run as a chart: θ over time and the windowed UXCost, phase starts marked. */
export const trajectoryChartSpec = (result: RunResult, phases: ReadonlyArray<{ name: string; fromMs: number }>): TopLevelSpec => {
  const params = result.tuning.flatMap((s) => (["alpha", "beta", "gamma"] as const).map((p) => ({ at: s.at, parameter: p, value: s.params[p] ?? null })));
  const ux = result.tuning.filter((s) => s.info.windowUxCost !== undefined).map((s) => ({ at: s.at, uxCost: s.info.windowUxCost }));
  const rules = { mark: { type: "rule" as const, strokeDash: [4, 4], color: "#888" }, data: { values: phases.filter((p) => p.fromMs > 0) }, encoding: { x: { field: "fromMs", type: "quantitative" as const } } };
  const x = { field: "at", type: "quantitative" as const, title: "virtual time (ms)" };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `sdrm3 online tuning: ${result.scenario} on ${result.hardware}`,
    config: { font: "DejaVu Sans" },
    vconcat: [
      {
        width: 640,
        height: 200,
        layer: [
          { data: { values: params }, mark: { type: "line", point: true, interpolate: "step-after" }, encoding: { x, y: { field: "value", type: "quantitative", scale: { type: "log" }, title: "parameter value (log)" }, color: { field: "parameter", type: "nominal" } } },
          rules,
        ],
      },
      {
        width: 640,
        height: 140,
        layer: [
          { data: { values: ux }, mark: { type: "line", point: true }, encoding: { x, y: { field: "uxCost", type: "quantitative", scale: { type: "log" }, title: "windowed UXCost (log)" } } },
          rules,
        ],
      },
    ],
  } as TopLevelSpec;
};

const executeTrajectory = async (flags: TuneFlags, io: TuneIo): Promise<number> => {
  if (flags.scenario === undefined) throw new CliInputError("missing --scenario <name>");
  if (flags.hardware === undefined) throw new CliInputError("missing --hardware <config>/<dataflows>");
  if (flags.out !== undefined) checkOutputDir("--out", flags.out); // before the run, not after it
  const opts = resolveRunSpec({
    scenario: flags.scenario,
    hardware: flags.hardware,
    policy: "sdrm3",
    params: { ...parseParams(flags.param ?? []), tune: 1 },
    durationMs: flags.duration === undefined ? defaultDurationMs("sdrm3") : parseRunDuration(flags.duration),
    seed: parseSeed(flags.seed),
  });
  tuneGcForSimulation(opts.durationMs);
  const result = await runScenario(opts);
  const lines = [formatRunHuman(result)];
  if (flags.out !== undefined) {
    mkdirSync(flags.out, { recursive: true });
    const { svg, png } = await renderChart(trajectoryChartSpec(result, opts.scenario.phases ?? []));
    writeFileSync(join(flags.out, "tuning-trajectory.svg"), svg);
    writeFileSync(join(flags.out, "tuning-trajectory.png"), png);
    lines.push(`wrote ${join(flags.out, "tuning-trajectory.svg")}, ${join(flags.out, "tuning-trajectory.png")}\n`);
  }
  io.out(lines.join(""));
  return 0;
};

export const executeTune = async (flags: TuneFlags, io: TuneIo): Promise<number> => {
  if (flags.trajectory === true) return executeTrajectory(flags, io);
  if (flags.grid !== true) throw new CliInputError("tune: choose --grid (grid search over fixed parameters) or --trajectory (an online-tuned run and its chart)");
  if (flags.scenario === undefined) throw new CliInputError("missing --scenario <name>");
  if (flags.hardware === undefined) throw new CliInputError("missing --hardware <config>/<dataflows>");
  if (!/^[1-9]\d{0,8}$/.test(flags.top)) throw new CliInputError(`--top: expected a positive integer, got '${flags.top}'`); // not 0x10, 1e3
  const top = Number(flags.top);
  const grid = {
    alpha: parseList("--alpha", flags.alpha, [0.25, 0.5, 1, 2, 4]),
    beta: parseList("--beta", flags.beta, [0.25, 0.5, 1, 2, 4]),
    gamma: parseList("--gamma", flags.gamma, [0.5, 0.75, 1, 1.25, 1.5]),
  };
  const opts = resolveRunSpec({
    scenario: flags.scenario,
    hardware: flags.hardware,
    policy: "sdrm3",
    params: parseParams(flags.param ?? []),
    durationMs: flags.duration === undefined ? defaultDurationMs("sdrm3") : parseRunDuration(flags.duration),
    seed: parseSeed(flags.seed),
  });
  const rows = gridSearch(opts, grid, opts.policy.params);
  const spans = spansOf(opts);
  const key = (x: number | null) => x ?? Number.POSITIVE_INFINITY;
  const best = spans.map((_, i) => [...rows].sort((a, b) => key(a.spans[i]!) - key(b.spans[i]!))[0]!);
  if (flags.json) {
    io.out(`${JSON.stringify({ scenario: opts.scenario.name, hardware: opts.hardware.name, grid, spans, rows, best: best.map((r) => r.params) })}\n`);
    return 0;
  }
  const lines = [`sdrm3 tune --grid  scenario=${opts.scenario.name}  hardware=${opts.hardware.name}  ${rows.length} fixed parameter sets, direct engine`];
  spans.forEach((span, i) => {
    const t = new Table({ head: ["rank", "alpha", "beta", "gamma", `UXCost ${span.name} [${span.fromMs}, ${span.toMs}) ms`], style: { head: [], border: [] }, chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" } });
    [...rows]
      .sort((a, b) => key(a.spans[i]!) - key(b.spans[i]!))
      .slice(0, top)
      .forEach((r, rank) => t.push([rank + 1, r.params.alpha!, r.params.beta!, r.params.gamma!, r.spans[i]?.toFixed(4) ?? "-"]));
    lines.push(t.toString());
  });
  io.out(`${lines.join("\n")}\n`);
  return 0;
};

export const registerTune = (program: Command, io: TuneIo, setResult: (code: number) => void): void => {
  program
    .command("tune")
    .description("grid search over fixed sdrm3 parameters, scored per phase (the online tuner's reference)")
    .option("--grid", "run the grid search")
    .option("--trajectory", "run the scenario with online tuning and print (and with --out, chart) the trajectory")
    .option("--out <dir>", "with --trajectory: write tuning-trajectory.svg and .png here")
    .option("--scenario <name>", "scenario (dynamic scenarios are scored per phase)")
    .option("--hardware <config/dataflows>", "hardware, e.g. Dual_4K/WS_OS")
    .option("--duration <d>", "simulated time (default 10s)")
    .option("--seed <n>", "run seed", "1")
    .option("--param <name=value>", "other sdrm3 parameters, fixed (repeatable)", collect)
    .option("--alpha <list>", "alpha values (default 0.25,0.5,1,2,4)")
    .option("--beta <list>", "beta values (default 0.25,0.5,1,2,4)")
    .option("--gamma <list>", "gamma values (default 0.5,0.75,1,1.25,1.5)")
    .option("--top <n>", "rows shown per phase", "5")
    .option("--json", "print the full grid as JSON")
    .action(async (flags: TuneFlags) => setResult(await executeTune(flags, io)));
};
