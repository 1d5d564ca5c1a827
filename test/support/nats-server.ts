/**
 * Where the `nats-server` binary is, and the one way the tests start a nats-server of their own: the
 * test run's server (test/global-setup.ts) and the private servers of single tests (a restart, a
 * veth address, authentication or TLS configurations).
 *
 * Several test runs may share a machine (docs/reliability.md, "Beside another test run"), so a
 * server started here can never be confused with another run's, and stopping it can never touch
 * another run's:
 * - **its own port, proven by the server**: the server picks a free port itself (`-p -1`) — there
 *   is no "free a moment ago" port that another run could take before the server binds it — and
 *   writes the port it listens on into a ports file named after its pid (`--ports_file_dir`); the
 *   port is read from the file of the pid this process spawned. A connection test would accept any
 *   listener on the port (another run's server); the ports file does not. A server given a fixed
 *   port (a restart on the same port) that cannot bind it exits, and `startNatsServer` fails saying so.
 * - **its own directory**: store, log, stderr and ports file in a fresh temp dir (or the caller's).
 * - **only its own process is signalled**: through the ChildProcess this process spawned (never a
 *   pid number, a name, a port or a process group). When this process dies without stopping it,
 *   the kernel ends the server (`setpriv --pdeathsig`, util-linux): no watchdog holds a pid that
 *   could belong to another process by the time it fires. (The kernel watches the thread that
 *   spawned the server: the main thread here — vitest's default `forks` pool runs each test file
 *   in a process of its own; a worker-thread pool would end a server with its thread.)
 * - **its end is explained**: the server's stderr (where a Go panic goes; the log file only has the
 *   server's own lines) is kept in its directory, and `exited()` / `onExit` give the exit code or
 *   the signal, so a server that dies during a run says how.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

const DEBIAN_BINARY = "/usr/sbin/nats-server";

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const onPath = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
};

/** NATS_SERVER_BIN if set (used as is), else `nats-server` on PATH, else the Debian location. */
export const findNatsServerBinary = (): string | undefined => {
  const forced = process.env.NATS_SERVER_BIN;
  if (forced !== undefined && forced !== "") return isExecutable(forced) ? forced : undefined;
  return onPath("nats-server") ?? (isExecutable(DEBIAN_BINARY) ? DEBIAN_BINARY : undefined);
};

/** `setpriv` (util-linux, Linux) if present: it sets the parent-death signal, then execs the server (same pid). */
const SETPRIV = process.platform === "linux" ? (onPath("setpriv") ?? ["/usr/bin/setpriv", "/bin/setpriv"].find(isExecutable)) : undefined;

/** Whether a server started here is ended by the kernel when its starter dies (setpriv found; else only `stop()` and exit handlers end it). */
export const endsWithItsStarter = SETPRIV !== undefined;

/** How a server process ended. */
export interface ServerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export const describeExit = (e: ServerExit): string => (e.signal !== null ? `killed by ${e.signal}` : `exited with code ${e.code}`);

/** A nats-server started by this process. */
export interface PrivateNatsServer {
  /** `nats://<host>:<port>` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The server's pid (the process this process spawned). */
  readonly pid: number;
  /** Its directory: JetStream store (`js/`, unless a config file says otherwise), logs, stderr, ports file. */
  readonly dir: string;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** What the server wrote to stderr (a Go panic or fatal error lands here, not in the log). */
  stderr(): string;
  /** How it ended; undefined while it runs. */
  exited(): ServerExit | undefined;
  /** Called once when the server process ends, however it ends. */
  onExit(listener: (e: ServerExit) => void): void;
  /** Sends `signal` to this server (its ChildProcess; nothing if it has ended), e.g. SIGSTOP. */
  signal(signal: NodeJS.Signals): void;
  /** Sends `signal` to this server (its ChildProcess; nothing if it has ended) and resolves when it has ended. */
  kill(signal: NodeJS.Signals): Promise<ServerExit>;
  /** Synchronous SIGKILL to this server, for a process "exit" handler. */
  killNow(): void;
  /** Ends the server (SIGTERM, SIGKILL after 5 s) and removes its directory (unless the caller gave it). */
  stop(): Promise<void>;
}

export interface StartNatsServerOptions {
  /** Listen address (default 127.0.0.1; e.g. a veth address). Ignored with `config`. */
  readonly host?: string;
  /**
   * Port to listen on. Default: chosen by the server (`-p -1`). A fixed port is for a restart on
   * the port a server of this test had (see `portOutsideEphemeralRange`). Ignored with `config`
   * (write `port: -1` into it).
   */
  readonly port?: number;
  /** A config file (`-c`): its host, port, JetStream and authorization apply instead of the flags here. */
  readonly config?: string;
  /** More flags (e.g. `--user`, `--pass`). */
  readonly args?: ReadonlyArray<string>;
  readonly env?: NodeJS.ProcessEnv;
  /** The server's directory; kept by `stop()`. Default: a fresh temp dir, removed by `stop()`. */
  readonly dir?: string;
  /** How long to wait for the server to listen (default 30 s: a loaded machine starts it slowly). */
  readonly timeoutMs?: number;
}

let starts = 0;

const readText = (file: string): string => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
};

const tail = (text: string, lines = 8): string => text.trim().split("\n").slice(-lines).join("\n");

/** Where the server with this pid listens, from `<dir>/*_<pid>.ports` (written once it listens), if it is there yet. */
const listeningFromPortsFile = (dir: string, pid: number): { host: string; port: number } | undefined => {
  const name = readdirSync(dir).find((f) => f.endsWith(`_${pid}.ports`));
  if (name === undefined) return undefined;
  try {
    const ports = JSON.parse(readFileSync(join(dir, name), "utf8")) as { nats?: string[] };
    const url = new URL(ports.nats?.[0] ?? ""); // nats:// or tls://<host>:<port>
    const port = Number(url.port);
    return Number.isInteger(port) && port > 0 ? { host: url.hostname, port } : undefined;
  } catch {
    return undefined; // being written
  }
};

/**
 * Starts a nats-server with JetStream (store in `<dir>/js`) and resolves once the server itself has
 * reported the port it listens on. Throws with the exit status, stderr and log tail when it does not
 * start (or when there is no nats-server binary).
 */
export const startNatsServer = async (opts: StartNatsServerOptions = {}): Promise<PrivateNatsServer> => {
  const binary = findNatsServerBinary();
  if (binary === undefined) throw new Error(`nats-server not found on PATH nor at ${DEBIAN_BINARY} (apt-get install nats-server)`);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "sdrm3-nats-"));
  const n = ++starts;
  const portsDir = join(dir, `ports-${process.pid}-${n}`);
  mkdirSync(portsDir, { recursive: true });
  const logFile = join(dir, `server-${process.pid}-${n}.log`);
  const stderrFile = join(dir, `server-${process.pid}-${n}.stderr`);
  const host = opts.host ?? "127.0.0.1";
  const where =
    opts.config !== undefined
      ? ["-c", opts.config]
      : ["-a", host, "-p", String(opts.port ?? -1), "-js", "-sd", join(dir, "js")];
  const serverArgs = [...where, "-l", logFile, "--ports_file_dir", portsDir, ...(opts.args ?? [])];
  const [command, args] = SETPRIV === undefined ? [binary, serverArgs] : [SETPRIV, ["--pdeathsig", "TERM", "--", binary, ...serverArgs]];
  const err = openSync(stderrFile, "w");
  let child: ChildProcess;
  try {
    child = spawn(command, args, { env: opts.env ?? process.env, stdio: ["ignore", "ignore", err] });
  } finally {
    closeSync(err);
  }
  let spawnError: Error | undefined;
  child.on("error", (e) => (spawnError = e));
  let exit: ServerExit | undefined;
  const exitListeners: Array<(e: ServerExit) => void> = [];
  const ended = new Promise<ServerExit>((resolve) =>
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      for (const l of exitListeners) l(exit);
      resolve(exit);
    }),
  );
  const kill = async (signal: NodeJS.Signals): Promise<ServerExit> => {
    if (child.pid === undefined) return { code: null, signal: null }; // never started (spawn error)
    if (exit === undefined) child.kill(signal);
    return ended;
  };
  const stopProcess = async () => {
    if (exit !== undefined || child.pid === undefined) return;
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.kill("SIGCONT"); // a stopped server would not act on SIGTERM
    await kill("SIGTERM");
    clearTimeout(timer);
  };
  const removeDir = () => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  const deadline = performance.now() + (opts.timeoutMs ?? 30_000);
  let listening: { host: string; port: number } | undefined;
  while (listening === undefined && exit === undefined && spawnError === undefined && performance.now() < deadline) {
    if (child.pid !== undefined) listening = listeningFromPortsFile(portsDir, child.pid);
    if (listening === undefined) await new Promise((r) => setTimeout(r, 25));
  }
  if (listening === undefined || child.pid === undefined) {
    await stopProcess();
    const why = spawnError?.message ?? (exit !== undefined ? describeExit(exit) : `did not report a listening port within ${opts.timeoutMs ?? 30_000} ms`);
    const stderr = tail(readText(stderrFile));
    const log = tail(readText(logFile));
    removeDir();
    const at = opts.config !== undefined ? `config ${opts.config}` : `${host}:${opts.port ?? "(its choice)"}`;
    throw new Error(`nats-server (${at}): ${why}${log === "" ? "" : `\n--- log ---\n${log}`}${stderr === "" ? "" : `\n--- stderr ---\n${stderr}`}`);
  }
  return {
    url: `nats://${listening.host}:${listening.port}`,
    host: listening.host,
    port: listening.port,
    pid: child.pid,
    dir,
    log: () => readText(logFile),
    stderr: () => readText(stderrFile),
    exited: () => exit,
    onExit: (listener) => {
      if (exit !== undefined) listener(exit);
      else exitListeners.push(listener);
    },
    signal: (signal) => {
      if (exit === undefined) child.kill(signal);
    },
    kill,
    killNow: () => {
      if (exit === undefined) child.kill("SIGKILL");
    },
    stop: async () => {
      await stopProcess();
      removeDir();
    },
  };
};

/**
 * The ephemeral port range (`/proc/sys/net/ipv4/ip_local_port_range`): the ports the kernel hands
 * out for `listen(0)` / `-p -1` and outgoing connections. Linux default 32768–60999.
 */
const ephemeralRange = (): readonly [number, number] => {
  const text = readText("/proc/sys/net/ipv4/ip_local_port_range").trim();
  const [lo, hi] = text.split(/\s+/).map(Number);
  return lo !== undefined && hi !== undefined && Number.isInteger(lo) && Number.isInteger(hi) ? [lo, hi] : [32768, 60999];
};

const canBind = (port: number, host: string): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });

/**
 * A port for a server that must come back on the same port after a restart (test/faults/nats-restart):
 * one that the kernel never hands out by itself (below the ephemeral range), so no other run's
 * `-p -1` server, `listen(0)` or outgoing connection can take it while the server is down; free on
 * `host` now. Only another fixed-port choice could collide, and the restarted server would then fail
 * to bind, which `startNatsServer` reports.
 */
export const portOutsideEphemeralRange = async (host = "127.0.0.1"): Promise<number> => {
  const [lo] = ephemeralRange();
  const from = Math.max(1024, lo - 12_000);
  const to = Math.max(from + 1, lo); // [from, to)
  const { randomInt } = await import("node:crypto");
  for (let tries = 0; tries < 50; tries++) {
    const port = randomInt(from, to);
    if (await canBind(port, host)) return port;
  }
  throw new Error(`no free port found below the ephemeral range (${from}–${to - 1}) on ${host}`);
};
