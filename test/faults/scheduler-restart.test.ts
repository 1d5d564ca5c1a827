/**
 * kill -9 the scheduler mid-run and restart it (docs/reliability.md): real processes on a real
 * nats-server. The first scheduler records the run's event log to JetStream (--record-stream);
 * after it has taken thousands of decisions it is killed with SIGKILL. The accelerator and workload
 * processes keep waiting; a second scheduler started with --resume rebuilds the kernel from the
 * log (re-applying the recorded inputs), asks again what its predecessor was waiting for, and
 * finishes the run. In virtual time the final metrics JSON equals the uninterrupted in-process
 * run's byte for byte, and the log in JetStream — written by two processes — replays with every
 * decision identical and holds the in-process run's decision sequence.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "@sdrm3/cli";
import { connectNatsBus, purgeRunLog, removeLeaseBucket } from "@sdrm3/shared/nats";
import { resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { cliProcesses } from "../support/cli-process";
import { captureIo, decisionLines, lineCount, sleep } from "../support/processes";

const { start, killAll } = cliProcesses();
const runs: string[] = [];
const dir = mkdtempSync(join(tmpdir(), "sdrm3-sched-restart-"));
afterAll(async () => {
  await killAll();
  const bus = await connectNatsBus({ ...natsTestOptions(), name: "sched-restart-cleanup" });
  for (const run of runs) {
    await removeLeaseBucket(bus.nc, run).catch(() => false);
    await purgeRunLog(bus.nc, run).catch(() => false);
  }
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
});

const lines = lineCount;

// depth 2 (dispatch queues, docs/architecture.md): the resumed scheduler asks again for queued blocks too
describe.each([[1, ""], [2, ", chains of 0.5 ms"]] as const)("the scheduler killed with SIGKILL and restarted with --resume (queue depth %i%s)", (queueDepth, _chains) => {
  it("rebuilds its state from the JetStream log and ends with the uninterrupted run's metrics and decisions", async () => {
    const nats = natsTestOptions();
    const env = { ...process.env, ...(nats.user === undefined ? {} : { NATS_USER: nats.user }), ...(nats.pass === undefined ? {} : { NATS_PASS: nats.pass }) };
    const run = `restart-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const common = ["--scenario", "VR_gaming", "--hardware", "Quad_8K/WS_OS_WS_OS", "--policy", "sdrm3", "--seed", "2", "--duration", "1s", ...(queueDepth === 1 ? [] : ["--queue-depth", String(queueDepth), "--chain", "0.5ms"])];
    const serve = (role: string, extra: string[] = []) => start(["serve", role, "--nats", nats.servers, "--run", run, ...common, ...extra], env);

    const a1 = serve("accelerator", ["--slots", "2", "--name", "a1"]);
    await a1.waitErr(/claimed slot/, 60_000, 2);
    const a2 = serve("accelerator", ["--slots", "2", "--name", "a2"]);
    await a2.waitErr(/claimed slot/, 60_000, 2);
    const workload = serve("workload");
    const firstEvents = join(dir, `first-${queueDepth}.jsonl`);
    const first = serve("scheduler", ["--record-stream", "--json", "--events", firstEvents, "--name", "first"]);
    const t0 = Date.now();
    while (lines(firstEvents) < 4000) {
      if (first.child.exitCode !== null) throw new Error(`the first scheduler ended before the kill: ${first.err()}`);
      if (Date.now() - t0 > 90_000) throw new Error("the first scheduler did not start dispatching");
      await sleep(10);
    }
    first.child.kill("SIGKILL");
    const killed = await first.exited;
    expect(killed.signal).toBe("SIGKILL");
    const eventsAtKill = lines(firstEvents);

    const second = serve("scheduler", ["--resume", "--json", "--name", "second"]);
    const [s, w, r1, r2] = await Promise.all([second.exited, workload.exited, a1.exited, a2.exited]);
    expect(s.code, second.err()).toBe(0);
    for (const [p, r] of [[workload, w], [a1, r1], [a2, r2]] as const) expect(r.code, p.err()).toBe(0);
    const resumed = /resumed run \S+ from its JetStream log: (\d+) entries, (\d+) inputs re-applied, kernel at ([\d.]+) ms with (\d+) decisions/.exec(second.err());
    expect(resumed, second.err()).not.toBeNull();
    const decisionsRebuilt = Number(resumed![4]);
    expect(decisionsRebuilt).toBeGreaterThan(0); // it really resumed mid-run, not from the start

    // the uninterrupted run in one process: identical metrics JSON
    const local = captureIo();
    expect(await main(["run", ...common, "--json"], local)).toBe(0);
    expect(second.out()).toBe(local.stdout);
    const result = JSON.parse(second.out()) as { decisions: number; models: Array<{ released: number; onTime: number; late: number; dropped: number; unfinished: number }> };
    for (const m of result.models) expect(m.onTime + m.late + m.dropped).toBe(m.released);
    expect(decisionsRebuilt).toBeLessThan(result.decisions); // … and finished the run itself

    // the log written by the two schedulers replays whole, every decision identical …
    const replay = captureIo();
    expect(await main(["replay", "--nats", nats.servers, "--run", run, ...(nats.user === undefined ? [] : ["--nats-user", nats.user, "--nats-pass", nats.pass!])], replay), replay.stderr).toBe(0);
    expect(replay.stdout).toContain(`${result.decisions} decisions identical`);
    // … and holds the uninterrupted run's decision sequence
    const exported = join(dir, `exported-${queueDepth}.jsonl`);
    const exp = captureIo();
    expect(await main(["log", "export", "--nats", nats.servers, "--run", run, "--out", exported, ...(nats.user === undefined ? [] : ["--nats-user", nats.user, "--nats-pass", nats.pass!])], exp), exp.stderr).toBe(0);
    const logged = readFileSync(exported, "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => JSON.parse(l) as { type: string; payload: unknown })
      .filter((e) => e.type === "decision")
      .map((e) => JSON.stringify(e.payload))
      .join("\n");
    const localEvents: string[] = [];
    await runScenario({
      ...resolveRunSpec({ scenario: "VR_gaming", hardware: "Quad_8K/WS_OS_WS_OS", policy: "sdrm3", durationMs: 1000, seed: 2, queueDepth, ...(queueDepth === 1 ? {} : { chainMs: 0.5 }) }),
      run,
      onEvent: (e) => localEvents.push(JSON.stringify(e)),
    });
    expect(decisionLines(logged)).toEqual(decisionLines(localEvents.join("\n")));
    console.log(
      `[scheduler-restart] killed the first scheduler after ${eventsAtKill} events; the second rebuilt ${resumed![1]} log entries (${decisionsRebuilt} decisions, kernel at ${resumed![3]} ms) and finished with ${result.decisions} decisions`,
    );
  }, 240_000);
});

describe("serve scheduler --resume of a live run", () => {
  it("is refused (exit 2) once connected, without the live run's warm-up first", async () => {
    const nats = natsTestOptions();
    const run = `resume-live-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const env = { ...process.env, ...(nats.user === undefined ? {} : { NATS_USER: nats.user }), ...(nats.pass === undefined ? {} : { NATS_PASS: nats.pass }) };
    const p = start(["serve", "scheduler", "--nats", nats.servers, "--run", run, "--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--clock", "live", "--resume"], env);
    const r = await p.exited;
    expect(r.code, p.err()).toBe(2);
    expect(p.err()).toContain("--resume: only virtual-time runs can be resumed from their log, not --clock live");
    expect(p.err()).not.toContain("warm-up:");
  }, 60_000);
});
