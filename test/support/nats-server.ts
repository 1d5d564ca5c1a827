/**
 * Where the `nats-server` binary is, for the test fixture (test/global-setup.ts) and the benchmarks;
 * and a private server for tests that need their own (e.g. listening on a veth address).
 */
import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort, waitForPort } from "./processes";

const DEBIAN_BINARY = "/usr/sbin/nats-server";

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** NATS_SERVER_BIN if set (used as is), else `nats-server` on PATH, else the Debian location. */
export const findNatsServerBinary = (): string | undefined => {
  const forced = process.env.NATS_SERVER_BIN;
  if (forced !== undefined && forced !== "") return isExecutable(forced) ? forced : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "nats-server");
    if (isExecutable(candidate)) return candidate;
  }
  return isExecutable(DEBIAN_BINARY) ? DEBIAN_BINARY : undefined;
};

/** A private nats-server started by a test (JetStream on, its store in a temp dir). */
export interface PrivateNatsServer {
  /** `nats://<host>:<port>` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts a private nats-server with JetStream listening on `host` (default 127.0.0.1, e.g. a veth
 * address) and a free port; resolves once it accepts connections. Throws with the log's tail when
 * it does not start, or when there is no nats-server binary.
 */
export const startNatsServer = async (opts: { readonly host?: string; readonly extraArgs?: ReadonlyArray<string> } = {}): Promise<PrivateNatsServer> => {
  const binary = findNatsServerBinary();
  if (binary === undefined) throw new Error(`nats-server not found on PATH nor at ${DEBIAN_BINARY} (apt-get install nats-server)`);
  const host = opts.host ?? "127.0.0.1";
  const dir = mkdtempSync(join(tmpdir(), "sdrm3-nats-private-"));
  const logFile = join(dir, "server.log");
  const readLog = () => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort(); // free on 127.0.0.1; a wildcard or other local address shares the port space closely enough (retried)
    const child = spawn(binary, ["-a", host, "-p", String(port), "-js", "-sd", dir, "-l", logFile, ...(opts.extraArgs ?? [])], { stdio: "ignore" });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    };
    if (await waitForPort(port, 100, 50, host)) {
      return {
        url: `nats://${host}:${port}`,
        host,
        port,
        log: readLog,
        stop: async () => {
          await stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stop();
  }
  const tail = readLog().trim().split("\n").slice(-5).join(" | ");
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`nats-server on ${host} did not start${tail === "" ? "" : ` (log: ${tail})`}`);
};
