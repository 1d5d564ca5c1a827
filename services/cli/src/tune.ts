/**
 * `sdrm3 tune --grid`: grid search over fixed SDRM3 parameters (α, β, γ) on a scenario, scored
 * per phase (the reference the online tuner is measured against). Runs on the direct engine.
 */
import type { Command } from "commander";
import { defaultDurationMs, gridSearch, resolveRunSpec, spansOf } from "@sdrm3/shared/runtime";
import Table from "cli-table3";
import { CliInputError, parseDuration, parseSeed } from "./duration";
import { parseParams } from "./flags";

interface TuneFlags {
  grid?: boolean;
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

const parseList = (flag: string, text: string | undefined, fallback: ReadonlyArray<number>): number[] => {
  if (text === undefined) return [...fallback];
  const values = text.split(",").map((v) => Number(v));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new CliInputError(`${flag}: expected a comma-separated list of non-negative numbers, got '${text}'`);
  }
  return values;
};

export const executeTune = (flags: TuneFlags, io: TuneIo): number => {
  if (flags.grid !== true) throw new CliInputError("tune: only --grid is available (the online tuner runs with `sdrm3 run --tune`)");
  if (flags.scenario === undefined) throw new CliInputError("missing --scenario <name>");
  if (flags.hardware === undefined) throw new CliInputError("missing --hardware <config>/<dataflows>");
  const top = Number(flags.top);
  if (!Number.isInteger(top) || top < 1) throw new CliInputError(`--top: expected a positive integer, got '${flags.top}'`);
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
    durationMs: flags.duration === undefined ? defaultDurationMs("sdrm3") : parseDuration(flags.duration),
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
    .action((flags: TuneFlags) => setResult(executeTune(flags, io)));
};
