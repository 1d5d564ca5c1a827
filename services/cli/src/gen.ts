/**
 * `sdrm3 gen scenario|hardware`: synthetic workloads and hardware for load tests (issue 7, "Load";
 * generators in shared/src/data/synthetic.ts, formats in docs/data.md).
 *
 *   sdrm3 gen scenario --models 30 --seed 7 [--fps 15,30,45,60 | --fps 10-60] [--cascades 0.2]
 *                      [--pool ES_RITNet,GE_FBNet_C] [--name N] [--out s.json]
 *   sdrm3 gen hardware --accelerators 64 [--classes WS_2048pe_bw256,OS_2048pe_bw256] [--name N] [--out h.json]
 *
 * Without --out the file goes to stdout. With --out it is written and stdout gets one line: the
 * flags that run it (`--scenario-file s.json --scenario synthetic_30_s7`, `--hardware-file h.json
 * --hardware Synthetic_64/WS_OS_RS_…`), for `sdrm3 run` and `sdrm3 serve`. Bad flags exit 2 naming
 * the flag.
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import {
  type FpsChoice,
  MAX_ACCELERATORS,
  MAX_MODELS_PER_SCENARIO,
  generateHardware,
  generateScenario,
  hardwareJson,
  loadBuiltinDataset,
  scenarioJson,
} from "@sdrm3/shared/data";
import { CliInputError, parseSeed } from "./duration";
import { errorMessage } from "@sdrm3/shared/contracts";

export interface GenIo {
  out(text: string): void;
  err(text: string): void;
}

interface GenFlags {
  models: string;
  seed: string;
  fps?: string;
  cascades?: string;
  pool?: string;
  accelerators: string;
  classes?: string;
  name?: string;
  out?: string;
}

const KINDS = ["scenario", "hardware"] as const;

const parseCount = (text: string, flag: string, max: number): number => {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new CliInputError(`${flag}: expected an integer in [1, ${max}], got '${text}'`);
  }
  return Number(text);
};

/** `15,30,45,60` (a list to draw from) or `10-60` (every integer rate in the range). */
export const parseFps = (text: string): FpsChoice => {
  const range = /^(\d{1,4})-(\d{1,4})$/.exec(text);
  if (range !== null) {
    const min = Number(range[1]);
    const max = Number(range[2]);
    if (min < 1 || min > max) throw new CliInputError(`--fps: expected a range min-max with 1 ≤ min ≤ max, got '${text}'`);
    return { min, max };
  }
  const values = text.split(",").map((part) => (/^\d{0,4}(\.\d+)?$/.test(part.trim()) && part.trim() !== "" ? Number(part) : Number.NaN));
  if (values.length === 0 || values.some((v) => !(v > 0 && v <= 1000))) {
    throw new CliInputError(`--fps: expected a list of frame rates in (0, 1000] (15,30,45,60) or an integer range (10-60), got '${text}'`);
  }
  return { values };
};

const parseShare = (text: string, flag: string): number => {
  const value = Number(text);
  if (!/^\d*\.?\d+$/.test(text) || !(value >= 0 && value <= 1)) {
    throw new CliInputError(`${flag}: expected a share in [0, 1], e.g. 0.2, got '${text}'`);
  }
  return value;
};

const parseList = (text: string, flag: string): string[] => {
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw new CliInputError(`${flag}: expected a comma-separated list without empty entries, got '${text}'`);
  return items;
};

const parseName = (text: string): string => {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(text)) throw new CliInputError(`--name: expected 1–64 letters, digits, '_' or '-', got '${text}'`);
  return text;
};

/** Flags that belong to the other kind: refused rather than silently ignored. */
const FOREIGN: Readonly<Record<(typeof KINDS)[number], ReadonlyArray<[keyof GenFlags, string]>>> = {
  scenario: [["classes", "--classes"]],
  hardware: [["fps", "--fps"], ["cascades", "--cascades"], ["pool", "--pool"]],
};

export const executeGen = (kind: string, flags: GenFlags, io: GenIo, given: ReadonlySet<string>): number => {
  if (!(KINDS as ReadonlyArray<string>).includes(kind)) throw new CliInputError(`unknown kind '${kind}'; valid: ${KINDS.join(", ")}`);
  const k = kind as (typeof KINDS)[number];
  for (const [key, flag] of FOREIGN[k]) if (flags[key] !== undefined) throw new CliInputError(`${flag}: only for \`gen ${k === "scenario" ? "hardware" : "scenario"}\``);
  if (k === "scenario" && given.has("accelerators")) throw new CliInputError("--accelerators: only for `gen hardware`");
  if (k === "hardware" && (given.has("models") || given.has("seed"))) throw new CliInputError(`--${given.has("models") ? "models" : "seed"}: only for \`gen scenario\``);
  const ds = loadBuiltinDataset();
  const name = flags.name === undefined ? undefined : parseName(flags.name);
  let file: unknown;
  let use: string;
  if (k === "scenario") {
    const scenario = generateScenario(ds, {
      models: parseCount(flags.models, "--models", MAX_MODELS_PER_SCENARIO),
      seed: parseSeed(flags.seed),
      ...(flags.fps === undefined ? {} : { fps: parseFps(flags.fps) }),
      ...(flags.cascades === undefined ? {} : { cascades: parseShare(flags.cascades, "--cascades") }),
      ...(flags.pool === undefined ? {} : { pool: parseList(flags.pool, "--pool") }),
      ...(name === undefined ? {} : { name }),
    });
    file = scenarioJson(scenario);
    use = `--scenario-file ${flags.out} --scenario ${scenario.name}`;
  } else {
    const known = ds.costs.classes;
    const classes = flags.classes === undefined ? undefined : parseList(flags.classes, "--classes");
    for (const c of classes ?? []) if (!known.includes(c)) throw new CliInputError(`--classes: unknown cost class '${c}'; valid: ${known.join(", ")}`);
    const hw = generateHardware(ds, {
      accelerators: parseCount(flags.accelerators, "--accelerators", MAX_ACCELERATORS),
      ...(classes === undefined ? {} : { classes }),
      ...(name === undefined ? {} : { name }),
    });
    file = hardwareJson(hw.config);
    use = `--hardware-file ${flags.out} --hardware ${hw.spec}`;
  }
  const text = `${JSON.stringify(file, null, 2)}\n`;
  if (flags.out === undefined) {
    io.out(text);
    return 0;
  }
  try {
    writeFileSync(flags.out, text);
  } catch (e) {
    throw new CliInputError(`--out: cannot write '${flags.out}': ${errorMessage(e)}`);
  }
  io.out(`${use}\n`);
  return 0;
};

/** Registers `gen <kind>` on the program. */
export const registerGen = (program: Command, io: GenIo, setResult: (code: number) => void): void => {
  const cmd = program
    .command("gen")
    .description("generate a synthetic scenario or hardware file (XRBench models and MAESTRO cost classes; docs/data.md)")
    .argument("<kind>", KINDS.join(" | "))
    .option("--models <n>", "scenario: number of models drawn from the XRBench models", "30")
    .option("--seed <n>", "scenario: seed of the draws", "1")
    .option("--fps <list|range>", "scenario: frame rates to draw from, e.g. 15,30,45,60 (default) or 10-60")
    .option("--cascades <share>", "scenario: share of models (after the first) that are cascade children, in [0, 1] (default 0)")
    .option("--pool <models>", "scenario: comma-separated models to draw from (default: all 11)")
    .option("--accelerators <n>", "hardware: number of accelerators, cycling the cost table's classes", "64")
    .option("--classes <list>", "hardware: comma-separated cost classes to cycle (default: all 21)")
    .option("--name <name>", "scenario or hardware config name (default synthetic_<models>_s<seed> / Synthetic_<accelerators>)")
    .option("--out <file>", "write the file here and print the flags that run it (default: the file to stdout)");
  cmd.action((kind: string, flags: GenFlags) => {
    const given = new Set(["models", "seed", "accelerators"].filter((o) => cmd.getOptionValueSource(o) === "cli"));
    setResult(executeGen(kind, flags, io, given));
  });
};
