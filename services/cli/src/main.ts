/**
 * The `sdrm3` command. Composition root of the CLI: finds the command in argv and loads only that
 * command's module (commander flags, then the work), so `sdrm3 --help` loads no scheduler, no NATS
 * client and no chart renderer (docs/performance.md, "Start-up"). Exit codes: 0 ok, 1 the run
 * failed, 2 bad input (unknown names, bad flags, bad files).
 */
import { Command, CommanderError } from "commander";
// bad input from the user (exit 2) is what the error says it is (contracts/errors); a light module, no schemas
import { errorMessage, isInputError } from "@sdrm3/shared/contracts/errors";
import { type Io, processIo, refuseRepeatedFlags } from "./io";
import { redactArgs } from "./redact";

export type { Io } from "./io";

type Register = (program: Command, io: Io, setResult: (code: number) => void) => void;

interface CommandEntry {
  /** Arguments as the help listing shows them. */
  readonly args?: string;
  /** One line for `sdrm3 --help` (the command's own help has the full description). */
  readonly summary: string;
  readonly load: () => Promise<Register>;
}

/** Every command: its module is imported only when the command runs (or its help is asked for). */
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  run: { summary: "run a scenario on a hardware under a policy (one process; virtual time unless --clock live)", load: async () => (await import("./run-command")).registerRun },
  compare: { summary: "every scenario × hardware × policy × seed on all cores; tables, CSV/JSON, charts", load: async () => (await import("./compare-command")).registerCompare },
  list: { args: "<what>", summary: "list scenarios | hardware | policies", load: async () => (await import("./list-command")).registerList },
  serve: { args: "<role>", summary: "run one service of a distributed run over NATS", load: async () => (await import("./serve")).registerServe },
  tune: { summary: "grid search over fixed sdrm3 parameters, scored per phase", load: async () => (await import("./tune")).registerTune },
  timeline: { args: "<trace>", summary: "draw a trace as a PNG/SVG timeline", load: async () => (await import("./timeline")).registerTimeline },
  replay: { args: "[log]", summary: "replay an event log through a fresh scheduler and check every decision", load: logCommands },
  explain: { args: "[log]", summary: "show the scheduler's view and MapScores behind a recorded decision", load: logCommands },
  trace: { args: "[log]", summary: "export a log's timeline as Chrome/Perfetto trace-event JSON", load: logCommands },
  log: { summary: "event logs in JetStream", load: logCommands },
  dashboard: { args: "<log>", summary: "replay a recorded event log to the live web dashboard", load: async () => (await import("./dashboard")).registerDashboard },
  gen: { args: "<kind>", summary: "generate a synthetic scenario or hardware file", load: async () => (await import("./gen")).registerGen },
};

async function logCommands(): Promise<Register> {
  return (await import("./log-commands")).registerLogCommands;
}

const newProgram = (io: Io): Command =>
  new Command("sdrm3")
    .description("SDRM3 scheduler on an emulated multi-accelerator SoC (XRBench workloads)")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: (s) => io.err(redactArgs(s)) })
    .showHelpAfterError();

/**
 * The program with the commands `argv` names registered in full, and every other command listed
 * by name and summary only (enough for `sdrm3 --help` and for commander's "unknown command").
 */
export const buildProgram = async (
  argv: ReadonlyArray<string>,
  io: Io,
  setResult: (code: number) => void,
  hooks: MainHooks = {},
): Promise<Command> => {
  const program = newProgram(io);
  const first = argv.find((a) => !a.startsWith("-"));
  const named = first === "help" ? argv[argv.indexOf("help") + 1] : first;
  const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? COMMANDS[named] : undefined;
  const registered = new Set<CommandEntry["load"]>();
  if (wanted !== undefined) {
    await registerFull(program, wanted, io, setResult);
    registered.add(wanted.load);
    await hooks.commandLoaded?.();
  }
  for (const [name, entry] of Object.entries(COMMANDS)) {
    if (registered.has(entry.load)) continue;
    const stub = program.command(name).summary(entry.summary);
    if (entry.args !== undefined) stub.argument(entry.args);
  }
  // keep the help listing in the table's order whatever was registered first
  const order = Object.keys(COMMANDS);
  (program.commands as Command[]).sort((a, b) => order.indexOf(a.name()) - order.indexOf(b.name()));
  return program;
};

const registerFull = async (program: Command, entry: CommandEntry, io: Io, setResult: (code: number) => void): Promise<void> => {
  (await entry.load())(program, io, setResult);
  // credentials, TLS and --require-auth on every command with --nats (only those load the NATS flags)
  if (program.commands.some((c) => hasNatsOption(c))) (await import("./nats-flags")).addNatsConnectionOptions(program);
  refuseRepeatedFlags(program); // last: every option of every command is known
};

const hasNatsOption = (cmd: Command): boolean => cmd.options.some((o) => o.long === "--nats") || cmd.commands.some(hasNatsOption);

/** How the built command (bin.ts) adapts main: run once the command's modules are loaded, before it runs. */
export interface MainHooks {
  readonly commandLoaded?: () => void | Promise<void>;
}

export const main = async (argv: ReadonlyArray<string>, io: Io = processIo, hooks: MainHooks = {}): Promise<number> => {
  let result = 0;
  try {
    const program = await buildProgram(
      argv,
      io,
      (code) => {
        result = code;
      },
      hooks,
    );
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
    io.err(`sdrm3: run failed: ${errorMessage(e)}\n`);
    return 1;
  }
};

export { formatDuration } from "./duration";
