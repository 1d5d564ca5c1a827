/**
 * `sdrm3 serve <role>`: run one service of a distributed run as its own process, over NATS.
 *
 *   sdrm3 serve scheduler   --nats <url> --run <id> --scenario S --hardware H --policy P [...]
 *   sdrm3 serve workload    --nats <url> --run <id> --scenario S --hardware H --policy P [...]
 *   sdrm3 serve accelerator --nats <url> --run <id> --scenario S --hardware H --slot acc0,acc1
 *
 * Every process resolves the same run from the same flags; they find each other by registering on
 * the run's control subjects, in any start order. Credentials come from NATS_USER / NATS_PASS. The scheduler prints the run's result (like
 * `sdrm3 run`) and announces the end of the run, upon which the other services exit.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { type Command, Option } from "commander";
import { checkToken } from "@sdrm3/shared/contracts";
import { connectNatsBus } from "@sdrm3/shared/nats";
import { defaultDurationMs, resolveRunSpec } from "@sdrm3/shared/runtime";
import { serveAccelerators } from "@sdrm3/accelerator";
import { serveScheduler } from "@sdrm3/scheduler";
import { serveWorkload } from "@sdrm3/workload";
import { CliInputError, parseDuration, parseSeed } from "./duration";
import { parseBlockSize, parseParams } from "./flags";
import { formatRunHuman, runToJson } from "./format";

interface ServeFlags {
  nats: string;
  run: string;
  scenario?: string;
  hardware?: string;
  policy: string;
  param?: string[];
  duration?: string;
  seed: string;
  block?: string;
  slot?: string;
  json?: boolean;
  events?: string;
  name?: string;
}

export interface ServeIo {
  out(text: string): void;
  err(text: string): void;
}

const ROLES = ["scheduler", "workload", "accelerator"] as const;

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const parseRunId = (text: string): string => {
  try {
    return checkToken("run id", text);
  } catch (e) {
    throw new CliInputError(`--run: ${(e as Error).message}`);
  }
};

export const executeServe = async (role: string, flags: ServeFlags, io: ServeIo): Promise<number> => {
  if (!(ROLES as ReadonlyArray<string>).includes(role)) {
    throw new CliInputError(`unknown service '${role}'; valid: ${ROLES.join(", ")}`);
  }
  if (flags.scenario === undefined) throw new CliInputError("missing --scenario <name>");
  if (flags.hardware === undefined) throw new CliInputError("missing --hardware <config>/<dataflows>");
  const run = parseRunId(flags.run);
  const resolved = resolveRunSpec({
    scenario: flags.scenario,
    hardware: flags.hardware,
    policy: flags.policy,
    params: parseParams(flags.param ?? []),
    durationMs: flags.duration === undefined ? defaultDurationMs(flags.policy) : parseDuration(flags.duration),
    seed: parseSeed(flags.seed),
    blockSize: parseBlockSize(flags.block),
  });
  const slots =
    role === "accelerator"
      ? (flags.slot ?? resolved.hardware.accelerators.map((a) => a.id).join(",")).split(",").filter((s) => s !== "")
      : [];
  const host = flags.name ?? `${hostname()}:${process.pid}`;
  const log = (line: string) => io.err(`[${role} ${host}] ${line}\n`);
  const bus = await connectNatsBus({
    servers: flags.nats,
    name: `sdrm3-${role}-${run}`,
    ...(process.env.NATS_USER === undefined ? {} : { user: process.env.NATS_USER }),
    ...(process.env.NATS_PASS === undefined ? {} : { pass: process.env.NATS_PASS }),
  });
  try {
    if (role === "accelerator") {
      await serveAccelerators({ bus, run, resolved, slots, host, log });
      return 0;
    }
    if (role === "workload") {
      await serveWorkload({ bus, run, resolved, host, log });
      return 0;
    }
    if (flags.events !== undefined) writeFileSync(flags.events, "");
    const eventsFile = flags.events;
    const result = await serveScheduler({
      bus,
      run,
      resolved,
      log,
      ...(eventsFile === undefined ? {} : { onEvent: (e) => appendFileSync(eventsFile, `${JSON.stringify(e)}\n`) }),
    });
    io.out(flags.json ? `${JSON.stringify(runToJson(result))}\n` : formatRunHuman(result));
    await bus.flush();
    return 0;
  } finally {
    await bus.close();
  }
};

/** Registers `serve <role>` on the program. */
export const registerServe = (program: Command, io: ServeIo, setResult: (code: number) => void): void => {
  program
    .command("serve")
    .description("run one service of a distributed run over NATS: scheduler | workload | accelerator")
    .argument("<role>", ROLES.join(" | "))
    .requiredOption("--nats <url>", "NATS server, e.g. nats://127.0.0.1:4222")
    .option("--run <id>", "run id (isolates the run's subjects)", "run1")
    .option("--scenario <name>", "scenario name")
    .option("--hardware <config/dataflows>", "hardware, e.g. Quad_8K/WS_OS_WS_OS")
    .addOption(new Option("--policy <name>", "scheduling policy").default("sdrm3"))
    .option("--param <name=value>", "policy parameter (repeatable)", collect)
    .option("--duration <d>", "simulated time (default: 700ms for xrbench, 10s otherwise)")
    .option("--seed <n>", "run seed", "1")
    .option("--block <layers>", "block size B", "1")
    .option("--slot <ids>", "accelerator: comma-separated slots to host (default: all)")
    .option("--json", "scheduler: print the result as JSON")
    .option("--events <file>", "scheduler: write every run event (decisions included) as JSONL")
    .option("--name <name>", "process name in registrations and logs (default host:pid)")
    .action(async (role: string, flags: ServeFlags) => setResult(await executeServe(role, flags, io)));
};
