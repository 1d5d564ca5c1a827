/**
 * Live mode over NATS with real processes (docs/live.md, docs/distributed.md): the scheduler runs
 * with `--clock live`, its dispatches tell the accelerator processes the speed, and they hold each
 * reply for the block's scaled latency. Mid-run an accelerator process is killed with SIGKILL with a
 * dispatch to its slot in flight; its lease lapses, the hot spare claims the slot, the scheduler's
 * dispatch to the dead slot is retried until the spare answers, and the run finishes with every
 * frame accounted exactly once. (Live results depend on timing, so there is no comparison with the
 * in-process run here; the virtual twin of this test, test/distributed/failover.test.ts, holds the
 * metrics to the in-process run's.)
 *
 * "A dispatch in flight" is made certain, not left to timing (a live scheduler may send nothing to
 * acc2 for a while, and the spare takes a slot over one lease TTL after its owner stops renewing):
 * the owner (p2) and the spare are stopped (SIGSTOP), an outside observer waits for a dispatch to
 * acc2 that the server routed after that — nobody can answer it: p2 is stopped, the spare does not
 * hold acc2 — then p2 is killed and the spare resumed (SIGCONT). That dispatch is never answered,
 * so the scheduler must report it failed and retry it until the spare answers.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { cliProcesses } from "../support/cli-process";
import { expectEachFrameEndedOnce, removeLeaseBuckets, startReplySpy } from "../support/faults";
import { lastEventAt, lineCount, sleep } from "../support/processes";

const { start, killAll } = cliProcesses();
const runs: string[] = [];
const dir = mkdtempSync(join(tmpdir(), "sdrm3-live-failover-"));
afterAll(async () => {
  await killAll();
  await removeLeaseBuckets(runs, "live-failover-cleanup");
  rmSync(dir, { recursive: true, force: true });
});

const lines = lineCount;

// depth 2 (dispatch queues, docs/architecture.md): the dead owner's queued blocks are retried on the spare too
describe.each([[1, ""], [2, ", chains of 0.5 ms"]] as const)("live mode: a hot spare takes over a killed accelerator's slot (queue depth %i%s)", (queueDepth, _chains) => {
  it("finishes the run with every frame accounted once and reports the scheduler lag", async () => {
    const nats = natsTestOptions();
    const env = { ...process.env, ...(nats.user === undefined ? {} : { NATS_USER: nats.user }), ...(nats.pass === undefined ? {} : { NATS_PASS: nats.pass }) };
    const run = `live-fo-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const common = ["--scenario", "VR_gaming", "--hardware", "Quad_8K/WS_OS_WS_OS", "--policy", "sdrm3", "--seed", "5", "--duration", "2s", ...(queueDepth === 1 ? [] : ["--queue-depth", String(queueDepth), "--chain", "0.5ms"])];
    const serve = (role: string, extra: string[] = []) => start(["serve", role, "--nats", nats.servers, "--run", run, ...common, ...extra], env);
    // 3 s: a healthy owner on a loaded machine (another test run beside this one) keeps its leases; at 1 s
    // p1 once lost acc1 to the spare, which then was not there to take acc2 over
    const accel = (name: string, slots: number) => serve("accelerator", ["--slots", String(slots), "--name", name, "--lease-ttl", "3s"]);
    const events = join(dir, `events-${queueDepth}.jsonl`);
    const claimed = /claimed slot (acc\d)/;

    // depth 1: p2 owns acc2; depth 2: p2 owns acc1, where sdrm3 queues blocks from the start (it sends
    // acc2 nothing for the first part of this run), so the owner killed holds queued blocks
    const victim = queueDepth === 1 ? "acc2" : "acc1";
    const [slots1, slots3] = queueDepth === 1 ? [2, 1] : [1, 2];
    const p1 = accel("p1", slots1);
    await p1.waitErr(claimed, 60_000, slots1);
    const p2 = accel("p2", 1);
    await p2.waitErr(claimed, 60_000);
    const p3 = accel("p3", slots3);
    await p3.waitErr(claimed, 60_000, slots3);
    const spare = accel("spare", 1);
    await spare.waitErr(/waiting as a hot spare/, 60_000);
    expect(p2.err()).toContain(`claimed slot ${victim}`);

    const spy = await startReplySpy(nats, run);
    try {
      const workload = serve("workload");
      // 2 s of run time at speed 0.25: about 8 s of wall time
      const scheduler = serve("scheduler", ["--clock", "live", "--speed", "0.25", "--json", "--events", events]);
      const t0 = Date.now();
      // kill once the run's clock has passed 400 ms (of 2 s): whatever the machine's load, most of the run is ahead
      while (lastEventAt(events) < 400) {
        if (scheduler.child.exitCode !== null) throw new Error(`scheduler ended before the kill: ${scheduler.err()}`);
        if (Date.now() - t0 > 90_000) throw new Error("the scheduler did not start dispatching");
        await sleep(20);
      }
      const wallBeforeKill = Date.now() - t0;
      // hold the spare (it must not take acc2 over before a dispatch to acc2 is lost) and p2 (it can answer nothing from now on)
      spare.child.kill("SIGSTOP");
      p2.child.kill("SIGSTOP");
      await spy.flush(); // a dispatch the spy counts from here on was routed after p2 stopped
      const inFlight = await spy.nextDispatch(victim, spy.dispatchCount(victim), 60_000);
      const eventsAtKill = lines(events);
      p2.child.kill("SIGKILL");
      spare.child.kill("SIGCONT");

      const [s, w, a1, a3, sp, a2] = await Promise.all([scheduler.exited, workload.exited, p1.exited, p3.exited, spare.exited, p2.exited]);
      expect(s.code, scheduler.err()).toBe(0);
      for (const [p, r] of [[workload, w], [p1, a1], [p3, a3], [spare, sp]] as const) expect(r.code, p.err()).toBe(0);
      expect(a2.signal).toBe("SIGKILL");
      expect(spare.err()).toContain(`claimed slot ${victim}`);
      // the dispatch in flight when p2 died was never answered; the scheduler said so and retried it until the spare answered
      await spy.flush();
      expect(spy.repliesTo(inFlight), "replies to the dispatch in flight when p2 was killed").toBe(0);
      expect(scheduler.err()).toContain(`slot ${victim}: dispatch failed`);
      expect(spare.err()).toMatch(new RegExp(`stopped hosting slot ${victim} \\(claimed at lease revision \\d+\\): answered [1-9]\\d* of`));
      const total = lines(events);
      expect(eventsAtKill).toBeLessThan(total); // the kill happened before the end of the run
      // live: the run took at least its run time / speed of wall time (the accelerators really waited)
      expect(s.ms).toBeGreaterThanOrEqual(2000 / 0.25);

      const result = JSON.parse(scheduler.out()) as {
        live: { speed: number; lag: { blocks: number; p50Ms: number; p99Ms: number; maxMs: number } };
      };
      expectEachFrameEndedOnce(scheduler.out(), readFileSync(events, "utf8"));
      expect(result.live.speed).toBe(0.25);
      expect(result.live.lag.blocks).toBeGreaterThan(0);
      // the block lost with p2 was answered by the spare after the takeover: the largest lag holds the outage
      expect(result.live.lag.maxMs).toBeGreaterThanOrEqual(result.live.lag.p99Ms);
      console.log(
        `[live-failover] depth ${queueDepth}: held p2 (${victim}) and the spare ${wallBeforeKill} ms into the run; killed p2 at event ${eventsAtKill} of ${total} with a dispatch to ${victim} in flight; run took ${s.ms} ms; ` +
          `lag p50 ${result.live.lag.p50Ms.toFixed(3)} p99 ${result.live.lag.p99Ms.toFixed(3)} max ${result.live.lag.maxMs.toFixed(1)} ms (run time)`,
      );
    } finally {
      await spy.close();
    }
  }, 240_000);
});
