/**
 * `sdrm3 serve <role>`: run one service of a distributed run as its own process, over NATS. One
 * subcommand per role, each with its own flags:
 *
 *   sdrm3 serve scheduler   --nats <url> --run <id> --scenario S --hardware H [--policy P --seed n …]
 *   sdrm3 serve accelerator --nats <url> --run <id> [--slots N | --slot acc0,acc1]
 *   sdrm3 serve workload    --nats <url> --run <id>
 *   sdrm3 serve recorder    --nats <url> --run <id> --out run.jsonl   (follows the run's JetStream log to a file)
 *   sdrm3 serve dashboard   --nats <url> --run <id> [--port 8080]
 *   sdrm3 serve worker      --nats <url>                            (sweeps: no run of its own)
 *
 * Only the scheduler resolves the run from flags. It holds the run lease (one scheduler per run)
 * and publishes the run's spec, its log header, in JetStream KV (shared/src/nats/run-spec.ts);
 * the other roles take the run from that spec, whenever they start, and refuse a flag that
 * disagrees with it (exit 2, naming the field). They find each other by registering on the run's
 * control subjects, in any start order. Credentials and TLS: nats-flags.ts (flags or env). The
 * scheduler prints the run's result (like `sdrm3 run`) and announces the end of the run, upon
 * which the other services exit.
 *
 * Accelerator processes own their slots through JetStream KV leases (bucket `sdrm3_leases_<run>`);
 * a process that finds no free slot waits as a hot spare and takes over a slot whose owner dies.
 * The scheduler removes the run's buckets at the end of the run. Timeouts and failover: docs/distributed.md.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { type Command, Option } from "commander";
import { type LogHeader, Sdrm3Error, Subjects, checkToken, errorMessage, isInputError } from "@sdrm3/shared/contracts";
import { DEFAULT_LEASE_TTL_MS, RunTakenError, awaitRunSpec, claimRun, runLeaseBucketName, connectNatsBus, openLeaseBucket, publishRunSpec, awaitLeasesReleased, removeLeaseBucket, removeRunSpec } from "@sdrm3/shared/nats";
import {
  DEFAULT_SPECULATION_DEPTH,
  LIVE_WARM_UP_MS,
  type ResolvedRun,
  RunFailedError,
  defaultDurationMs,
  logHeaderFor,
  publishRunControl,
  resolveRunSpec,
  runScenario,
  warmUpLive,
} from "@sdrm3/shared/runtime";
import { serveAccelerators } from "@sdrm3/accelerator";
import { serveScheduler } from "@sdrm3/scheduler";
import { serveWorkload } from "@sdrm3/workload";
import { serveRecorder } from "@sdrm3/recorder";
import { type WorkerFlags, executeWorker } from "./sweep";
import { type ServeDashboardFlags, executeServeDashboard } from "./dashboard";
import { CliInputError, parseDuration, parseRunDuration, parseSeed } from "./duration";
import { DEFAULT_TOLERANCE_MS, LIVE_DISPATCH_DEFAULTS, checkBlockFlagsApply, describeDispatch, dispatchOptions, parseClock, parseParams, parseSpeculate, parseWarmUp } from "./flags";
import { formatRunHuman, runToJson } from "./format";
import { type StreamRecording, resumeStreamRecording, startStreamRecording } from "./log-stream";
import { type NatsConnectionFlags, resolveNatsConnection } from "./nats-flags";
import { checkOutputFile } from "./output-paths";
import { type SpecFlags, checkAgainstSpec, resolvedOfSpec } from "./run-spec";
import { tuneGcForSimulation } from "./gc-tuning";

/** Every role: where NATS is, how long to wait for it, its name in logs and registrations. */
interface ConnectionFlags extends NatsConnectionFlags {
  nats: string;
  connectTimeout: string;
  name?: string;
  reportMemory?: boolean;
}

interface SchedulerFlags extends ConnectionFlags, SpecFlags {
  run: string;
  registerTimeout: string;
  takeoverTimeout: string;
  json?: boolean;
  events?: string;
  recordStream?: boolean;
  resume?: boolean;
  elastic?: boolean;
  clock?: string;
  speed?: string;
  warmUp?: string;
  tolerance?: string;
  speculate?: string;
  scenarioFile?: string[];
  hardwareFile?: string[];
  modelFile?: string[];
  costs?: string[];
}

interface AcceleratorFlags extends ConnectionFlags, SpecFlags {
  run: string;
  slot?: string;
  slots?: string;
  leaseTtl: string;
  giveUpAfter?: string;
}

interface WorkloadFlags extends ConnectionFlags, SpecFlags {
  run: string;
  giveUpAfter?: string;
}

interface RecorderFlags extends ConnectionFlags {
  run: string;
  out?: string;
  waitTimeout: string;
  idleTimeout: string;
}

export interface ServeIo {
  out(text: string): void;
  err(text: string): void;
}

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

const hostName = (flags: ConnectionFlags) => flags.name ?? `${hostname()}:${process.pid}`;

const connect = (role: string, run: string | undefined, flags: ConnectionFlags) =>
  connectNatsBus({
    ...resolveNatsConnection(flags.nats, flags).options,
    name: run === undefined ? `sdrm3-${role}-${process.pid}` : `sdrm3-${role}-${run}`,
    ...(run === undefined ? {} : { inboxPrefix: Subjects.inboxPrefix(run, role) }),
    connectTimeoutMs: parseDuration(flags.connectTimeout, "--connect-timeout"),
  });

/** --report-memory: the process's peak RSS (getrusage ru_maxrss = /proc VmHWM), one line on stderr. */
const reportMemory = (role: string, flags: ConnectionFlags, io: ServeIo) => {
  const maxRssKB = flags.reportMemory === true ? process.resourceUsage().maxRSS : undefined;
  if (maxRssKB !== undefined) io.err(`[${role} ${hostName(flags)}] peak RSS: ${(maxRssKB / 1024).toFixed(1)} MB (maxRSS ${maxRssKB} kB)\n`);
};

const describeSpec = (h: LogHeader) => `${h.scenario.name} on ${h.hardware.name}, policy ${h.policy.name}, seed ${h.seed}, ${h.durationMs} ms, ${describeDispatch(h)}`;

/**
 * `serve accelerator|workload`. With `--run` only (and its own slots), it connects, waits for the
 * run's spec from its scheduler (any start order), checks any spec flag given against it and
 * serves the run the spec describes. Given `--scenario` and `--hardware` as well, it resolves the
 * run from its flags at once (so it can claim its slots before the scheduler comes, as before) and
 * checks them, defaults included, against the spec as soon as the scheduler publishes it: a
 * mismatch stops it (exit 2, naming the field) before the scheduler can have started a run with it.
 */
const executeRunService = async (role: "accelerator" | "workload", flags: AcceleratorFlags | WorkloadFlags, io: ServeIo): Promise<number> => {
  const run = parseRunId(flags.run);
  const host = hostName(flags);
  const log = (line: string) => io.err(`[${role} ${host}] ${line}\n`);
  const a = role === "accelerator" ? (flags as AcceleratorFlags) : undefined;
  // what can be checked without the spec is checked before connecting
  const candidates = a?.slot?.split(",").filter((x) => x !== "");
  for (const slot of candidates ?? []) {
    try {
      checkToken("slot id", slot);
    } catch (e) {
      throw new CliInputError(`--slot: '${slot}' cannot be a slot: ${(e as Error).message}`);
    }
  }
  const wanted = a?.slots === undefined ? undefined : parseCount(a.slots, "--slots");
  const leaseTtlMs = a === undefined ? undefined : parseDuration(a.leaseTtl, "--lease-ttl");
  const giveUp = flags.giveUpAfter === undefined ? undefined : { ms: parseDuration(flags.giveUpAfter, "--give-up-after"), flag: flags.giveUpAfter };
  // the spec flags with the scheduler's defaults: what this process assumes when it does not wait for the spec
  const assumed: SpecFlags | undefined =
    flags.scenario === undefined || flags.hardware === undefined
      ? undefined
      : {
          ...flags,
          policy: flags.policy ?? "sdrm3",
          seed: flags.seed ?? "1",
          duration: flags.duration ?? `${defaultDurationMs(flags.policy ?? "sdrm3")}ms`,
        };
  const fromFlags =
    assumed === undefined
      ? undefined
      : resolveRunSpec({
          scenario: assumed.scenario!,
          hardware: assumed.hardware!,
          policy: assumed.policy!,
          params: parseParams(assumed.param ?? []),
          durationMs: parseDuration(assumed.duration!),
          seed: parseSeed(assumed.seed!),
          // the roles do not use the dispatch settings: the flags given are checked against the spec
          ...dispatchOptions(assumed, false),
        });
  const serveRun = async (resolved: ResolvedRun, signal: AbortSignal): Promise<void> => {
    tuneGcForSimulation(resolved.durationMs);
    if (a === undefined) return serveWorkload({ bus, run, resolved, host, log, signal });
    const known = resolved.hardware.accelerators.map((x) => x.id);
    const slots = candidates ?? known;
    for (const slot of slots) {
      if (!known.includes(slot)) throw new CliInputError(`--slot: unknown slot '${slot}' of ${resolved.hardware.name}; valid: ${known.join(", ")}`);
    }
    const want = wanted ?? slots.length;
    if (want > slots.length) throw new CliInputError(`--slots ${want}: only ${slots.length} slots to choose from (${slots.join(", ")})`);
    const leases = await openLeaseBucket(bus.nc, run, { ttlMs: leaseTtlMs! }).catch((e: unknown) => {
      throw new Error(`cannot open the slot lease bucket of run ${run} (JetStream KV): ${errorMessage(e)}`);
    });
    return serveAccelerators({ bus, run, resolved, slots, want, leases, host, log, signal });
  };
  const bus = await connect(role, run, flags);
  try {
    await serveUntilRunEnds(run, giveUp, async (signal) => {
      if (fromFlags === undefined) {
        const spec = await awaitRunSpec(bus.nc, run, {
          signal,
          onWait: () => log(`waiting for the spec of run ${run} from its scheduler (\`sdrm3 serve scheduler --run ${run} …\`)`),
        });
        if (spec === undefined) return; // ended (a signal, --give-up-after) before the scheduler came
        checkAgainstSpec(flags, spec, run);
        log(`run ${run}: ${describeSpec(spec)} (the spec from its scheduler)`);
        return serveRun(resolvedOfSpec(spec), signal);
      }
      // resolved from the flags: serve now, and hold the flags against the spec once it is published
      const served = new AbortController();
      const stop = () => served.abort();
      signal.addEventListener("abort", stop, { once: true });
      let refused: unknown;
      const check = awaitRunSpec(bus.nc, run, { signal: served.signal }).then(
        (spec) => {
          if (spec === undefined) return;
          try {
            checkAgainstSpec(assumed!, spec, run);
          } catch (e) {
            refused = e;
            served.abort();
          }
        },
        (e: unknown) => log(`cannot read the spec of run ${run}: ${errorMessage(e)}`),
      );
      try {
        await serveRun(fromFlags, served.signal);
      } finally {
        served.abort();
        signal.removeEventListener("abort", stop);
        await check;
      }
      if (refused !== undefined) throw refused;
    });
    return 0;
  } finally {
    await bus.close();
    reportMemory(role, flags, io);
  }
};

/** `serve scheduler`: resolves the run from its flags, holds the run lease, publishes the spec and runs it. */
const executeServeScheduler = async (flags: SchedulerFlags & { giveUpAfter?: string }, io: ServeIo): Promise<number> => {
  if (flags.giveUpAfter !== undefined) {
    throw new CliInputError("--give-up-after: only accelerators and workloads take it (the scheduler has --register-timeout and --takeover-timeout)");
  }
  if (flags.scenario === undefined) throw new CliInputError("missing --scenario <name>");
  if (flags.hardware === undefined) throw new CliInputError("missing --hardware <config>/<dataflows>");
  const run = parseRunId(flags.run);
  const policy = flags.policy ?? "sdrm3";
  const live = parseClock(flags.clock, flags.speed, flags.tolerance);
  const warmUpMs = parseWarmUp(flags.warmUp, live !== undefined);
  const speculate = parseSpeculate(flags.speculate, live !== undefined);
  const resolved = resolveRunSpec({
    scenario: flags.scenario,
    hardware: flags.hardware,
    policy,
    params: parseParams(flags.param ?? []),
    durationMs: flags.duration === undefined ? defaultDurationMs(policy) : parseRunDuration(flags.duration),
    seed: parseSeed(flags.seed ?? "1"),
    ...dispatchOptions(flags, live !== undefined),
    files: { models: flags.modelFile ?? [], hardware: flags.hardwareFile ?? [], costs: flags.costs ?? [], scenarios: flags.scenarioFile ?? [] },
  });
  checkBlockFlagsApply(flags, resolved.policy);
  const registerTimeoutMs = parseDuration(flags.registerTimeout, "--register-timeout");
  const slotTakeoverTimeoutMs = parseDuration(flags.takeoverTimeout, "--takeover-timeout");
  const host = hostName(flags);
  const log = (line: string) => io.err(`[scheduler ${host}] ${line}\n`);
  if (flags.events !== undefined) checkOutputFile("--events", flags.events); // before connecting, not when the run starts
  // a live run's warm-up (runtime/warm-up.ts) runs before this process connects or holds a lease: it
  // does not yield to timers, and a lease's heartbeat must not wait for it (none for a live --resume:
  // it is refused once connected, below)
  const warmedUp = live === undefined || flags.resume === true ? undefined : await warmUpLive({ ...resolved, live, ...(warmUpMs === undefined ? {} : { warmUpMs }) }, runScenario);
  if (warmedUp !== undefined && warmedUp.simulatedMs > 0) log(`warm-up: ${warmedUp.simulatedMs} ms of the run in virtual time in ${Math.round(warmedUp.wallMs)} ms`);
  const bus = await connect("scheduler", run, flags);
  try {
    // one scheduler per run: a second one is refused here, before it can disturb the first one's services
    const lease = await claimRun(bus.nc, run, { owner: host, host: hostname() }, { resume: flags.resume === true, log }).catch((e: unknown) => {
      if (e instanceof RunTakenError) throw e;
      throw new Error(`run ${run}: cannot take the run lease (JetStream KV ${runLeaseBucketName(run)}; the scheduler needs a nats-server with JetStream, -js): ${errorMessage(e)}`);
    });
    try {
      // a scheduler that fails, before its run starts (bad flags, a refused recording, a damaged log to
      // resume) or during it, tells the run's other services why, so none waits for a run that never ends
      try {
        if (flags.resume === true && live !== undefined) throw new CliInputError("--resume: only virtual-time runs can be resumed from their log, not --clock live");
        if (flags.elastic === true && (flags.resume === true || flags.recordStream === true)) {
          throw new CliInputError("--elastic: not with --record-stream or --resume (the log header names the hardware before it is known which slots register)");
        }
        // the other roles take the run from this spec (its log header), whenever they start
        await naming(`publishing the run's spec (JetStream KV)`, publishRunSpec(bus.nc, run, logHeaderFor({ ...resolved, run, ...(live === undefined ? {} : { live }) })));
        // --resume: rebuild the kernel from the run's JetStream log (a scheduler that died) and carry on recording
        const resumed = flags.resume === true ? await naming("reading the run's log from JetStream to resume it", resumeStreamRecording(bus, { ...resolved, run })) : undefined;
        if (flags.resume === true) log(resumed === undefined ? `run ${run} has no event log in JetStream yet: starting it from the beginning` : resumed.summary);
        if (flags.events !== undefined && resumed?.resume === undefined) writeFileSync(flags.events, "");
        const eventsFile = flags.events;
        // --record-stream: the run's event log to JetStream (a side channel of the observer; acks awaited at the end)
        const recording: StreamRecording | undefined =
          resumed ??
          (flags.recordStream === true || flags.resume === true
            ? await naming("starting the run's log in JetStream (--record-stream)", startStreamRecording(bus, { ...resolved, run, ...(live === undefined ? {} : { live }) }))
            : undefined);
        tuneGcForSimulation(resolved.durationMs);
        const result = await naming("running the run over NATS", serveScheduler({
          bus,
          run,
          resolved: speculate === undefined ? resolved : { ...resolved, speculate },
          ...(warmedUp === undefined ? {} : { warmedUp }),
          log,
          registerTimeoutMs,
          slotTakeoverTimeoutMs,
          ...(live === undefined ? {} : { live }),
          ...(resumed?.resume === undefined ? {} : { resume: resumed.resume }),
          ...(flags.elastic === true ? { elastic: true } : {}),
          ...(eventsFile === undefined ? {} : { onEvent: (e) => appendFileSync(eventsFile, `${JSON.stringify(e)}\n`) }),
          ...(recording === undefined ? {} : { observer: recording.recorder }),
        }));
        // a recording that could not be stored fails the run here, loudly
        if (recording !== undefined) io.err(await naming("storing the run's log in JetStream (--record-stream)", recording.finish()));
        io.out(flags.json ? `${JSON.stringify(runToJson(result))}\n` : formatRunHuman(result));
        await naming("flushing the connection to NATS at the end of the run", bus.flush());
      } catch (e) {
        publishRunControl(bus, run, "stop", errorMessage(e));
        throw e;
      }
    } finally {
      // the run is over (or failed): its lease bucket, its spec and its run lease go with it
      const warn = (what: string) => (e: unknown) => log(`could not remove the ${what} of run ${run}: ${errorMessage(e)}`);
      // once its holders have released their slots (they do on the run's end), or stopped renewing them
      const slots = resolved.hardware.accelerators.map((a) => a.id);
      const held = await awaitLeasesReleased(bus.nc, run, slots).catch((e: unknown) => (log(`could not read the leases of run ${run}: ${errorMessage(e)}`), []));
      if (held.length > 0) log(`slots ${held.join(", ")} still held at the end of run ${run} (a holder that stopped without releasing): removing the lease bucket anyway`);
      await removeLeaseBucket(bus.nc, run).catch(warn("lease bucket"));
      await removeRunSpec(bus.nc, run).catch(warn("spec"));
      await lease.release().catch(warn("run lease"));
    }
    return 0;
  } finally {
    await bus.close();
    reportMemory("scheduler", flags, io);
  }
};

/**
 * `promise`, whose rejection by a library (the NATS client's bare "timeout", say) is named with the
 * step that failed (docs/reliability.md "Seen once: run failed: timeout"); sdrm3's own errors
 * already say what failed and keep their class (input errors exit 2).
 */
export const naming = <T>(what: string, promise: Promise<T>): Promise<T> =>
  promise.catch((e: unknown) => {
    throw e instanceof Sdrm3Error || isInputError(e) ? e : new Error(`${what}: ${errorMessage(e)}`, { cause: e });
  });

/** `serve recorder`: follows the run's JetStream log (`--record-stream`) into a JSONL file, ends at run.finished. */
const executeServeRecorder = async (flags: RecorderFlags, io: ServeIo): Promise<number> => {
  if (flags.out === undefined) throw new CliInputError("serve recorder: missing --out <file> (the run's JSONL log)");
  const run = parseRunId(flags.run);
  const waitMs = parseDuration(flags.waitTimeout, "--wait-timeout");
  const idleMs = parseDuration(flags.idleTimeout, "--idle-timeout");
  checkOutputFile("--out", flags.out);
  const log = (line: string) => io.err(`[recorder ${hostName(flags)}] ${line}\n`);
  const bus = await connect("recorder", run, flags);
  try {
    const r = await serveRecorder({ bus, run, out: flags.out, waitMs, idleMs, log });
    log(`recorded run ${run}: ${r.lines} lines (header + ${r.entries} entries, ${r.bytes} bytes) to ${r.out}`);
    return 0;
  } finally {
    await bus.close();
  }
};

// ─── registration: one subcommand per role, each with its own flags ──────────────────────────

const connectionOptions = (cmd: Command, run: boolean): Command => {
  cmd
    .requiredOption("--nats <url>", "NATS server, e.g. nats://127.0.0.1:4222")
    .option("--connect-timeout <d>", "fail when NATS does not answer within this time", SERVE_DEFAULTS.connectTimeout)
    .option("--name <name>", "process name in registrations and logs (default host:pid)");
  if (run) cmd.option("--run <id>", "run id (isolates the run's subjects)", "run1");
  return cmd;
};

/** The run's settings: chosen by the scheduler; on another role only checked against the scheduler's spec. */
const specOptions = (cmd: Command, scheduler: boolean): Command => {
  const check = scheduler ? "" : " (optional: checked against the run's spec from its scheduler; a mismatch is refused)";
  return cmd
    .option("--scenario <name>", `scenario name${check}`)
    .option("--hardware <config/dataflows>", `hardware, e.g. Quad_8K/WS_OS_WS_OS${check}`)
    .option("--policy <name>", `scheduling policy${scheduler ? " (default sdrm3)" : check}`)
    .option("--param <name=value>", `policy parameter (repeatable)${check}`, collect)
    .option("--duration <d>", `simulated time${scheduler ? " (default: 700ms for xrbench, 10s otherwise)" : check}`)
    .option("--seed <n>", `run seed${scheduler ? " (default 1)" : check}`)
    .option("--block <layers|auto>", `block size B${scheduler ? " (default 1); auto: quantum blocks" : check}`)
    .option("--quantum <d>", `quantum blocks: layers grouped until their latency reaches d, e.g. 0.25ms${scheduler ? ` (default 0: blocks of --block layers; with --clock live ${LIVE_DISPATCH_DEFAULTS.quantumMs}ms)` : check}`)
    .option("--queue-depth <d>", `dispatch queues: blocks an accelerator may hold committed${scheduler ? " (default 1: no queue)" : check}`)
    .option("--chain <d>", `bounded chains: a job's next block committed behind its own until the chain has run d, e.g. 0.5ms${scheduler ? " (default 0: off; needs --queue-depth 2+)" : check}`)
    .option("--lookahead <d>", `a busy accelerator takes a block only once its queue ends within d, e.g. 1ms${scheduler ? " (default: any room; needs --queue-depth 2+)" : check}`);
};

/** Registers `serve <role>` on the program: scheduler | accelerator | workload | recorder | dashboard | worker. */
export const registerServe = (program: Command, io: ServeIo, setResult: (code: number) => void): void => {
  const serve = program
    .command("serve")
    .description("run one service of a distributed run over NATS (docs/distributed.md): scheduler | accelerator | workload | recorder | dashboard | worker");
  const scheduler = specOptions(connectionOptions(serve.command("scheduler").description("run the run: resolve it from the flags, publish its spec, wait for its services, print the result"), true), true)
    .option("--scenario-file <path>", "load scenarios from a JSON file, e.g. from `sdrm3 gen scenario` (repeatable)", collect)
    .option("--hardware-file <path>", "load hardware configs from a JSON file, e.g. from `sdrm3 gen hardware` (repeatable)", collect)
    .option("--model-file <path>", "load a model (layer list) from a JSON file (repeatable)", collect)
    .option("--costs <path>", "load per-layer costs from a MAESTRO-style CSV (repeatable)", collect)
    .option("--register-timeout <d>", "fail when slots or tasks have not registered within this time", SERVE_DEFAULTS.registerTimeout)
    .option("--takeover-timeout <d>", "fail when a dead accelerator's slot is not taken over within this time", SERVE_DEFAULTS.takeoverTimeout)
    .option("--json", "print the result as JSON")
    .option("--events <file>", "write every run event (decisions included) as JSONL")
    .option("--record-stream", "record the run's event log to JetStream (stream SDRM3_LOG, subject sdrm3.<run>.log; export with `sdrm3 log export`)")
    .option("--elastic", "when the register timeout passes, run on the accelerator slots that registered (at least one) instead of failing")
    .option("--resume", "resume the run from its JetStream log (a restarted scheduler; implies --record-stream; takes over the run lease once the dead scheduler's lapses; docs/reliability.md)")
    .option("--clock <virtual|live>", "virtual (default) or live time (accelerators really wait; docs/live.md)")
    .option("--speed <x>", "with --clock live: 0.1 = ten times slower than real (default 1)")
    .option("--tolerance <d>", `with --clock live: lateness of the emulation absorbed, wall time (default ${DEFAULT_TOLERANCE_MS}ms; 0: every event at the clock reading; docs/live.md)`)
    .option("--warm-up <d>", `with --clock live: simulated time of a virtual-time run of the spec in this process before the clock starts (default ${LIVE_WARM_UP_MS / 1000}s; 0: none; docs/live.md)`)
    .option("--speculate <n>", `virtual time: predict block replies from the cost table, n of them unconfirmed by the accelerators or fewer (default ${DEFAULT_SPECULATION_DEPTH}; 0: each step waits for its replies; the result is the same; docs/architecture.md)`)
    .option("--report-memory", "print the process's peak RSS (maxRSS) on stderr when it ends")
    // refused with a reason rather than as an unknown option: it is a flag of the services that wait for a scheduler
    .addOption(new Option("--give-up-after <d>").hideHelp());
  scheduler.action(async (flags: SchedulerFlags) => setResult(await executeServeScheduler(flags, io)));
  specOptions(connectionOptions(serve.command("accelerator").description("host accelerator slots of a run (the run's spec comes from its scheduler)"), true), false)
    .option("--slot <ids>", "comma-separated slots it may host (default: all, in index order)")
    .option("--slots <n>", "how many of those slots to hold (any free ones, in order); while it holds fewer it waits as a hot spare (default: all of --slot)")
    .option("--lease-ttl <d>", "slot lease TTL when creating the run's lease bucket", SERVE_DEFAULTS.leaseTtl)
    .option("--give-up-after <d>", "exit 1 when the run has not ended within this time (default: wait as long as it takes, e.g. for a scheduler)")
    .option("--report-memory", "print the process's peak RSS (maxRSS) on stderr when it ends")
    .action(async (flags: AcceleratorFlags) => setResult(await executeRunService("accelerator", flags, io)));
  specOptions(connectionOptions(serve.command("workload").description("host the model tasks of a run (the run's spec comes from its scheduler)"), true), false)
    .option("--give-up-after <d>", "exit 1 when the run has not ended within this time (default: wait as long as it takes, e.g. for a scheduler)")
    .option("--report-memory", "print the process's peak RSS (maxRSS) on stderr when it ends")
    .action(async (flags: WorkloadFlags) => setResult(await executeRunService("workload", flags, io)));
  connectionOptions(serve.command("recorder").description("follow a run's JetStream log (--record-stream) into a JSONL file; the log's header is the run's spec"), true)
    .option("--out <file>", "the JSONL file to write (byte-identical to `sdrm3 log export`)")
    .option("--wait-timeout <d>", "fail when the run's log has not appeared in JetStream within this time", SERVE_DEFAULTS.waitTimeout)
    .option("--idle-timeout <d>", "fail when the run's log gets no new line for this long", SERVE_DEFAULTS.idleTimeout)
    .action(async (flags: RecorderFlags) => setResult(await executeServeRecorder(flags, io)));
  specOptions(connectionOptions(serve.command("dashboard").description("the live web dashboard of a run (its spec from its scheduler when published; docs/dashboard.md)"), true), false)
    .option("--port <n>", "HTTP port (0 = any free port; default 8080)")
    .option("--bind <addr>", "address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    .option("--window <d>", "sliding window of the per-model figures and UXCost, run time (default 1s)")
    .action(async (flags: ServeDashboardFlags) => setResult(await executeServeDashboard(flags, io)));
  connectionOptions(serve.command("worker").description("a stateless sweep worker for `sdrm3 compare --nats` (queue group sdrm3-sweep-workers)"), false).action(
    async (flags: WorkerFlags) => setResult(await executeWorker(flags, io)),
  );
};
