/**
 * Test runs side by side (docs/reliability.md, "Beside another test run"): two `npm test` runs on
 * one machine must not touch each other's nats-servers or data. Every nats-server the tests start
 * goes through test/support/nats-server.ts; this file checks what that gives:
 *
 * - a server's port is proven by the server itself (its ports file, named by its pid): a server
 *   that cannot bind its port fails to start, instead of the start "succeeding" because another
 *   process (another run's server) accepts connections on that port;
 * - two servers started at once get their own port, pid and directory, and stopping one leaves the
 *   other serving;
 * - when the process that started a server dies without stopping it, the kernel ends the server
 *   (no watchdog keeps its pid number to signal later, when it may be another process's);
 * - and, over the test sources: nothing signals a process by pid number, name, port or process
 *   group, and nats-server is started in one place only.
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { connectNatsBus } from "@sdrm3/shared/nats";
import { type PrivateNatsServer, endsWithItsStarter, portOutsideEphemeralRange, startNatsServer } from "./nats-server";
import { processGroup, sleep } from "./processes";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const servers: PrivateNatsServer[] = [];
const group = processGroup();
const leftDirs: string[] = [];
afterAll(async () => {
  await group.killAll();
  for (const s of servers) await s.stop();
  for (const d of leftDirs) rmSync(d, { recursive: true, force: true });
});

/** Whether `pid` is a live nats-server (Linux /proc; a zombie or another program under a reused pid is not). */
const natsServerAlive = (pid: number): boolean => {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  let text: string;
  try {
    text = readFileSync(stat, "utf8");
  } catch {
    return false;
  }
  const comm = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
  const state = text.slice(text.lastIndexOf(")") + 2)[0];
  return comm === "nats-server" && state !== "Z";
};

/** A server answers at `url` with JetStream: a connection, and a JetStream account info request. */
const answers = async (url: string): Promise<string> => {
  const bus = await connectNatsBus({ servers: url, name: "isolation-test" });
  try {
    const { jetstreamManager } = await import("@nats-io/jetstream");
    await (await jetstreamManager(bus.nc)).getAccountInfo();
    return bus.nc.info!.server_id;
  } finally {
    await bus.close();
  }
};

describe("a test run's nats-servers are its own", () => {
  it("a server that cannot bind its port fails to start; the other process on that port is not taken for it", async () => {
    const port = await portOutsideEphemeralRange();
    const squatter = net.createServer((socket) => socket.end()); // accepts connections, as another run's server would
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      await expect(startNatsServer({ port })).rejects.toThrow(/exited with code \d+[^]*address already in use/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 60_000);

  it("two servers started at once: each its own port, pid and directory; stopping one leaves the other serving", async () => {
    const [a, b] = await Promise.all([startNatsServer(), startNatsServer()]);
    servers.push(a, b);
    expect(a.port).not.toBe(b.port);
    expect(a.pid).not.toBe(b.pid);
    expect(a.dir).not.toBe(b.dir);
    const [idA, idB] = await Promise.all([answers(a.url), answers(b.url)]);
    expect(idA).not.toBe(idB);
    await a.stop();
    expect(a.exited()?.signal, "stopped with SIGTERM, the server shut down by itself").toBeNull();
    expect(existsSync(a.dir)).toBe(false);
    expect(natsServerAlive(b.pid)).toBe(true);
    expect(await answers(b.url)).toBe(idB);
    expect(b.log()).not.toContain("Server Exiting");
  }, 60_000);

  it("the kernel ends a server whose starter died without stopping it (SIGKILL)", async () => {
    expect(endsWithItsStarter, "setpriv (util-linux, Linux) not found: a server would outlive a test run killed outright").toBe(true);
    const child = group.start("starter", process.execPath, ["--import", "tsx", join(ROOT, "test/support/start-nats-child.ts")], { cwd: ROOT });
    const t0 = Date.now();
    while (!child.out().includes("\n")) {
      if (!child.running()) throw new Error(`the starter ended: ${child.err()}`);
      if (Date.now() - t0 > 60_000) throw new Error(`the starter printed nothing: ${child.err()}`);
      await sleep(50);
    }
    const started = JSON.parse(child.out().split("\n")[0]!) as { pid: number; port: number; dir: string };
    leftDirs.push(started.dir);
    expect(natsServerAlive(started.pid)).toBe(true);
    expect(readdirSync(started.dir).some((d) => existsSync(join(started.dir, d, `nats-server_${started.pid}.ports`)))).toBe(true);
    child.child.kill("SIGKILL");
    expect((await child.exited).signal).toBe("SIGKILL");
    // the server got SIGTERM from the kernel and shut down by itself
    const t1 = Date.now();
    while (natsServerAlive(started.pid)) {
      if (Date.now() - t1 > 30_000) throw new Error(`nats-server ${started.pid} still runs 30 s after its starter was killed`);
      await sleep(50);
    }
    const log = readdirSync(started.dir).find((f) => f.endsWith(".log"));
    expect(readFileSync(join(started.dir, log!), "utf8")).toContain("Server Exiting");
  }, 120_000);
});

describe("the test sources", () => {
  const sources = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (name === "node_modules" || name === "dist" || name === "bench") return [];
      if (statSync(path).isDirectory()) return sources(path);
      return /\.(ts|mjs|sh)$/.test(name) ? [path] : [];
    });
  const files = [...sources(join(ROOT, "test")), ...sources(join(ROOT, "shared/src")), ...sources(join(ROOT, "services"))]
    .filter((f) => f.startsWith(join(ROOT, "test")) || f.endsWith(".test.ts"))
    .filter((f) => f !== fileURLToPath(import.meta.url));

  it("signal processes only through the ChildProcess that spawned them: never by pid number, name, port or process group", () => {
    expect(files.length).toBeGreaterThan(50);
    const forbidden = [/process\.kill\(/, /\bpkill\b/, /\bkillall\b/, /\bfuser\b/, /\bkill -/, /\bkill "\$/];
    const code = (line: string) => !/^\s*(\*|\/\/|\/\*)/.test(line); // not a comment line
    const hits = files.flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .flatMap((line, i) => (code(line) && forbidden.some((re) => re.test(line)) ? [`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  it("start nats-server only through test/support/nats-server.ts (its own port, directory and process)", () => {
    const starters = files.filter((f) => {
      const text = readFileSync(f, "utf8");
      return /spawn(Sync)?\(\s*("nats-server"|NATS_SERVER|binary)\s*,\s*\[(?!\s*"-c",\s*[^\]]*"-t")/.test(text) || /"--ports_file_dir"/.test(text);
    });
    expect(starters.map((f) => relative(ROOT, f))).toEqual(["test/support/nats-server.ts"]);
  });
});
