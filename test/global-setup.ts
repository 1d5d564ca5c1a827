/**
 * Vitest globalSetup: find or start one NATS server (with JetStream) for the whole test run and
 * provide its connection options to tests (`inject("nats")`, read through natsTestOptions() in
 * shared/src/testkit/nats-fixture.ts). Order (STACK.md §4.3):
 *
 *   1. NATS_URL (+ optional NATS_USER / NATS_PASS) — an existing server; nothing is started;
 *   2. testcontainers, only if a container runtime answers: NatsContainer("nats:2.10-alpine") with JetStream;
 *   3. the `nats-server` binary (NATS_SERVER_BIN, else PATH, else /usr/sbin/nats-server) on 127.0.0.1, on a
 *      port the server picks and reports in its ports file, JetStream in a fresh temp dir; stopped and its
 *      directory removed at teardown (test/support/nats-server.ts: nothing it does can reach another
 *      test run's server on the same machine — docs/reliability.md, "Beside another test run").
 *
 * If none works, nothing is skipped: `nats` is provided as null with the reasons in `natsError`,
 * and every test that asks for NATS fails with "No NATS server available: …".
 */

import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import type { NatsFixtureInfo, NatsSource } from "../shared/src/testkit/nats-fixture";
import { describeExit, findNatsServerBinary, startNatsServer } from "./support/nats-server";

const CONTAINER_IMAGE = "nats:2.10-alpine";
const RUNTIME_PROBE_TIMEOUT_MS = 15_000;
const DEBIAN_BINARY = "/usr/sbin/nats-server";

type Teardown = () => Promise<void>;

interface Found {
  readonly info: NatsFixtureInfo;
  readonly source: Exclude<NatsSource, "none">;
  /** For the log line: which process and directory (a started server). */
  readonly detail?: string;
  readonly teardown?: Teardown;
}

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

/**
 * The run's own nats-server (test/support/nats-server.ts): a port the server chose and reported in
 * its own ports file, a fresh temp dir, stopped through its ChildProcess at teardown; the kernel ends
 * it if vitest dies without teardown (setpriv --pdeathsig). If it ends before teardown, say how at
 * once (signal or exit code, stderr, log tail): every later NATS test fails with "connection refused".
 */
const fromBinary = async (): Promise<Found> => {
  if (findNatsServerBinary() === undefined) {
    const forced = process.env.NATS_SERVER_BIN;
    throw new Error(
      forced !== undefined && forced !== ""
        ? `NATS_SERVER_BIN=${forced} is not executable`
        : `nats-server not found on PATH nor at ${DEBIAN_BINARY}`,
    );
  }
  const server = await startNatsServer();
  let tearingDown = false;
  server.onExit((e) => {
    if (tearingDown) return;
    const log = server.log().trim().split("\n").slice(-5).join("\n");
    // a Go panic names its cause in its first lines: keep the head of stderr, and all of it in a file
    const lines = server.stderr().trim().split("\n");
    const stderr = lines.length <= 40 ? lines.join("\n") : [...lines.slice(0, 30), `… (${lines.length - 35} lines)`, ...lines.slice(-5)].join("\n");
    const kept = join(tmpdir(), `sdrm3-nats-ended-${server.pid}.txt`);
    writeFileSync(kept, `${describeExit(e)}\n--- stderr ---\n${server.stderr()}\n--- log ---\n${server.log()}`);
    console.error(
      `[global-setup] the test run's nats-server (pid ${server.pid}, ${server.url}) ended during the run: ${describeExit(e)}; ` +
        `NATS tests from here on fail ("connection refused"); its stderr and log: ${kept}\n--- its log (tail) ---\n${log}` +
        (stderr === "" ? "" : `\n--- its stderr ---\n${stderr}`),
    );
  });
  // vitest exiting without teardown (an error, a second Ctrl-C): end our server with it
  process.once("exit", server.killNow);
  return {
    source: "nats-server binary",
    info: { servers: server.url.replace("nats://", "") },
    detail: `pid ${server.pid}, dir ${server.dir}`,
    teardown: async () => {
      tearingDown = true;
      process.removeListener("exit", server.killNow);
      await server.stop();
    },
  };
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

  console.log(`[global-setup] NATS source: ${found.source} (${found.info.servers}${found.detail === undefined ? "" : `; ${found.detail}`})`);
  project.provide("nats", found.info);
  project.provide("natsSource", found.source);
  project.provide("natsError", null);
  return found.teardown;
}
