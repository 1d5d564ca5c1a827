/**
 * nats-server restarted mid-run, in live mode (docs/reliability.md): real processes on a private
 * nats-server with JetStream on disk. While the scheduler (--clock live, --record-stream), the
 * workload and two accelerator processes run, the server is killed with SIGKILL and started again
 * on the same port and store. Every client reconnects; requests and replies lost in the outage
 * are asked again (the task and accelerator hosts answer a repeated request as the first time);
 * log lines whose publish failed are published again with the same message id, which the stream
 * deduplicates. The run completes with every frame accounted once, and the run's log in JetStream
 * is whole: it replays with every decision identical (live logs carry their clock readings).
 * Asserted from the outside: the scheduler reports requests it asked again, the recorder reports
 * log publishes it retried, the stream holds each line once, and a line stored before the outage
 * published again with its message id is acknowledged as a duplicate after the restart.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { main } from "@sdrm3/cli";
import { LOG_STREAM, connectNatsBus, publishLogLine, streamLogLines } from "@sdrm3/shared/nats";
import { cliProcesses } from "../support/cli-process";
import { expectEachFrameEndedOnce } from "../support/faults";
import { type PrivateNatsServer, portOutsideEphemeralRange, startNatsServer } from "../support/nats-server";
import { captureIo, lastEventAt, lineCount, sleep } from "../support/processes";

const { start, killAll } = cliProcesses();
const dir = mkdtempSync(join(tmpdir(), "sdrm3-nats-restart-"));
const servers: PrivateNatsServer[] = [];
afterAll(async () => {
  await killAll();
  for (const server of servers) await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const lines = lineCount;

// depth 2 (dispatch queues, docs/architecture.md): blocks queued on an accelerator when the server dies
describe.each([[1, ""], [2, ", chains of 0.5 ms"]] as const)("nats-server restarted mid-run (live mode, queue depth %i%s)", (queueDepth, _chains) => {
  it("clients reconnect, lost requests are asked again, the log is deduplicated and whole, every frame accounted once", async () => {
    // the server comes back on the same port: one the kernel never hands out by itself, so no other
    // process (another test run's server, an outgoing connection) takes it during the outage; the
    // restarted server proves it listens there itself (startNatsServer reads its own ports file)
    const port = await portOutsideEphemeralRange();
    const store = join(dir, `server-${queueDepth}`); // store (js/), logs and ports files of both servers
    let server: PrivateNatsServer | undefined;
    const startServer = async () => {
      server = await startNatsServer({ port, dir: store });
      servers.push(server);
    };
    await startServer();
    const url = server!.url;
    const run = `restart-nats-${randomUUID().slice(0, 8)}`;
    const common = ["--scenario", "VR_gaming", "--hardware", "Quad_8K/WS_OS_WS_OS", "--policy", "sdrm3", "--seed", "3", "--duration", "2s", ...(queueDepth === 1 ? [] : ["--queue-depth", String(queueDepth), "--chain", "0.5ms"])];
    const serve = (role: string, extra: string[] = []) => start(["serve", role, "--nats", url, "--run", run, ...common, ...extra]);

    const a1 = serve("accelerator", ["--slots", "2", "--name", "a1", "--lease-ttl", "10s"]);
    await a1.waitErr(/claimed slot/, 60_000, 2);
    const a2 = serve("accelerator", ["--slots", "2", "--name", "a2", "--lease-ttl", "10s"]);
    await a2.waitErr(/claimed slot/, 60_000, 2);
    const workload = serve("workload");
    const events = join(dir, `events-${queueDepth}.jsonl`);
    // 2 s of run time at speed 0.25: about 8 s of wall time
    const scheduler = serve("scheduler", ["--clock", "live", "--speed", "0.25", "--record-stream", "--json", "--events", events]);
    const t0 = Date.now();
    // the outage starts once the run's clock has passed 500 ms (of 2 s), whatever the machine's load
    while (lastEventAt(events) < 500) {
      if (scheduler.child.exitCode !== null) throw new Error(`the scheduler ended before the restart: ${scheduler.err()}`);
      if (Date.now() - t0 > 90_000) throw new Error("the scheduler did not start dispatching");
      await sleep(20);
    }
    const eventsAtOutage = lines(events);
    expect((await server!.kill("SIGKILL")).signal).toBe("SIGKILL");
    await sleep(500);
    await startServer();

    const [s, w, r1, r2] = await Promise.all([scheduler.exited, workload.exited, a1.exited, a2.exited]);
    expect(s.code, `${scheduler.err()}\n--- a1:\n${a1.err()}\n--- a2:\n${a2.err()}`).toBe(0);
    for (const [p, r] of [[workload, w], [a1, r1], [a2, r2]] as const) expect(r.code, p.err()).toBe(0);
    const total = lines(events);
    expect(eventsAtOutage).toBeLessThan(total); // the outage happened before the end of the run

    const result = JSON.parse(scheduler.out()) as {
      decisions: number;
      live: { lag: { maxMs: number } };
    };
    expectEachFrameEndedOnce(scheduler.out(), readFileSync(events, "utf8"));

    // requests lost in the outage were asked again: the scheduler names each retried request once
    // (its first failed attempt), a block dispatch or a task request that got no answer in time
    const retriedRequests = scheduler.err().match(/(slot acc\d: dispatch failed|model task \S+: request failed) \(no answer within \d+ ms\)/g) ?? [];
    expect(retriedRequests.length, scheduler.err()).toBeGreaterThan(0);

    // the recording survived the outage: log publishes that failed were retried (the report names
    // how many; it only appears when there were retries) ...
    const recorded = /recorded (\d+) entries \((\d+) lines, \d+ bytes\) to JetStream stream SDRM3_LOG[^\n]* \((\d+) publishes retried, (\d+) deduplicated, (\d+) stored out of line order\)/.exec(scheduler.err());
    expect(recorded, scheduler.err()).not.toBeNull();
    const [storedLines, retriedPublishes, deduplicated] = [Number(recorded![2]), Number(recorded![3]), Number(recorded![4])];
    expect(retriedPublishes).toBeGreaterThan(0);
    expect(deduplicated).toBeLessThanOrEqual(retriedPublishes);
    // ... and each line is stored once: the server (this run's only) holds exactly as many log messages as lines
    const observer = await connectNatsBus({ servers: url, name: "nats-restart-observer" });
    try {
      const jsm = await jetstreamManager(observer.nc);
      const before = (await jsm.streams.info(LOG_STREAM)).state;
      expect(before.messages).toBe(storedLines);
      // the stream's deduplication outlived the restart: a line stored before the outage (the header),
      // published again with its message id, is acknowledged as a duplicate and not stored again
      let header: string | undefined;
      for await (const l of streamLogLines(observer.nc, run)) {
        header = l.text;
        break;
      }
      expect(header).toBeDefined();
      const again = await publishLogLine(observer.nc, run, 1, header!);
      expect(again.duplicate).toBe(true);
      expect((await jsm.streams.info(LOG_STREAM)).state.messages).toBe(storedLines);
    } finally {
      await observer.close();
    }
    // the stored log replays whole, every decision identical
    const replay = captureIo();
    expect(await main(["replay", "--nats", url, "--run", run], replay), `${replay.stderr}${replay.stdout}`).toBe(0);
    expect(replay.stdout).toContain(`${result.decisions} decisions identical`);
    console.log(
      `[nats-restart] queue depth ${queueDepth}: server killed at event ${eventsAtOutage} of ${total} and restarted 0.5 s later; ${retriedRequests.length} requests asked again; ${recorded![0]}; ` +
        `max scheduler lag ${result.live.lag.maxMs.toFixed(1)} ms (run time)`,
    );
  }, 240_000);
});
