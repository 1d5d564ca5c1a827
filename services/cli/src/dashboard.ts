/**
 * The dashboard commands (docs/dashboard.md):
 *
 *   sdrm3 serve dashboard --nats <url> --run <id> [--port 8080] [--bind 127.0.0.1]   (the run's spec from its scheduler)
 *   sdrm3 dashboard <run.jsonl> [--speed x] [--port 8080] [--bind 127.0.0.1]
 *
 * Both run until SIGINT / SIGTERM. With the run's flags, `serve dashboard` knows the hardware's
 * slots, the models' targets and ideal energies (so UXCost) from the start; without them it learns
 * the slots and models from the traffic and shows no UXCost.
 */
import { isIP } from "node:net";
import type { Command } from "commander";
import { awaitRunSpec, connectNatsBus } from "@sdrm3/shared/nats";
import { defaultDurationMs, resolveRunSpec } from "@sdrm3/shared/runtime";
import { Subjects, checkToken } from "@sdrm3/shared/contracts";
import { replayDashboard, runInfoOfId, runInfoOfResolved, serveDashboard } from "@sdrm3/dashboard";
import { CliInputError, parseDuration, parseRunDuration, parseSeed } from "./duration";
import { blockRuleOptions, parseBlockRule, parseParams, parseSpeed } from "./flags";
import { type NatsConnectionFlags, resolveNatsConnection } from "./nats-flags";
import { type SpecFlags, checkAgainstSpec, resolvedOfSpec } from "./run-spec";

interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const DEFAULT_DASHBOARD_PORT = 8080;

/** How long `serve dashboard` waits for its run's spec before it shows the run as learnt from the traffic. */
const SPEC_WAIT_MS = 10_000;

const parsePort = (text: string | undefined): number => {
  if (text === undefined) return DEFAULT_DASHBOARD_PORT;
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new CliInputError(`--port: expected a port number 0-65535, got '${text}'`);
  return Number(text);
};

/**
 * `--bind`: an IP address, or a host name the system resolves (127.0.0.1 by default). Text shaped
 * like an address that is none (`999.1.1.1`, `::g`) or with characters no host name has is refused
 * here (exit 2); a well-formed name that does not resolve fails when the server listens.
 */
export const parseBind = (text: string | undefined): string => {
  if (text === undefined) return "127.0.0.1";
  const addressShaped = /^[\d.]+$/.test(text) || text.includes(":");
  const valid = isIP(text) !== 0 || (!addressShaped && /^(?=.{1,253}$)[a-z\d]([a-z\d-]{0,61}[a-z\d])?(\.[a-z\d]([a-z\d-]{0,61}[a-z\d])?)*$/i.test(text));
  if (!valid) throw new CliInputError(`--bind: expected an IP address or a host name to listen on, such as 127.0.0.1, 0.0.0.0 or ::, got '${text}'`);
  return text;
};

const parseWindow = (text: string | undefined): number | undefined => (text === undefined ? undefined : parseDuration(text, "--window"));

/** Runs until SIGINT / SIGTERM. */
const untilSignal = () => {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  return {
    signal: stop.signal,
    dispose: () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    },
  };
};

export interface ServeDashboardFlags extends NatsConnectionFlags, SpecFlags {
  nats: string;
  run: string;
  connectTimeout: string;
  port?: string;
  bind?: string;
  window?: string;
}

/**
 * `sdrm3 serve dashboard`: follows a live run over NATS. What it knows of the run before its
 * traffic: the spec its scheduler published (the flags, if given, are checked against it); before
 * the scheduler has published one, the flags (`--scenario` and `--hardware`), or nothing (the
 * slots and models are then learnt from the traffic).
 */
export const executeServeDashboard = async (flags: ServeDashboardFlags, io: Io): Promise<number> => {
  let run: string;
  try {
    run = checkToken("run id", flags.run);
  } catch (e) {
    throw new CliInputError(`--run: ${(e as Error).message}`);
  }
  if ((flags.scenario === undefined) !== (flags.hardware === undefined)) {
    throw new CliInputError("serve dashboard: give both --scenario and --hardware (the run's), or neither");
  }
  const connection = resolveNatsConnection(flags.nats, flags); // credentials out of the URL; `display` is masked
  const policy = flags.policy ?? "sdrm3";
  const fromFlags = () =>
    flags.scenario === undefined || flags.hardware === undefined
      ? runInfoOfId(run, connection.display)
      : runInfoOfResolved(
          run,
          connection.display,
          resolveRunSpec({
            scenario: flags.scenario,
            hardware: flags.hardware,
            policy,
            params: parseParams(flags.param ?? []),
            durationMs: flags.duration === undefined ? defaultDurationMs(policy) : parseRunDuration(flags.duration),
            seed: parseSeed(flags.seed ?? "1"),
            ...blockRuleOptions(parseBlockRule(flags.block, flags.quantum)),
          }),
        );
  const info0 = fromFlags(); // bad flags are refused before connecting
  const port = parsePort(flags.port);
  const windowMs = parseWindow(flags.window);
  const bind = parseBind(flags.bind);
  const log = (line: string) => io.err(`[dashboard] ${line}\n`);
  const bus = await connectNatsBus({
    ...connection.options,
    name: `sdrm3-dashboard-${run}`,
    inboxPrefix: Subjects.inboxPrefix(run, "dashboard"),
    connectTimeoutMs: parseDuration(flags.connectTimeout, "--connect-timeout"),
  });
  // a dashboard started with its run waits a little for the scheduler's spec; after that it learns from the traffic
  const spec = await awaitRunSpec(bus.nc, run, {
    signal: AbortSignal.timeout(SPEC_WAIT_MS),
    onWait: () => log(`waiting up to ${SPEC_WAIT_MS / 1000} s for the spec of run ${run} from its scheduler`),
  }).catch(async (e: unknown) => {
    await bus.close();
    throw e;
  });
  if (spec === undefined) log(`no spec of run ${run} yet: ${flags.scenario === undefined ? "slots and models are learnt from the traffic" : "using --scenario and --hardware"}`);
  if (spec !== undefined) {
    try {
      checkAgainstSpec(flags, spec, run);
    } catch (e) {
      await bus.close();
      throw e;
    }
  }
  const info = spec === undefined ? info0 : runInfoOfResolved(run, connection.display, resolvedOfSpec(spec));
  if (spec !== undefined) log(`run ${run}: the spec from its scheduler`);
  const stop = untilSignal();
  try {
    await serveDashboard({ bus, info, port, host: bind, signal: stop.signal, log, ...(windowMs === undefined ? {} : { windowMs }) });
    return 0;
  } finally {
    stop.dispose();
    await bus.close();
  }
};

interface DashboardFlags {
  speed: string;
  port?: string;
  bind?: string;
  window?: string;
}

/** `sdrm3 dashboard <log>`: replays a recorded log to the page. */
const executeDashboard = async (path: string, flags: DashboardFlags, io: Io): Promise<number> => {
  const speed = parseSpeed(flags.speed.replace(/x$/, ""), "virtual ms per wall ms", flags.speed);
  const port = parsePort(flags.port);
  const windowMs = parseWindow(flags.window);
  const stop = untilSignal();
  try {
    await replayDashboard({
      path,
      speed,
      port,
      host: parseBind(flags.bind),
      signal: stop.signal,
      log: (line) => io.err(`[dashboard] ${line}\n`),
      ...(windowMs === undefined ? {} : { windowMs }),
    });
    return 0;
  } finally {
    stop.dispose();
  }
};

/** Registers `dashboard <log>` on the program (`serve dashboard` is a role of `serve`). */
export const registerDashboard = (program: Command, io: Io, setResult: (code: number) => void): void => {
  program
    .command("dashboard")
    .description("replay a recorded event log to the live web dashboard (the page `serve dashboard` serves for a live run)")
    .argument("<log>", "event log (JSONL, from `sdrm3 run --record`)")
    .option("--speed <x>", "virtual ms per wall ms: 1 = as fast as the run's own time, 0.1 = ten times slower", "0.1")
    .option("--port <n>", `HTTP port (0 = any free port; default ${DEFAULT_DASHBOARD_PORT})`)
    .option("--bind <addr>", "address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    .option("--window <d>", "sliding window of the per-model figures and UXCost, run time (default 1s)")
    // a missing file or a bad header is an input error: main exits 2 with its message (contracts/errors)
    .action(async (path: string, flags: DashboardFlags) => setResult(await executeDashboard(path, flags, io)));
};
