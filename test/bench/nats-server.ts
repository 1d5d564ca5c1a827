/**
 * A NATS server for the bus benchmarks: $NATS_URL (+ NATS_USER / NATS_PASS) when set, else the
 * `nats-server` binary (NATS_SERVER_BIN, PATH, /usr/sbin/nats-server) started on 127.0.0.1 at a
 * free port with JetStream in a temporary directory, as test/global-setup.ts does. The server we
 * start is killed (by its pid) and its directory removed by `stop()`, and on process exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServerBinary } from "../support/nats-server";

export interface NatsServer {
  readonly url: string;
  readonly user?: string;
  readonly pass?: string;
  /** "env" (NATS_URL) or the binary that was started. */
  readonly source: string;
  stop(): Promise<void>;
}


const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      s.end();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const startNats = async (): Promise<NatsServer> => {
  const url = process.env.NATS_URL;
  if (url !== undefined && url !== "") {
    return {
      url,
      ...(process.env.NATS_USER === undefined ? {} : { user: process.env.NATS_USER }),
      ...(process.env.NATS_PASS === undefined ? {} : { pass: process.env.NATS_PASS }),
      source: "env (NATS_URL)",
      stop: async () => {},
    };
  }
  const binary = findNatsServerBinary();
  if (binary === undefined) throw new Error("no NATS server: set NATS_URL or install nats-server (Debian: apt-get install nats-server)");
  const dir = mkdtempSync(join(tmpdir(), "sdrm3-bench-nats-"));
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn(binary, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], { stdio: "ignore" });
    const kill = () => {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    };
    process.once("exit", kill);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await canConnect(port)) {
        return {
          url: `nats://127.0.0.1:${port}`,
          source: binary,
          stop: async () => {
            process.removeListener("exit", kill);
            if (child.exitCode === null && child.signalCode === null) {
              const exited = new Promise<void>((r) => child.once("exit", () => r()));
              child.kill("SIGTERM");
              const t = setTimeout(kill, 3000);
              await exited;
              clearTimeout(t);
            }
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await sleep(100);
    }
    process.removeListener("exit", kill);
    kill();
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`${binary} did not start`);
};
