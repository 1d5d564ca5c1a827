/**
 * `sdrm3 run`: one scenario on one hardware under one policy, in this process (actors on the
 * in-memory bus), in virtual time unless --clock live. The run is resolved as every other command
 * resolves it (runtime/spec resolveRunSpec: data, policy, typed parameters, run switches, the
 * policy's default duration); the run setup decides from the policy's capabilities whether it can
 * run live. Output files are checked against each other and the inputs before any work starts.
 */
import { Command, Option } from "commander";
import { DEFAULT_SPECULATION_DEPTH, LIVE_WARM_UP_MS, resolveRunSpec } from "@sdrm3/shared/runtime";
import { CliInputError, parseRunDuration, parseSeed } from "./duration";
import { formatRunHuman, runToJson } from "./format";
import { AUTO_QUANTUM_MS, DEFAULT_TOLERANCE_MS, LIVE_DISPATCH_DEFAULTS, checkBlockFlagsApply, dispatchOptions, parseClock, parseParams, parseSpeculate, parseSupernet, parseWarmUp } from "./flags";
import { checkOutputPaths } from "./output-paths";
import { runWithLogOutputs } from "./run-outputs";
import { PROGRESS_MIN_MS, runProgress } from "./run-progress";
import { type Io, collect, processIo } from "./io";
import { tuneGcForSimulation } from "./gc-tuning";

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
  quantum?: string;
  queueDepth?: string;
  chain?: string;
  lookahead?: string;
  record?: string;
  trace?: string;
  tune?: boolean;
  supernet?: string;
  clock?: string;
  speed?: string;
  warmUp?: string;
  tolerance?: string;
  speculate?: string;
}

/** `tty`: stderr is a terminal (a progress bar for long runs). */
export const executeRun = async (flags: RunFlags, io: Io, tty = false): Promise<number> => {
  if (flags.scenario === undefined) throw new CliInputError("missing --scenario <name>; see `sdrm3 list scenarios`");
  if (flags.hardware === undefined) {
    throw new CliInputError("missing --hardware <config>/<dataflows>, e.g. Dual_4K/WS_OS; see `sdrm3 list hardware`");
  }
  const inputs = (flag: string, paths: ReadonlyArray<string> | undefined) => (paths ?? []).map((p) => [flag, p] as const);
  checkOutputPaths(
    [["--record", flags.record], ["--trace", flags.trace]],
    [...inputs("--scenario-file", flags.scenarioFile), ...inputs("--hardware-file", flags.hardwareFile), ...inputs("--model-file", flags.modelFile), ...inputs("--costs", flags.costs)],
  );
  const live = parseClock(flags.clock, flags.speed, flags.tolerance);
  const warmUpMs = parseWarmUp(flags.warmUp, live !== undefined);
  const speculate = parseSpeculate(flags.speculate, live !== undefined);
  const resolved = resolveRunSpec({
    scenario: flags.scenario,
    hardware: flags.hardware,
    policy: flags.policy,
    params: parseParams(flags.param ?? []),
    ...(flags.duration === undefined ? {} : { durationMs: parseRunDuration(flags.duration) }),
    seed: parseSeed(flags.seed),
    ...dispatchOptions(flags, live !== undefined),
    ...(flags.tune === undefined ? {} : { tune: flags.tune }),
    ...(flags.supernet === undefined ? {} : { supernet: parseSupernet(flags.supernet)! }),
    files: { models: flags.modelFile ?? [], hardware: flags.hardwareFile ?? [], costs: flags.costs ?? [], scenarios: flags.scenarioFile ?? [] },
  });
  checkBlockFlagsApply(flags, resolved.policy);
  const progress = tty && resolved.durationMs >= PROGRESS_MIN_MS ? runProgress(resolved.durationMs, process.stderr) : undefined;
  let result;
  tuneGcForSimulation(resolved.durationMs);
  try {
    result = await runWithLogOutputs({ ...resolved, ...(live === undefined ? {} : { live }), ...(speculate === undefined ? {} : { speculate }), ...(warmUpMs === undefined ? {} : { warmUpMs }), ...(progress === undefined ? {} : { onEvent: progress.onEvent }) }, flags, io);
  } finally {
    progress?.stop();
  }
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
    .option("--duration <d>", "simulated time: 700ms, 10s, 1.5m (default: the policy's, see `sdrm3 list policies`: 700ms for xrbench, 10s otherwise)")
    .option("--seed <n>", "run seed (trigger draws)", "1")
    .option("--param <name=value>", "policy parameter, e.g. --param alpha=1.5 (repeatable)", collect)
    .option("--block <layers|auto>", `block size B: layers per dispatch, 1 to 512 (default 1 = layer granularity; with --clock live: quantum blocks of ${LIVE_DISPATCH_DEFAULTS.quantumMs}ms, docs/live.md); auto: quantum blocks of --quantum, default ${AUTO_QUANTUM_MS}ms`)
    .option("--quantum <d>", "quantum blocks: a job's layers grouped until their latency reaches d, e.g. 0.25ms or 250us (0: blocks of --block layers; docs/live.md)")
    .option("--queue-depth <d>", "dispatch queues: blocks an accelerator may hold committed, 1 to 16 (default 1: no queue; docs/architecture.md)")
    .option("--chain <d>", "bounded chains: with --queue-depth 2+, a job's next block is committed behind its own until the chain has run d, e.g. 0.5ms (default 0: off; docs/architecture.md)")
    .option("--lookahead <d>", "with --queue-depth 2+: a busy accelerator takes a block only once its queue ends within d, e.g. 1ms (default: any room; docs/architecture.md)")
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
    .option("--tolerance <d>", `with --clock live: lateness of the emulation absorbed, wall time (default ${DEFAULT_TOLERANCE_MS}ms; 0: every event at the clock reading; docs/live.md)`)
    .option("--speculate <n>", `virtual time: predict block replies from the cost table, n of them unconfirmed by the accelerators or fewer (default ${DEFAULT_SPECULATION_DEPTH}; 0: each step waits for its replies; the result is the same; docs/architecture.md)`)
    .option("--warm-up <d>", `with --clock live: simulated time of a virtual-time run of the same spec before the clock starts, so the run is measured with its code compiled (default ${LIVE_WARM_UP_MS / 1000}s; 0: none; docs/live.md)`)
    .action(async (flags: RunFlags) => setResult(await executeRun(flags, io, io === processIo && process.stderr.isTTY === true)));
};
