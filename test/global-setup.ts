/**
 * Vitest globalSetup: find or start one NATS server (with JetStream) for the whole test run and
 * provide its connection options to tests (`inject("nats")`, read through natsTestOptions() in
 * shared/src/testkit/nats-fixture.ts). Order (STACK.md §4.3):
 *
 *   1. NATS_URL (+ optional NATS_USER / NATS_PASS) — an existing server; nothing is started;
 *   2. testcontainers, only if a container runtime answers: NatsContainer("nats:2.10-alpine") with JetStream;
 *   3. the `nats-server` binary (NATS_SERVER_BIN, else PATH, else /usr/sbin/nats-server) on 127.0.0.1:<free port>,
 *      `-js -sd <tmpdir>`; killed and its directory removed at teardown.
 *
 * If none works, nothing is skipped: `nats` is provided as null with the reasons in `natsError`,
 * and every test that asks for NATS fails with "No NATS server available: …".
 */

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import type { NatsFixtureInfo, NatsSource } from "../shared/src/testkit/nats-fixture";
import { findNatsServerBinary } from "./support/nats-server";

const CONTAINER_IMAGE = "nats:2.10-alpine";
const RUNTIME_PROBE_TIMEOUT_MS = 15_000;
const SERVER_START_TIMEOUT_MS = 10_000;
const DEBIAN_BINARY = "/usr/sbin/nats-server";

type Teardown = () => Promise<void>;

interface Found {
  readonly info: NatsFixtureInfo;
  readonly source: Exclude<NatsSource, "none">;
  readonly teardown?: Teardown;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const withTimeout = <A>(p: Promise<A>, ms: number, what: string): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
    p.then(
      (a) => {
        clearTimeout(timer);
        resolve(a);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const canConnect = (port: number): Promise<boolean> =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });

const freePort = (): Promise<number> =>
  new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });

const fromEnv = (): Found | undefined => {
  const url = process.env.NATS_URL;
  if (url === undefined || url === "") return undefined;
  const user = process.env.NATS_USER;
  const pass = process.env.NATS_PASS;
  return {
    source: "env",
    info: { servers: url, ...(user === undefined ? {} : { user }), ...(pass === undefined ? {} : { pass }) },
  };
};

const fromTestcontainers = async (): Promise<Found> => {
  const { getContainerRuntimeClient } = await import("testcontainers");
  await withTimeout(getContainerRuntimeClient(), RUNTIME_PROBE_TIMEOUT_MS, "container runtime probe");
  const { NatsContainer } = await import("@testcontainers/nats");
  const container = await new NatsContainer(CONTAINER_IMAGE).withJetStream().start();
  const o = container.getConnectionOptions();
  const servers = Array.isArray(o.servers) ? o.servers.join(",") : String(o.servers);
  return {
    source: "testcontainers",
    info: {
      servers,
      ...(o.user === undefined ? {} : { user: o.user }),
      ...(o.pass === undefined ? {} : { pass: o.pass }),
    },
    teardown: async () => {
      await container.stop();
    },
  };
};

const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
};

/**
 * A `sh` that waits for its stdin (a pipe from this process) to close, then kills the server and
 * removes its directory. Only our own exit closes that pipe, so it fires when vitest dies without
 * teardown (SIGKILL, a broken stdout pipe…). Teardown SIGKILLs the watchdog first.
 */
const startWatchdog = (server: ChildProcess, dir: string): ChildProcess | undefined => {
  if (server.pid === undefined) return undefined;
  const watchdog = spawn(
    "sh",
    ["-c", 'cat >/dev/null; kill -TERM "$1" 2>/dev/null; sleep 2; kill -KILL "$1" 2>/dev/null; rm -rf "$2"', "sh", String(server.pid), dir],
    { stdio: ["pipe", "ignore", "ignore"] },
  );
  watchdog.on("error", () => undefined); // no sh: just no watchdog
  watchdog.unref();
  const stdin = watchdog.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null;
  stdin?.unref?.();
  return watchdog;
};

const startBinaryOnce = async (binary: string, dir: string): Promise<Found> => {
  const port = await freePort();
  const logFile = join(dir, `nats-${port}.log`);
  const child = spawn(binary, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir, "-l", logFile], {
    stdio: "ignore",
  });
  let spawnError: Error | undefined;
  child.on("error", (e) => {
    spawnError = e;
  });
  // If vitest dies without running teardown, do not leave the server behind: on a normal exit the
  // "exit" hook kills it; if vitest is killed outright, the watchdog sees its stdin close and does.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const watchdog = startWatchdog(child, dir);

  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (spawnError !== undefined) break;
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await canConnect(port)) {
      return {
        source: "nats-server binary",
        info: { servers: `127.0.0.1:${port}` },
        teardown: async () => {
          process.removeListener("exit", killOnExit);
          watchdog?.kill("SIGKILL");
          await stopChild(child);
        },
      };
    }
    await sleep(100);
  }
  process.removeListener("exit", killOnExit);
  watchdog?.kill("SIGKILL");
  await stopChild(child);
  let log = "";
  try {
    log = readFileSync(logFile, "utf8").trim().split("\n").slice(-5).join(" | ");
  } catch {
    // no log written
  }
  const why = spawnError?.message ?? (child.exitCode !== null ? `exited with code ${child.exitCode}` : "did not accept connections");
  throw new Error(`${binary} on port ${port}: ${why}${log === "" ? "" : ` (log: ${log})`}`);
};

const fromBinary = async (): Promise<Found> => {
  const binary = findNatsServerBinary();
  if (binary === undefined) {
    const forced = process.env.NATS_SERVER_BIN;
    throw new Error(
      forced !== undefined && forced !== ""
        ? `NATS_SERVER_BIN=${forced} is not executable`
        : `nats-server not found on PATH nor at ${DEBIAN_BINARY}`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "sdrm3-nats-"));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const failures: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const found = await startBinaryOnce(binary, dir); // a port race with another process: retry
      return {
        ...found,
        teardown: async () => {
          await found.teardown?.();
          removeDir();
        },
      };
    } catch (e) {
      failures.push(errorText(e));
    }
  }
  removeDir();
  throw new Error(failures.join("; "));
};

export default async function setup(project: TestProject): Promise<Teardown | undefined> {
  // process tests spawn the built command (services/cli/bin → dist): rebuild it if the sources changed
  const { buildCli } = await import("../services/cli/build.mjs");
  if (await buildCli({ quiet: true, ifStale: true })) console.log("[global-setup] rebuilt services/cli/dist from the current sources");
  const reasons: string[] = [];
  let found = fromEnv();
  if (found === undefined) {
    try {
      found = await fromTestcontainers();
    } catch (e) {
      reasons.push(`testcontainers: ${errorText(e)}`);
    }
  }
  if (found === undefined) {
    try {
      found = await fromBinary();
    } catch (e) {
      reasons.push(`nats-server binary: ${errorText(e)}`);
    }
  }

  if (found === undefined) {
    const natsError = reasons.join("\n");
    console.warn(`[global-setup] no NATS server available; NATS tests will fail:\n${natsError}`);
    project.provide("nats", null);
    project.provide("natsSource", "none");
    project.provide("natsError", natsError);
    return undefined;
  }

  console.log(`[global-setup] NATS source: ${found.source} (${found.info.servers})`);
  project.provide("nats", found.info);
  project.provide("natsSource", found.source);
  project.provide("natsError", null);
  return found.teardown;
}
