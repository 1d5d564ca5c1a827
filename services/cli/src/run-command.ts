/**
 * `sdrm3 run`: one scenario on one hardware under one policy, in this process (actors on the
 * in-memory bus), in virtual time unless --clock live.
 */
import { Command, Option } from "commander";
import { resolvePolicy } from "@sdrm3/shared/policies";
import { supernetSetting } from "@sdrm3/shared/runtime";
import {
  type Dataset,
  findScenario,
  loadBuiltinDataset,
  loadCostCsv,
  loadHardwareFile,
  loadModelFile,
  loadScenarioFile,
  resolveHardware,
  resolveModelCosts,
  scenarioVariants,
  withCosts,
  withHardwareConfig,
  withModel,
  withScenario,
} from "@sdrm3/shared/data";
import { CliInputError, parseDuration, parseSeed } from "./duration";
import { formatRunHuman, runToJson } from "./format";
import { parseBlockSize, parseClock, parseParams, parseSupernet } from "./flags";
import { runWithLogOutputs } from "./run-outputs";
import { type Io, collect } from "./io";

export interface RunFlags {
  scenario?: string;
  hardware?: string;
  policy: string;
  duration?: string;
  seed: string;
  json?: boolean;
  scenarioFile?: string[];
  hardwareFile?: string[];
  modelFile?: string[];
  costs?: string[];
  param?: string[];
  block?: string;
  record?: string;
  trace?: string;
  tune?: boolean;
  supernet?: string;
  clock?: string;
  speed?: string;
}

/** The built-in dataset extended with the user's own files. */
const datasetWith = (flags: RunFlags): Dataset => {
  let ds = loadBuiltinDataset();
  for (const f of flags.modelFile ?? []) ds = withModel(ds, loadModelFile(f));
  for (const f of flags.costs ?? []) ds = withCosts(ds, loadCostCsv(f, ds));
  for (const f of flags.hardwareFile ?? []) for (const c of loadHardwareFile(f)) ds = withHardwareConfig(ds, c);
  for (const f of flags.scenarioFile ?? []) for (const s of loadScenarioFile(f, ds)) ds = withScenario(ds, s);
  return ds;
};

export const executeRun = async (flags: RunFlags, io: Io): Promise<number> => {
  const params = parseParams(flags.param ?? []);
  if (flags.tune === true) {
    if (flags.policy !== "sdrm3") throw new CliInputError(`--tune: only the sdrm3 policy tunes itself, not '${flags.policy}'`);
    params.tune = 1;
  }
  const setting = supernetSetting(flags.policy, params, parseSupernet(flags.supernet));
  const policy = resolvePolicy(flags.policy, setting.params);
  if (flags.scenario === undefined) throw new CliInputError("missing --scenario <name>; see `sdrm3 list scenarios`");
  if (flags.hardware === undefined) {
    throw new CliInputError("missing --hardware <config>/<dataflows>, e.g. Dual_4K/WS_OS; see `sdrm3 list hardware`");
  }
  const durationMs = flags.duration === undefined ? (policy.name === "xrbench" ? 700 : 10_000) : parseDuration(flags.duration);
  const seed = parseSeed(flags.seed);
  const ds = datasetWith(flags);
  const scenario = findScenario(ds, flags.scenario);
  const hardware = resolveHardware(ds, flags.hardware);
  const costs = resolveModelCosts(ds, scenario, hardware);
  const blockSize = parseBlockSize(flags.block);
  const supernet = setting.supernet ? { supernet: true, variants: scenarioVariants(ds, scenario, hardware, costs) } : {};
  const live = parseClock(flags.clock, flags.speed);
  if (live !== undefined && policy.name === "xrbench") {
    throw new CliInputError("--clock live: the xrbench policy reproduces the XRBench runtime in virtual time; pick another policy (e.g. sdrm3)");
  }
  const result = await runWithLogOutputs({ scenario, hardware, costs, policy, durationMs, seed, blockSize, ...supernet, ...(live === undefined ? {} : { live }) }, flags, io);
  io.out(flags.json ? `${JSON.stringify(runToJson(result))}\n` : formatRunHuman(result));
  return 0;
};

export const registerRun = (program: Command, io: Io, setResult: (code: number) => void): void => {
  program
    .command("run")
    .description("run a scenario on a hardware under a policy (in-memory bus; virtual time unless --clock live)")
    .option("--scenario <name>", "scenario name (see `sdrm3 list scenarios`)")
    .option("--hardware <config/dataflows>", "hardware, e.g. Dual_4K/WS_OS (see `sdrm3 list hardware`)")
    .addOption(new Option("--policy <name>", "scheduling policy (see `sdrm3 list policies`)").default("xrbench"))
    .option("--duration <d>", "simulated time: 700ms, 10s, 1.5m (default: 700ms for xrbench, 10s otherwise)")
    .option("--seed <n>", "run seed (trigger draws)", "1")
    .option("--param <name=value>", "policy parameter, e.g. --param alpha=1.5 (repeatable)", collect)
    .option("--block <layers>", "block size B: layers per dispatch (1 = layer granularity)", "1")
    .option("--json", "print one JSON object instead of tables")
    .option("--scenario-file <path>", "load scenarios from a JSON file (repeatable)", collect)
    .option("--hardware-file <path>", "load hardware configs from a JSON file (repeatable)", collect)
    .option("--model-file <path>", "load a model (layer list) from a JSON file (repeatable)", collect)
    .option("--costs <path>", "load per-layer costs from a MAESTRO-style CSV (repeatable)", collect)
    .option("--tune", "sdrm3: tune alpha, beta, gamma online and print the tuning trajectory")
    .option("--supernet <on|off>", "supernet variants x1.0/x0.75/x0.5 of every model; sdrm3 downgrades by its load rule, baselines run the full model (docs/supernets.md)")
    .option("--record <path>", "record the run's event log (JSONL; replay with `sdrm3 replay`)")
    .option("--trace <path>", "write the run's timeline as Chrome/Perfetto trace-event JSON")
    .option("--clock <virtual|live>", "virtual (default): results independent of timing; live: accelerators really wait, the scheduler reacts as replies arrive (docs/live.md)")
    .option("--speed <x>", "with --clock live: run-time speed, 0.1 = ten times slower than real (default 1)")
    .action(async (flags: RunFlags) => setResult(await executeRun(flags, io)));
};
