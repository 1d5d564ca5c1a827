/**
 * The `sdrm3` command. Composition root of the CLI: parses flags (commander), loads data, runs,
 * prints. Exit codes: 0 ok, 1 the run failed, 2 bad input (unknown names, bad flags, bad files).
 */
import { Command, CommanderError, Option } from "commander";
import { POLICIES, PolicyInputError, resolvePolicy } from "@sdrm3/shared/policies";
import { InvalidSubjectTokenError } from "@sdrm3/shared/contracts";
import { supernetSetting } from "@sdrm3/shared/runtime";
import {
  type Dataset,
  findScenario,
  listHardware,
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
import { CliInputError, formatDuration, parseDuration, parseSeed } from "./duration";
import { formatRunHuman, runToJson } from "./format";
import { parseBlockSize, parseClock, parseParams, parseSupernet } from "./flags";
import { type CompareFlags, executeCompare } from "./compare";
import { registerServe } from "./serve";
import { registerTune } from "./tune";
import { registerTimeline } from "./timeline";
import { registerLogCommands, runWithLogOutputs } from "./log-commands";
import { registerDashboard } from "./dashboard";
import { registerGen } from "./gen";
import { addNatsConnectionOptions } from "./nats-flags";

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** Bad input from the user: unknown names, bad flags, bad files. Exit code 2. */
const isInputError = (e: unknown): e is Error =>
  e instanceof CliInputError ||
  e instanceof PolicyInputError ||
  e instanceof InvalidSubjectTokenError ||
  (typeof e === "object" && e !== null && "_tag" in e && (e._tag === "DataError" || e._tag === "UnknownNameError"));

const listOf = (names: Iterable<string>) => [...names].join(", ");

interface RunFlags {
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

const executeRun = async (flags: RunFlags, io: Io): Promise<number> => {
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

const executeList = (what: string, io: Io): number => {
  const ds = loadBuiltinDataset();
  const lists: Record<string, () => string[]> = {
    scenarios: () => [...ds.scenarios.values()].map((s) => `${s.name.padEnd(22)} ${s.models.map((m) => `${m.name}@${m.fps}`).join(", ")}`),
    hardware: () => listHardware(ds),
    policies: () =>
      [...POLICIES.values()].flatMap((p) => [
        `${p.name.padEnd(12)} ${p.description}`,
        ...p.params.map((q) => `${"".padEnd(14)}${q.name}=${q.default}  [${q.min}, ${q.max}]  ${q.description}`),
      ]),
  };
  const list = lists[what];
  if (list === undefined) throw new CliInputError(`unknown list '${what}'; valid: ${listOf(Object.keys(lists))}`);
  io.out(`${list().join("\n")}\n`);
  return 0;
};

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export const buildProgram = (io: Io, setResult: (code: number) => void): Command => {
  const program = new Command("sdrm3")
    .description("SDRM3 scheduler on an emulated multi-accelerator SoC (XRBench workloads)")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError();
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
  program
    .command("compare")
    .description("run every scenario × hardware × policy × seed on all cores; tables, CSV/JSON and charts (docs/compare.md)")
    .option("--scenarios <list>", "comma-separated scenarios, 'all' (the 7 usage scenarios) or 'paper' (the paper's 5)", "paper")
    .option("--hardware <list>", "comma-separated hardware, e.g. Dual_4K/WS_OS,Quad_8K/WS_OS_WS_OS (required)")
    .option("--policies <list>", "comma-separated policies or 'all' (every policy but xrbench); variants: 'sdrm3[gamma=1000]'", "all")
    .option("--seeds <n>", "run seeds 1..n", "1")
    .option("--duration <d>", "simulated time per run: 700ms, 10s, 1.5m", "10s")
    .option("--param <policy.name=value>", "policy parameter, e.g. --param sdrm3.alpha=1.5 (repeatable)", collect)
    .option("--block <layers>", "block size B: layers per dispatch (1 = layer granularity)", "1")
    .option("--supernet <on|off>", "sdrm3 with supernet variants (as --param sdrm3.supernet=1); an entry's own [supernet=0|1] wins (docs/supernets.md)")
    .option("--jobs <n>", "worker threads (default: all cores)")
    .option("--out <dir>", "write results.csv, results.json, uxcost.svg/png, miss-vs-energy.svg/png")
    .option("--json", "print the results.json array instead of tables")
    .option("--nats <url>", "fan the runs out to `sdrm3 serve worker` processes through a NATS queue group (same results)")
    .option("--run-timeout <d>", "with --nats: retry a run elsewhere when no reply comes within this time (default 10m)")
    .option("--in-flight <n>", "with --nats: runs in flight at once (default 4)")
    .option("--engine <direct|actors>", "direct (default): the scheduler kernel fed by the actors' pure logic, about ten times faster; actors: the emulated system of XState actors on the bus — identical results (tested on every CI run)", "direct")
    .action(async (flags: CompareFlags) =>
      setResult(await executeCompare(flags, io, { tty: io === processIo && process.stderr.isTTY === true })),
    );
  program
    .command("list")
    .description("list what exists")
    .argument("<what>", "scenarios | hardware | policies")
    .action((what: string) => setResult(executeList(what, io)));
  registerServe(program, io, setResult);
  registerTune(program, io, setResult);
  registerTimeline(program, io, setResult);
  registerLogCommands(program, io, setResult);
  registerDashboard(program, io, setResult);
  registerGen(program, io, setResult);
  addNatsConnectionOptions(program); // credentials, TLS, --require-auth on every command with --nats
  return program;
};

export const main = async (argv: ReadonlyArray<string>, io: Io = processIo): Promise<number> => {
  let result = 0;
  try {
    const program = buildProgram(io, (code) => {
      result = code;
    });
    if (argv.length === 0) {
      program.outputHelp();
      return 2;
    }
    await program.parseAsync([...argv], { from: "user" });
    return result;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isInputError(e)) {
      io.err(`sdrm3: ${e.message}\n`);
      return 2;
    }
    io.err(`sdrm3: run failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
};

export { formatDuration };
