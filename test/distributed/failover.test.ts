/**
 * Failover and failure modes of a distributed run, with real processes on a real nats-server
 * (docs/distributed.md):
 *
 * (a) three accelerator processes claim 2 + 1 + 1 of Quad_8K's four slots with `--slots`, a fourth
 *     waits as a hot spare; one owner is killed with SIGKILL after the scheduler has started
 *     dispatching, with a dispatch to its slot in flight (made certain as in live-failover.test.ts);
 *     the spare takes its slot, the run finishes, every frame is accounted exactly once, and the
 *     metrics JSON and decision sequence equal the in-process run's.
 * (b) unreachable NATS, a server that never answers, wrong credentials and a scheduler with no
 *     accelerators end with exit code 1 and a clear message, each by itself: the message names the
 *     limit that ended it (the connect timeout, the register timeout, --give-up-after) or the
 *     server's refusal. Their wall time is not asserted (on a loaded machine a process's start alone
 *     took 20 s beside another test run); a hang ends at the test's timeout and fails.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "@sdrm3/cli";
import { connectNatsBus, removeLeaseBucket } from "@sdrm3/shared/nats";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { cliProcesses } from "../support/cli-process";
import { expectEachFrameEndedOnce, natsEnv, removeLeaseBuckets, startReplySpy } from "../support/faults";
import { type PrivateNatsServer, startNatsServer } from "../support/nats-server";
import { decisionLines, lineCount, sleep } from "../support/processes";


const { start, killAll } = cliProcesses();
const servers: PrivateNatsServer[] = [];
const runs: string[] = [];
const dir = mkdtempSync(join(tmpdir(), "sdrm3-failover-"));
afterAll(async () => {
  await killAll();
  for (const s of servers) await s.stop();
  await removeLeaseBuckets(runs, "failover-cleanup");
  rmSync(dir, { recursive: true, force: true });
});

const lines = lineCount;

const decisions = decisionLines;


const SPEC = ["--scenario", "VR_gaming", "--hardware", "Quad_8K/WS_OS_WS_OS", "--policy", "sdrm3", "--seed", "5"];

// depth 2 (dispatch queues, docs/architecture.md): the dispatch in flight at the kill may be a block
// queued behind another (it names its start): the slot's new owner answers its retry the same way;
// with bounded chains (the job's next block queued behind its own, docs/architecture.md)
describe.each([[1, ""], [2, ", chains of 0.5 ms"]] as const)("failover: a hot spare takes over a killed accelerator's slot (queue depth %i%s)", (queueDepth, _chains) => {
  it("finishes the run with every frame accounted once and the in-process run's metrics", async () => {
    const nats = natsTestOptions();
    const env = { ...process.env, ...(nats.user === undefined ? {} : { NATS_USER: nats.user }), ...(nats.pass === undefined ? {} : { NATS_PASS: nats.pass }) };
    const run = `fo-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const common = [...SPEC, "--duration", "1s", ...(queueDepth === 1 ? [] : ["--queue-depth", String(queueDepth), "--chain", "0.5ms"])];
    const serve = (role: string, extra: string[] = []) => start(["serve", role, "--nats", nats.servers, "--run", run, ...common, ...extra], env);
    const events = join(dir, `failover-${queueDepth}.jsonl`);
    const claimed = /claimed slot (acc\d)/;

    // claims in a known order: p1 takes acc0+acc1, p2 the victim's slot, p3 the other, the fourth
    // process is a spare. Depth 1: p2 owns acc2; with chains sdrm3 sends nothing to acc2 in this
    // spec (VR_gaming, seed 5: acc0, acc1 and acc3 run its chains), so p2 owns acc3
    const [victim, other] = queueDepth === 1 ? ["acc2", "acc3"] : ["acc3", "acc2"];
    const p1 = serve("accelerator", ["--slots", "2", "--name", "p1"]);
    await p1.waitErr(claimed, 60_000, 2);
    const [p2, p3] = await (async () => {
      const byName: Record<string, ReturnType<typeof serve>> = {};
      for (const name of victim === "acc2" ? ["p2", "p3"] : ["p3", "p2"]) {
        byName[name] = serve("accelerator", ["--slots", "1", "--name", name]);
        await byName[name]!.waitErr(claimed, 60_000);
      }
      return [byName.p2!, byName.p3!];
    })();
    const spare = serve("accelerator", ["--slots", "1", "--name", "spare"]);
    await spare.waitErr(/waiting as a hot spare/, 60_000);
    expect(p1.err()).toMatch(/claimed slot acc0[^]*claimed slot acc1/);
    expect(p2.err()).toContain(`claimed slot ${victim}`);
    expect(p3.err()).toContain(`claimed slot ${other}`);

    const spy = await startReplySpy(nats, run);
    const workload = serve("workload");
    const scheduler = serve("scheduler", ["--json", "--events", events]);
    // mid-run: the scheduler has recorded thousands of events (decisions and dispatches) but is far from done
    const t0 = Date.now();
    while (lines(events) < 3000) {
      if (scheduler.child.exitCode !== null) throw new Error(`scheduler ended before the kill: ${scheduler.err()}`);
      if (Date.now() - t0 > 90_000) throw new Error("the scheduler did not start dispatching");
      await sleep(20);
    }
    // p2 dies with a dispatch to its slot in flight, surely (as in live-failover.test.ts): p2 and the spare
    // are held (SIGSTOP) until the spy sees a dispatch to the slot routed after that, which nobody can answer
    spare.child.kill("SIGSTOP");
    p2.child.kill("SIGSTOP");
    await spy.flush();
    const inFlight = await spy.nextDispatch(victim, spy.dispatchCount(victim), 60_000);
    const killedAt = Date.now();
    const eventsAtKill = lines(events);
    p2.child.kill("SIGKILL");
    spare.child.kill("SIGCONT");

    const [s, w, a1, a3, sp, a2] = await Promise.all([scheduler.exited, workload.exited, p1.exited, p3.exited, spare.exited, p2.exited]);
    const recoveryMs = Date.now() - killedAt;
    await spy.flush();
    const answered = spy.repliesTo(inFlight);
    await spy.close();
    expect(s.code, scheduler.err()).toBe(0);
    for (const [p, r] of [[workload, w], [p1, a1], [p3, a3], [spare, sp]] as const) expect(r.code, p.err()).toBe(0);
    expect(a2.signal).toBe("SIGKILL");
    expect(spare.err()).toContain(`claimed slot ${victim}`);
    expect(answered, "replies to the dispatch in flight when p2 was killed").toBe(0);
    expect(scheduler.err()).toContain(`slot ${victim}: dispatch failed`);
    const total = lines(events);
    expect(eventsAtKill).toBeLessThan(total / 2); // the kill really happened mid-run
    console.log(`[failover] killed p2 (${victim}) at event ${eventsAtKill} of ${total}; run finished ${recoveryMs} ms later`);

    // every frame accounted exactly once
    expectEachFrameEndedOnce(scheduler.out(), readFileSync(events, "utf8"));

    // determinism survives failover: same metrics JSON and decisions as the in-process run
    const local = { stdout: "", stderr: "", out: (t: string) => void (local.stdout += t), err: (t: string) => void (local.stderr += t) };
    expect(await main(["run", ...common, "--json"], local)).toBe(0);
    expect(scheduler.out()).toBe(local.stdout);
    const { runScenario, resolveRunSpec } = await import("@sdrm3/shared/runtime");
    const localEvents: string[] = [];
    await runScenario({
      ...resolveRunSpec({ scenario: "VR_gaming", hardware: "Quad_8K/WS_OS_WS_OS", policy: "sdrm3", durationMs: 1000, seed: 5, queueDepth, ...(queueDepth === 1 ? {} : { chainMs: 0.5 }) }),
      onEvent: (e) => localEvents.push(JSON.stringify(e)),
    });
    expect(decisions(readFileSync(events, "utf8"))).toEqual(decisions(localEvents.join("\n")));

    // the scheduler removed the run's lease bucket
    const bus = await connectNatsBus({ ...nats, name: "failover-check" });
    try {
      expect(await removeLeaseBucket(bus.nc, run)).toBe(false);
    } finally {
      await bus.close();
    }
  }, 240_000);
});

describe("clear errors and exit code 1 instead of hangs", () => {
  const base = (nats: string, run = `err-${randomUUID().slice(0, 8)}`) => ["serve", "scheduler", "--nats", nats, "--run", run, ...SPEC, "--duration", "100ms"];

  it("unreachable NATS: the message names the URL", async () => {
    const p = start(base("nats://127.0.0.1:1"));
    const r = await p.exited;
    expect(r.code, p.err()).toBe(1);
    expect(p.err()).toContain("cannot connect to NATS at nats://127.0.0.1:1");
    expect(p.err()).toContain("refused");
  }, 60_000);

  it("a server that accepts but never answers: the connect timeout", async () => {
    const silent = net.createServer(() => {}); // accepts TCP, never sends INFO
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const p = start([...base(`nats://127.0.0.1:${port}`), "--connect-timeout", "1s"]);
      const r = await p.exited;
      expect(r.code, p.err()).toBe(1);
      expect(p.err()).toContain(`cannot connect to NATS at nats://127.0.0.1:${port}: no answer within 1000 ms`);
    } finally {
      silent.close();
    }
  }, 60_000);

  it("wrong credentials: authorization failed, the password is never printed", async () => {
    // JetStream on: a scheduler takes its run lease in JetStream KV before anything else
    const server = await startNatsServer({ args: ["--user", "sdrm3", "--pass", "right-secret"] });
    servers.push(server);
    try {
      const url = server.url;
      const wrong = start(base(url), { ...process.env, NATS_USER: "sdrm3", NATS_PASS: "wrong-secret" });
      const { NATS_USER: _u, NATS_PASS: _p, ...noCredentials } = process.env;
      const none = start(base(url), noCredentials);
      const [rw, rn] = await Promise.all([wrong.exited, none.exited]);
      expect(rw.code, wrong.err()).toBe(1);
      expect(wrong.err()).toContain(`NATS authorization failed at ${url}: user 'sdrm3'`);
      expect(wrong.err()).not.toContain("wrong-secret");
      expect(rn.code, none.err()).toBe(1);
      expect(none.err()).toContain("NATS authorization failed");
      // and the right password works (the server really is there)
      const ok = start([...base(url), "--register-timeout", "1s"], { ...process.env, NATS_USER: "sdrm3", NATS_PASS: "right-secret" });
      const rok = await ok.exited;
      expect(ok.err()).toContain("register timeout"); // connected, then nobody there: the next failure mode
      expect(ok.err()).toContain("accelerator slots acc0, acc1, acc2, acc3");
      expect(ok.err()).toContain("model tasks ES_RITNet, GE_FBNet_C, HT_hand_graph_cnn_half");
      expect(rok.code).toBe(1);
    } finally {
      await server.stop();
    }
  }, 90_000);

  it("a scheduler with no accelerators: the register timeout names the missing slots and tasks", async () => {
    const nats = natsTestOptions();
    const env = { ...process.env, ...(nats.user === undefined ? {} : { NATS_USER: nats.user }), ...(nats.pass === undefined ? {} : { NATS_PASS: nats.pass }) };
    const run = `noacc-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const workload = start(["serve", "workload", "--nats", nats.servers, "--run", run, ...SPEC, "--duration", "100ms"], env);
    await workload.waitErr(/workload ready/, 60_000);
    const p = start([...base(nats.servers, run), "--register-timeout", "2s"], env);
    const r = await p.exited;
    // the scheduler tells the other services that the run is over, so they exit (1) instead of waiting forever
    const rw = await workload.exited;
    expect(rw.code, workload.err()).toBe(1);
    expect(workload.err()).toContain(`the scheduler stopped run ${run}`);
    expect(r.code, p.err()).toBe(1);
    expect(p.err()).toContain(`run ${run}: not everything registered within the register timeout (2000 ms)`);
    expect(p.err()).toContain("accelerator slots acc0, acc1, acc2, acc3");
    expect(p.err()).not.toMatch(/never registered:.*model tasks/); // the workload did register
  }, 60_000);

  it("accelerators and workloads without a scheduler: --give-up-after ends them (exit 1) and frees the slots; the scheduler refuses the flag (exit 2)", async () => {
    const nats = natsTestOptions();
    const env = natsEnv(nats);
    const run = `noscheduler-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const common = ["--nats", nats.servers, "--run", run, ...SPEC, "--duration", "100ms", "--give-up-after", "3s"];
    const accelerator = start(["serve", "accelerator", ...common], env);
    const workload = start(["serve", "workload", ...common], env);
    const [ra, rw] = await Promise.all([accelerator.exited, workload.exited]);
    for (const [p, r] of [[accelerator, ra], [workload, rw]] as const) {
      expect(r.code, p.err()).toBe(1);
      expect(p.err()).toContain(`run ${run} did not end within --give-up-after 3s (is its scheduler running?`);
    }
    expect(accelerator.err()).toContain("released the leases of slots acc0, acc1, acc2, acc3"); // a spare need not wait for the TTL
    const scheduler = start([...base(nats.servers, run), "--give-up-after", "3s"], env);
    expect((await scheduler.exited).code).toBe(2);
    expect(scheduler.err()).toContain("--give-up-after: only accelerators and workloads take it");
  }, 60_000);
});
