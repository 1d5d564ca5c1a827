/**
 * Issue 13's topology at speed 1 (docs/live.md, `npm run bench -- --only 4` measures it): a
 * scheduler with `--clock live --speed 1`, the workload and four accelerator processes, one slot
 * each (`--slot accN`), on the suite's nats-server, with `serve`'s defaults. Real time on this
 * machine is not asserted (a test never depends on the machine's speed): the run must finish with
 * every frame accounted once, the scheduler must report its lag over the blocks it handled, and
 * the result must say it ran live at speed 1.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { LIVE_WARM_UP_MS } from "@sdrm3/shared/runtime";
import { cliProcesses } from "../support/cli-process";
import { expectEachFrameEndedOnce, removeLeaseBuckets } from "../support/faults";

const { start, killAll } = cliProcesses();
const runs: string[] = [];
const dir = mkdtempSync(join(tmpdir(), "sdrm3-live-speed1-"));
afterAll(async () => {
  await killAll();
  await removeLeaseBuckets(runs, "live-speed1-cleanup");
  rmSync(dir, { recursive: true, force: true });
});

describe.each(["VR_gaming", "AR_Assistant"])("live over NATS at speed 1: %s on Quad_8K, 4 accelerator processes", (scenario) => {
  it("finishes with every frame accounted once and reports the scheduler lag", async () => {
    const nats = natsTestOptions();
    const env = { ...process.env, ...(nats.user === undefined ? {} : { NATS_USER: nats.user }), ...(nats.pass === undefined ? {} : { NATS_PASS: nats.pass }) };
    const run = `live-s1-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const spec = ["--scenario", scenario, "--hardware", "Quad_8K/WS_OS_WS_OS", "--policy", "sdrm3", "--seed", "1", "--duration", "1500ms"];
    const serve = (role: string, extra: string[] = []) => start(["serve", role, "--nats", nats.servers, "--run", run, ...spec, ...extra], env);
    const accels = ["acc0", "acc1", "acc2", "acc3"].map((slot) => serve("accelerator", ["--slot", slot, "--name", `p-${slot}`]));
    // generous waits: they only end a hung test
    await Promise.all(accels.map((p) => p.waitErr(/ready for run/, 60_000)));
    const workload = serve("workload");
    await workload.waitErr(/workload ready/, 60_000);
    const events = join(dir, `${run}.jsonl`);
    const scheduler = serve("scheduler", ["--clock", "live", "--speed", "1", "--json", "--events", events]);
    const [s, w, ...a] = await Promise.all([scheduler.exited, workload.exited, ...accels.map((p) => p.exited)]);
    expect(s.code, scheduler.err()).toBe(0);
    expect(w.code, workload.err()).toBe(0);
    a.forEach((r, i) => expect(r.code, accels[i]!.err()).toBe(0));

    const figures = expectEachFrameEndedOnce(scheduler.out(), readFileSync(events, "utf8"));
    expect(figures.released).toBeGreaterThan(0);
    const result = JSON.parse(scheduler.out()) as {
      live?: { speed: number; lag: { blocks: number; p50Ms: number; p99Ms: number; maxMs: number; meanMs: number; share: number }; warmUp?: { simulatedMs: number; wallMs: number } };
    };
    expect(result.live?.speed).toBe(1);
    // the scheduler warmed up (docs/live.md "Warm-up") before it connected, and says so
    expect(result.live?.warmUp?.simulatedMs).toBe(LIVE_WARM_UP_MS);
    expect(result.live?.warmUp?.wallMs).toBeGreaterThan(0);
    expect(scheduler.err()).toMatch(new RegExp(`warm-up: ${LIVE_WARM_UP_MS} ms of the run in virtual time in \\d+ ms`));
    expect(scheduler.err().indexOf("warm-up:")).toBeLessThan(scheduler.err().indexOf("waiting for"));
    const lag = result.live!.lag;
    // the lag is reported over the blocks the scheduler handled: ordered quantiles, none negative
    expect(lag.blocks).toBeGreaterThan(0);
    expect(lag.p50Ms).toBeGreaterThanOrEqual(0);
    expect(lag.p99Ms).toBeGreaterThanOrEqual(lag.p50Ms);
    expect(lag.maxMs).toBeGreaterThanOrEqual(lag.p99Ms);
    // its mean lies within the samples, and its share is the summed lag over 4 accelerators × the run
    expect(lag.meanMs).toBeGreaterThanOrEqual(0);
    expect(lag.meanMs).toBeLessThanOrEqual(lag.maxMs);
    expect(lag.share).toBeCloseTo((lag.meanMs * lag.blocks) / (4 * 1500), 9);
    expect(lag.blocks).toBe(readFileSync(events, "utf8").split("\n").filter((l) => l.includes('"block.dispatched"')).length);
    console.log(
      `[live-speed1] ${scenario}: ${figures.released} frames = ${figures.onTime} on time + ${figures.late} late + ${figures.dropped} dropped; ` +
        `${lag.blocks} blocks, lag p50 ${lag.p50Ms.toFixed(3)} ms, p99 ${lag.p99Ms.toFixed(3)} ms, max ${lag.maxMs.toFixed(1)} ms, summed ${(100 * lag.share).toFixed(1)}% of the accelerators' time (not asserted: it depends on the machine)`,
    );
  }, 240_000);
});
