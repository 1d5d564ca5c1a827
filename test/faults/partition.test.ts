/**
 * Separate hosts and a partition (issue 7, item 4, virtual time): the accelerator processes run on
 * their own "hosts" — Linux network namespaces joined to the root namespace by veth links, which
 * the test creates — and reach a private nats-server (JetStream) that listens on the root side's
 * bridge address; the scheduler and the workload run in the root namespace. Host 0 owns acc0,
 * host 1 owns acc1, host 2 runs a hot spare for acc1.
 *
 * Mid-run host 1's link is cut (its veth goes down: its packets are dropped, its TCP connection to
 * NATS stays open). Its lease lapses; it stops hosting acc1 on its own (local validity) while still
 * cut off; the spare on host 2 claims acc1 and answers the scheduler's retried dispatch. Then the
 * link comes back: the cut-off process must rejoin as a spare, never take acc1 back, and no
 * dispatch may be answered twice. The run completes with the accounting invariant and, in virtual
 * time, the metrics JSON and decisions of an uninterrupted in-process run.
 *
 * Needs root (network namespaces). Where a namespace cannot be created it is skipped with the
 * reason, except in CI (env `CI` set), where it fails saying why: CI must run it. Everything it
 * creates has a unique name and is removed in afterAll, failure or not.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { expectEachFrameEndedOnce, expectSameAsInProcess, startReplySpy } from "../support/faults";
import { inCi } from "../support/ci";
import { type PrivateNatsServer, startNatsServer } from "../support/nats-server";
import { type NetnsLab, createNetnsLab, probeNetns } from "../support/netns";
import { lineCount, processGroup, repoRoot, sdrm3Command, sleep } from "../support/processes";

/**
 * Simulated time of the run: long enough that the run is still going when the faulty process comes
 * back, on a machine where virtual time over NATS runs faster than real time (block replies are
 * predicted: docs/architecture.md "Speculation"); 1 s ended before it could rejoin (2026-12-08).
 */
const DURATION_MS = 4_000;
const SPEC = ["--scenario", "VR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--seed", "5", "--duration", `${DURATION_MS}ms`];
/** Short, so the test is quick; long enough that a loaded 2-core machine does not lapse healthy owners' leases. */
const LEASE_TTL_MS = 2_000;

const probe = probeNetns();
const group = processGroup();
const dir = mkdtempSync(join(tmpdir(), "sdrm3-partition-"));
const labs: NetnsLab[] = [];
const servers: PrivateNatsServer[] = [];
afterAll(async () => {
  await group.killAll();
  for (const server of servers) await server.stop();
  for (const lab of labs) lab.destroy();
  rmSync(dir, { recursive: true, force: true });
});

interface PartitionOptions {
  /** Appended to every `sdrm3 serve` command (e.g. `--clock live --speed 0.1` for a live variant). */
  readonly extraFlags: ReadonlyArray<string>;
  /** Virtual time: the result must equal the uninterrupted in-process run's. */
  readonly compareInProcess: boolean;
}

const partitionScenario = async (o: PartitionOptions) => {
  const lab = createNetnsLab(3);
  labs.push(lab);
  const server = await startNatsServer({ host: lab.serverAddress });
  servers.push(server);
  const url = server.url;
  const run = `pt-${randomUUID().slice(0, 8)}`;
  const events = join(dir, `${run}.jsonl`);
  const serve = (role: string, name: string, extra: string[] = [], host?: number) => {
    const cmd = sdrm3Command(["serve", role, "--nats", url, "--run", run, ...SPEC, ...o.extraFlags, "--name", name, ...extra], host === undefined ? [] : lab.wrap(host));
    return group.start(name, cmd.command, cmd.args, { cwd: repoRoot() });
  };
  const lease = ["--lease-ttl", `${LEASE_TTL_MS}ms`];

  const p0 = serve("accelerator", "h0-p0", ["--slot", "acc0", ...lease], 0);
  const cutOff = serve("accelerator", "h1-owner", ["--slot", "acc1", ...lease], 1);
  await Promise.all([p0.waitErr(/claimed slot acc0/, 60_000), cutOff.waitErr(/claimed slot acc1/, 60_000)]);
  const spare = serve("accelerator", "h2-spare", ["--slot", "acc1", ...lease], 2);
  await spare.waitErr(/waiting as a hot spare/, 60_000);
  const spy = await startReplySpy({ servers: url }, run);
  try {
    const workload = serve("workload", "workload");
    const scheduler = serve("scheduler", "scheduler", ["--json", "--events", events]);
    const t0 = Date.now();
    while (lineCount(events) < 2_000) {
      if (!scheduler.running()) throw new Error(`scheduler ended before the cut: ${scheduler.err()}`);
      if (Date.now() - t0 > 60_000) throw new Error(`the scheduler did not start dispatching: ${scheduler.err()}`);
      await sleep(20);
    }
    const eventsAtCut = lineCount(events);
    lab.cut(1);
    const cutAt = Date.now();
    // cut off, the owner gives the slot up by its own count (its stderr is a pipe, not the network)
    // (generous waits: they end a hung test; a loaded machine stretches every step)
    await cutOff.waitErr(/stopped hosting slot acc1/, 60_000);
    const gaveUpMs = Date.now() - cutAt;
    await spare.waitErr(/claimed slot acc1/, 60_000);
    const takeoverMs = Date.now() - cutAt;
    // the link comes back soon after the spare took acc1 over, while the run still has work for the
    // cut-off process to rejoin (waiting 2.5 TTLs here, the run — faster since block replies are
    // predicted — ended 1.7 s after the restore, before the process learned anything: 2026-12-07)
    await sleep(LEASE_TTL_MS / 4);
    const logAtRestore = cutOff.err();
    lab.restore(1);
    const restoredAt = Date.now();
    const cutMs = restoredAt - cutAt;

    const [s, w, a0, sp, c] = await Promise.all([scheduler.exited, workload.exited, p0.exited, spare.exited, cutOff.exited]);
    const finishedMs = Date.now() - cutAt;
    if (process.env.FAULT_DEBUG) console.log(cutOff.err(), scheduler.err(), spare.err());
    expect(s.code, scheduler.err()).toBe(0);
    for (const [p, r] of [[workload, w], [p0, a0], [spare, sp], [cutOff, c]] as const) expect(r.code, `${p.name}: ${p.err()}`).toBe(0);
    const total = lineCount(events);
    expect(eventsAtCut, "the cut happened mid-run").toBeLessThan(total / 2);
    expect(scheduler.err()).toContain("slot acc1: dispatch failed");

    // the cut-off owner: gave acc1 up before its link came back, never took it again, rejoined as a spare
    const log = cutOff.err();
    const lost = /lost slot acc1: ([^\n]*)/.exec(logAtRestore);
    expect(lost, log).not.toBeNull();
    const stopped = /stopped hosting slot acc1 \(claimed at lease revision \d+\): answered (\d+) of (\d+) dispatches, refused (\d+)/.exec(logAtRestore);
    expect(stopped, log).not.toBeNull();
    expect(Number(stopped![1])).toBeGreaterThan(0); // it served acc1 before the cut
    // never took acc1 back (unless the spare lost it in turn, which a loaded machine can cause: then a claim is legitimate)
    if ((log.match(/claimed slot acc1/g) ?? []).length > 1) expect(spare.err(), log).toMatch(/lost slot acc1/);
    expect(log.indexOf("waiting as a hot spare", log.indexOf("lost slot acc1")), `rejoins as a spare: ${log}`).toBeGreaterThan(0);

    // outside view: no dispatch answered twice; replies of the cut-off owner that were stuck in its link
    // (answered before the cut) may arrive after the restore: they are late, to requests the scheduler already retried
    const seen = spy.summary();
    expect(seen.answeredTwice).toEqual([]);
    const late = spy.lateReplies("acc1", cutAt, restoredAt);
    // reported, not asserted: whether the confirming renewal's answer beats its client-side timeout depends on TCP's retransmission backoff
    const learned = /slot acc1: (renewal at revision \d+ refused[^\n]*|its key is now[^\n]*)/.exec(log.slice(logAtRestore.length))?.[1] ?? "nothing more about acc1";
    expect(spare.err()).toMatch(/stopped hosting slot acc1 \(claimed at lease revision \d+\): answered [1-9]\d* of/);

    // every frame accounted once
    const figures = expectEachFrameEndedOnce(scheduler.out(), readFileSync(events, "utf8"));
    if (o.compareInProcess) {
      const depth = o.extraFlags.includes("--queue-depth") ? Number(o.extraFlags[o.extraFlags.indexOf("--queue-depth") + 1]) : 1;
      const runSpec = { scenario: "VR_gaming", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: DURATION_MS, seed: 5, ...(depth === 1 ? {} : { queueDepth: depth }), ...(o.extraFlags.includes("--chain") ? { chainMs: 0.5 } : {}) };
      await expectSameAsInProcess([...SPEC, ...o.extraFlags], runSpec, scheduler.out(), readFileSync(events, "utf8"));
    }
    console.log(
      `[partition] ${o.extraFlags.join(" ") || "virtual time"}: 3 hosts (netns) + root, NATS at ${url}; cut host 1 at event ${eventsAtCut} of ${total}; ` +
        `it stopped hosting acc1 ${gaveUpMs} ms later (${lost![1]}; answered ${stopped![1]} of ${stopped![2]}), the spare on host 2 claimed it ${takeoverMs} ms after the cut; ` +
        `link restored after ${cutMs} ms, then it learned: ${learned}; ${seen.dispatches.acc1} dispatches to acc1 seen, none answered twice, ${late} late replies from before the cut; ` +
        `${figures.released} frames released = ${figures.onTime} on time + ${figures.late} late + ${figures.dropped} dropped; run finished ${finishedMs} ms after the cut`,
    );
  } finally {
    await spy.close();
  }
};

// depth 2 (dispatch queues, docs/architecture.md): the cut-off owner's queued blocks are answered by the spare
describe.each([[1, ""], [2, ", chains of 0.5 ms"]] as const)("partition: accelerator hosts in network namespaces, one cut off mid-run (queue depth %i%s)", (queueDepth, _chains) => {
  it("virtual time: a spare on another host takes over, the cut-off owner rejoins as a spare, the run equals the uninterrupted one", async (ctx) => {
    if (!probe.ok) {
      if (inCi()) {
        throw new Error(`the partition test cannot run: ${probe.reason}. CI is set (CI=${process.env.CI}), where it must run, not be skipped: it needs root and iproute2's \`ip\` (see README.md, Quick start > Prerequisites)`);
      }
      ctx.skip(`network namespaces unavailable: ${probe.reason} (in CI, with env CI set, this fails instead)`);
    }
    await partitionScenario({ extraFlags: queueDepth === 1 ? [] : ["--queue-depth", String(queueDepth), "--chain", "0.5ms"], compareInProcess: true });
    // 106–129 s per file at load average 25–33 on 2 cores (docs/reliability.md): 5 min
  }, 300_000);
});
