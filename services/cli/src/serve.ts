/**
 * `sdrm3 serve <role>`: run one service of a distributed run as its own process, over NATS.
 *
 *   sdrm3 serve scheduler   --nats <url> --run <id> --scenario S --hardware H --policy P [...]
 *   sdrm3 serve workload    --nats <url> --run <id> --scenario S --hardware H --policy P [...]
 *   sdrm3 serve accelerator --nats <url> --run <id> --scenario S --hardware H [--slots N | --slot acc0,acc1]
 *   sdrm3 serve recorder    --nats <url> --run <id> --out run.jsonl   (follows the run's JetStream log to a file)
 *
 * Every process resolves the same run from the same flags; they find each other by registering on
 * the run's control subjects, in any start order. Credentials and TLS: nats-flags.ts (flags or env). The scheduler prints the run's result (like
 * `sdrm3 run`) and announces the end of the run, upon which the other services exit.
 *
 * Accelerator processes own their slots through JetStream KV leases (bucket `sdrm3_leases_<run>`);
 * a process that finds no free slot waits as a hot spare and takes over a slot whose owner dies.
 * The scheduler removes the bucket at the end of the run. Timeouts and failover: docs/distributed.md.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { type Command, Option } from "commander";
import { Subjects, checkToken, errorMessage } from "@sdrm3/shared/contracts";
import { DEFAULT_LEASE_TTL_MS, connectNatsBus, openLeaseBucket, removeLeaseBucket } from "@sdrm3/shared/nats";
import { RunFailedError, defaultDurationMs, publishRunControl, resolveRunSpec } from "@sdrm3/shared/runtime";
import { serveAccelerators } from "@sdrm3/accelerator";
import { serveScheduler } from "@sdrm3/scheduler";
import { serveWorkload } from "@sdrm3/workload";
import { serveRecorder } from "@sdrm3/recorder";
import { executeWorker } from "./sweep";
import { executeServeDashboard } from "./dashboard";
import { CliInputError, parseDuration, parseSeed } from "./duration";
import { parseBlockSize, parseClock, parseParams } from "./flags";
import { formatRunHuman, runToJson } from "./format";
import { type StreamRecording, resumeStreamRecording, startStreamRecording } from "./log-stream";
import { type NatsConnectionFlags, resolveNatsConnection } from "./nats-flags";

interface ServeFlags extends NatsConnectionFlags {
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
  slots?: string;
  registerTimeout: string;
  takeoverTimeout: string;
  leaseTtl: string;
  connectTimeout: string;
  json?: boolean;
  events?: string;
  recordStream?: boolean;
  resume?: boolean;
  elastic?: boolean;
  name?: string;
  port?: string;
  bind?: string;
  window?: string;
  clock?: string;
  speed?: string;
  scenarioFile?: string[];
  hardwareFile?: string[];
  modelFile?: string[];
  costs?: string[];
  reportMemory?: boolean;
  out?: string;
  waitTimeout: string;
  idleTimeout: string;
  giveUpAfter?: string;
}

export interface ServeIo {
  out(text: string): void;
  err(text: string): void;
}

const ROLES = ["scheduler", "workload", "accelerator", "worker", "dashboard", "recorder"] as const;

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Defaults of the distributed-run timeouts (docs/distributed.md). */
export const SERVE_DEFAULTS = {
  connectTimeout: "5s",
  registerTimeout: "30s",
  takeoverTimeout: "15s",
  leaseTtl: `${DEFAULT_LEASE_TTL_MS / 1000}s`,
  waitTimeout: "60s",
  idleTimeout: "5m",
} as const;

/**
 * Runs a service that waits for its run to end (accelerator, workload): SIGTERM/SIGINT end it
 * cleanly (an accelerator releases its leases, so a spare takes over at once); after `giveUpMs`
 * (`--give-up-after`) it is ended the same way and fails, naming the run.
 */
const serveUntilRunEnds = async (run: string, giveUp: { ms: number; flag: string } | undefined, serve: (signal: AbortSignal) => Promise<void>): Promise<void> => {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  let gaveUp = false;
  const timer =
    giveUp &&
    setTimeout(() => {
      gaveUp = true;
      stop.abort();
    }, giveUp.ms);
  try {
    await serve(stop.signal);
  } finally {
    clearTimeout(timer);
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
  if (gaveUp) {
    throw new RunFailedError(`run ${run} did not end within --give-up-after ${giveUp!.flag} (is its scheduler running? \`sdrm3 serve scheduler --run ${run} …\`)`);
  }
};

const parseCount = (text: string, flag: string): number => {
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1) throw new CliInputError(`${flag}: expected a positive integer, got '${text}'`);
  return Number(text);
};

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
  if (role === "worker") return executeWorker(flags, io); // sweeps: no run of its own
  if (role === "dashboard") return executeServeDashboard(flags, io); // read-only; --scenario/--hardware optional
  if (role === "recorder") return executeServeRecorder(flags, io); // the log's header names the run's settings
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
    files: { models: flags.modelFile ?? [], hardware: flags.hardwareFile ?? [], costs: flags.costs ?? [], scenarios: flags.scenarioFile ?? [] },
  });
  const slots =
    role === "accelerator"
      ? (flags.slot ?? resolved.hardware.accelerators.map((a) => a.id).join(",")).split(",").filter((s) => s !== "")
      : [];
  const known = resolved.hardware.accelerators.map((a) => a.id);
  for (const slot of slots) {
    if (!known.includes(slot)) throw new CliInputError(`--slot: unknown slot '${slot}' of ${resolved.hardware.name}; valid: ${known.join(", ")}`);
  }
  const want = flags.slots === undefined ? slots.length : parseCount(flags.slots, "--slots");
  if (role === "accelerator" && want > slots.length) {
    throw new CliInputError(`--slots ${want}: only ${slots.length} slots to choose from (${slots.join(", ")})`);
  }
  // live mode is the scheduler's choice: its dispatches carry the speed, accelerators follow them
  if (role !== "scheduler" && flags.clock !== undefined) throw new CliInputError(`--clock: only the scheduler takes it (its dispatches tell the accelerators the speed), not the ${role}`);
  if (role === "scheduler" && flags.giveUpAfter !== undefined) {
    throw new CliInputError("--give-up-after: only accelerators and workloads take it (the scheduler has --register-timeout and --takeover-timeout)");
  }
  const live = parseClock(flags.clock, flags.speed);
  const connectTimeoutMs = parseDuration(flags.connectTimeout, "--connect-timeout");
  const registerTimeoutMs = parseDuration(flags.registerTimeout, "--register-timeout");
  const slotTakeoverTimeoutMs = parseDuration(flags.takeoverTimeout, "--takeover-timeout");
  const leaseTtlMs = parseDuration(flags.leaseTtl, "--lease-ttl");
  const giveUp = flags.giveUpAfter === undefined ? undefined : { ms: parseDuration(flags.giveUpAfter, "--give-up-after"), flag: flags.giveUpAfter };
  const host = flags.name ?? `${hostname()}:${process.pid}`;
  const log = (line: string) => io.err(`[${role} ${host}] ${line}\n`);
  const bus = await connectNatsBus({
    ...resolveNatsConnection(flags.nats, flags).options,
    name: `sdrm3-${role}-${run}`,
    inboxPrefix: Subjects.inboxPrefix(run, role),
    connectTimeoutMs,
  });
  try {
    if (role === "accelerator") {
      const leases = await openLeaseBucket(bus.nc, run, { ttlMs: leaseTtlMs }).catch((e: unknown) => {
        throw new Error(`cannot open the slot lease bucket of run ${run} (JetStream KV): ${errorMessage(e)}`);
      });
      await serveUntilRunEnds(run, giveUp, (signal) => serveAccelerators({ bus, run, resolved, slots, want, leases, host, log, signal }));
      return 0;
    }
    if (role === "workload") {
      await serveUntilRunEnds(run, giveUp, (signal) => serveWorkload({ bus, run, resolved, host, log, signal }));
      return 0;
    }
    // a scheduler that fails, before its run starts (bad flags, a refused recording, a damaged log to
    // resume) or during it, tells the run's other services why, so none waits for a run that never ends
    try {
      if (flags.resume === true && live !== undefined) throw new CliInputError("--resume: only virtual-time runs can be resumed from their log, not --clock live");
      if (flags.elastic === true && (flags.resume === true || flags.recordStream === true)) {
        throw new CliInputError("--elastic: not with --record-stream or --resume (the log header names the hardware before it is known which slots register)");
      }
      // --resume: rebuild the kernel from the run's JetStream log (a scheduler that died) and carry on recording
      const resumed = flags.resume === true ? await resumeStreamRecording(bus, { ...resolved, run }) : undefined;
      if (flags.resume === true) log(resumed === undefined ? `run ${run} has no event log in JetStream yet: starting it from the beginning` : resumed.summary);
      if (flags.events !== undefined && resumed === undefined) writeFileSync(flags.events, "");
      const eventsFile = flags.events;
      // --record-stream: the run's event log to JetStream (a side channel of the observer; acks awaited at the end)
      const recording: StreamRecording | undefined =
        resumed ??
        (flags.recordStream === true || flags.resume === true ? await startStreamRecording(bus, { ...resolved, run, ...(live === undefined ? {} : { live }) }) : undefined);
      try {
        const result = await serveScheduler({
          bus,
          run,
          resolved,
          log,
          registerTimeoutMs,
          slotTakeoverTimeoutMs,
          ...(live === undefined ? {} : { live }),
          ...(resumed === undefined ? {} : { resume: resumed.resume }),
          ...(flags.elastic === true ? { elastic: true } : {}),
          ...(eventsFile === undefined ? {} : { onEvent: (e) => appendFileSync(eventsFile, `${JSON.stringify(e)}\n`) }),
          ...(recording === undefined ? {} : { observer: recording.recorder }),
        });
        // a recording that could not be stored fails the run here, loudly
        if (recording !== undefined) io.err(await recording.finish());
        io.out(flags.json ? `${JSON.stringify(runToJson(result))}\n` : formatRunHuman(result));
        await bus.flush();
      } finally {
        // the run is over (or failed): its lease bucket goes with it
        await removeLeaseBucket(bus.nc, run).catch((e: unknown) =>
          log(`could not remove the lease bucket of run ${run}: ${errorMessage(e)}`),
        );
      }
    } catch (e) {
      publishRunControl(bus, run, "stop", errorMessage(e));
      throw e;
    }
    return 0;
  } finally {
    await bus.close();
    // --report-memory: the process's peak RSS (getrusage ru_maxrss = /proc VmHWM), one line on stderr
    const maxRssKB = flags.reportMemory === true ? process.resourceUsage().maxRSS : undefined;
    if (maxRssKB !== undefined) io.err(`[${role} ${host}] peak RSS: ${(maxRssKB / 1024).toFixed(1)} MB (maxRSS ${maxRssKB} kB)\n`);
  }
};

/** `serve recorder`: follows the run's JetStream log (`--record-stream`) into a JSONL file, ends at run.finished. */
const executeServeRecorder = async (flags: ServeFlags, io: ServeIo): Promise<number> => {
  if (flags.out === undefined) throw new CliInputError("serve recorder: missing --out <file> (the run's JSONL log)");
  const run = parseRunId(flags.run);
  const waitMs = parseDuration(flags.waitTimeout, "--wait-timeout");
  const idleMs = parseDuration(flags.idleTimeout, "--idle-timeout");
  const host = flags.name ?? `${hostname()}:${process.pid}`;
  const log = (line: string) => io.err(`[recorder ${host}] ${line}\n`);
  const bus = await connectNatsBus({
    ...resolveNatsConnection(flags.nats, flags).options,
    name: `sdrm3-recorder-${run}`,
    inboxPrefix: Subjects.inboxPrefix(run, "recorder"),
    connectTimeoutMs: parseDuration(flags.connectTimeout, "--connect-timeout"),
  });
  try {
    const r = await serveRecorder({ bus, run, out: flags.out, waitMs, idleMs, log });
    log(`recorded run ${run}: ${r.lines} lines (header + ${r.entries} entries, ${r.bytes} bytes) to ${r.out}`);
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
    .option("--slot <ids>", "accelerator: comma-separated slots it may host (default: all, in index order)")
    .option("--slots <n>", "accelerator: how many of those slots to hold (any free ones, in order); while it holds fewer it waits as a hot spare (default: all of --slot)")
    .option("--lease-ttl <d>", "accelerator: slot lease TTL when creating the run's lease bucket", SERVE_DEFAULTS.leaseTtl)
    .option("--register-timeout <d>", "scheduler: fail when slots or tasks have not registered within this time", SERVE_DEFAULTS.registerTimeout)
    .option("--takeover-timeout <d>", "scheduler: fail when a dead accelerator's slot is not taken over within this time", SERVE_DEFAULTS.takeoverTimeout)
    .option("--connect-timeout <d>", "fail when NATS does not answer within this time", SERVE_DEFAULTS.connectTimeout)
    .option("--json", "scheduler: print the result as JSON")
    .option("--events <file>", "scheduler: write every run event (decisions included) as JSONL")
    .option("--record-stream", "scheduler: record the run's event log to JetStream (stream SDRM3_LOG, subject sdrm3.<run>.log; export with `sdrm3 log export`)")
    .option("--elastic", "scheduler: when the register timeout passes, run on the accelerator slots that registered (at least one) instead of failing")
    .option("--resume", "scheduler: resume the run from its JetStream log when it has one (a restarted scheduler; implies --record-stream; docs/reliability.md)")
    .option("--name <name>", "process name in registrations and logs (default host:pid)")
    .option("--port <n>", "dashboard: HTTP port (0 = any free port; default 8080)")
    .option("--bind <addr>", "dashboard: address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    .option("--window <d>", "dashboard: sliding window of the per-model figures and UXCost, run time (default 1s)")
    .option("--clock <virtual|live>", "scheduler: virtual (default) or live time (accelerators really wait; docs/live.md)")
    .option("--speed <x>", "scheduler, with --clock live: 0.1 = ten times slower than real (default 1)")
    .option("--scenario-file <path>", "load scenarios from a JSON file, e.g. from `sdrm3 gen scenario` (repeatable; every process of the run needs the same files)", collect)
    .option("--hardware-file <path>", "load hardware configs from a JSON file, e.g. from `sdrm3 gen hardware` (repeatable)", collect)
    .option("--model-file <path>", "load a model (layer list) from a JSON file (repeatable)", collect)
    .option("--costs <path>", "load per-layer costs from a MAESTRO-style CSV (repeatable)", collect)
    .option("--report-memory", "print the process's peak RSS (maxRSS) on stderr when it ends")
    .option("--out <file>", "recorder: the JSONL file to write (byte-identical to `sdrm3 log export`)")
    .option("--give-up-after <d>", "accelerator, workload: exit 1 when the run has not ended within this time (default: wait as long as it takes, e.g. for a scheduler)")
    .option("--wait-timeout <d>", "recorder: fail when the run's log has not appeared in JetStream within this time", SERVE_DEFAULTS.waitTimeout)
    .option("--idle-timeout <d>", "recorder: fail when the run's log gets no new line for this long", SERVE_DEFAULTS.idleTimeout)
    .action(async (role: string, flags: ServeFlags) => setResult(await executeServe(role, flags, io)));
};
