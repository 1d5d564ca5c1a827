/**
 * One run spec and one scheduler per run (issue 15 item 4, issue 17 item 6), with real processes
 * on the test nats-server:
 *
 * (a) the scheduler alone states the run; an accelerator and a workload started with `--run` only
 *     take its spec and the run gives the in-process run's result; a workload given `--seed 2` and
 *     an accelerator given another `--hardware` than the spec's are refused (exit 2, the field
 *     named); a second scheduler on the run is refused at once, by the first one's name; at the
 *     end the run's spec and run lease are gone.
 * (b) after a scheduler is killed (-9), `--resume` takes the run over once the dead one's lease
 *     lapses and finishes it with the services started for the first one.
 */
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "@sdrm3/cli";
import { connectNatsBus, removeLeaseBucket, removeRunSpec, runLeaseBucketName, runSpecBucketName } from "@sdrm3/shared/nats";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { cliProcesses } from "../support/cli-process";
import { natsEnv } from "../support/faults";
import { captureIo, exitedWithin } from "../support/processes";

const { start, run: runCli, killAll } = cliProcesses();
const runs: string[] = [];
afterAll(async () => {
  await killAll();
  const bus = await connectNatsBus({ ...natsTestOptions(), name: "run-spec-cleanup" });
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const jsm = await jetstreamManager(bus.nc);
  for (const run of runs) {
    await removeLeaseBucket(bus.nc, run).catch(() => false);
    await removeRunSpec(bus.nc, run).catch(() => false);
    await jsm.streams.delete(`KV_${runLeaseBucketName(run)}`).catch(() => false);
  }
  await bus.close();
});

const SPEC = ["--scenario", "social_interactionA", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "300ms", "--block", "8"];

/** The metrics of a run's JSON result (what a distributed run must share with the in-process one). */
const metrics = (json: string) => {
  const r = JSON.parse(json) as { models: unknown; summary?: unknown; decisions?: unknown };
  return { models: r.models, summary: r.summary, decisions: r.decisions };
};

describe("one run spec, one scheduler per run", () => {
  it("services started with --run only take the scheduler's spec; mismatching flags and a second scheduler are refused by name", async () => {
    const nats = natsTestOptions();
    const env = natsEnv(nats);
    const run = `spec-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const conn = ["--nats", nats.servers, "--run", run];
    const scheduler = start(["serve", "scheduler", ...conn, ...SPEC, "--name", "first", "--json", "--register-timeout", "120s"], env);
    await scheduler.waitErr(/waiting for 2 accelerators/, 60_000);

    const second = await runCli(["serve", "scheduler", ...conn, ...SPEC, "--name", "second"], env, 60_000);
    expect(second.code, second.err).toBe(1);
    expect(second.err).toContain(`run ${run} already has a scheduler: first on `);
    expect(second.err).toContain("one scheduler per run");

    const [seed, hardware] = await Promise.all([
      runCli(["serve", "workload", ...conn, "--seed", "2"], env, 60_000),
      runCli(["serve", "accelerator", ...conn, "--hardware", "Quad_8K/WS_OS_WS_OS"], env, 60_000),
    ]);
    expect(seed.code, seed.err).toBe(2);
    expect(seed.err).toContain(`--seed 2: run ${run}'s spec (published by its scheduler) says seed 1`);
    expect(hardware.code, hardware.err).toBe(2);
    expect(hardware.err).toContain(`--hardware Quad_8K/WS_OS_WS_OS: run ${run}'s spec (published by its scheduler) says hardware Dual_4K/WS_OS`);
    expect(hardware.err).not.toContain("claimed slot");

    const accelerator = start(["serve", "accelerator", ...conn], env);
    const workload = start(["serve", "workload", ...conn], env);
    const codes = await exitedWithin([scheduler, accelerator, workload], 120_000);
    expect(codes.map((c) => c.code), scheduler.err() + accelerator.err() + workload.err()).toEqual([0, 0, 0]);
    expect(workload.err()).toContain(`run ${run}: social_interactionA on Dual_4K/WS_OS, policy sdrm3, seed 1, 300 ms, block 8 (the spec from its scheduler)`);
    expect(accelerator.err()).toMatch(/claimed slot acc0[^]*claimed slot acc1/);

    const io = captureIo();
    expect(await main(["run", ...SPEC, "--json"], io), io.stderr).toBe(0);
    expect(metrics(scheduler.out())).toEqual(metrics(io.stdout));

    // the run's spec and its run lease went with the run
    const bus = await connectNatsBus({ ...nats, name: `${run}-check` });
    try {
      const { jetstreamManager } = await import("@nats-io/jetstream");
      const jsm = await jetstreamManager(bus.nc);
      for (const bucket of [runSpecBucketName(run), runLeaseBucketName(run)]) {
        expect(await jsm.streams.info(`KV_${bucket}`).then(() => "exists", () => "gone"), bucket).toBe("gone");
      }
    } finally {
      await bus.close();
    }
  }, 240_000);

  it("after a scheduler is killed, --resume takes the run over once its lease lapses", async () => {
    const nats = natsTestOptions();
    const env = natsEnv(nats);
    const run = `resume-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const conn = ["--nats", nats.servers, "--run", run];
    // no --record-stream: the resumed scheduler finds no log and starts the run afresh (resuming from a log: test/faults/scheduler-restart.test.ts)
    const first = start(["serve", "scheduler", ...conn, ...SPEC, "--name", "crashing", "--register-timeout", "120s"], env);
    await first.waitErr(/waiting for 2 accelerators/, 60_000);
    // the services take the spec the first scheduler published, then it dies without a word
    const accelerator = start(["serve", "accelerator", ...conn], env);
    const workload = start(["serve", "workload", ...conn], env);
    await Promise.all([accelerator.waitErr(/claimed slot acc1/, 60_000), workload.waitErr(/workload ready/, 60_000)]);
    first.child.kill("SIGKILL");
    await first.exited;

    // (a plain start in the dead lease's TTL is refused as in the test above; --resume waits it out)
    const resumed = start(["serve", "scheduler", ...conn, ...SPEC, "--name", "resumed", "--resume", "--json"], env);
    const codes = await exitedWithin([resumed, accelerator, workload], 120_000);
    expect(resumed.err()).toContain(`has no event log in JetStream yet: starting it from the beginning`);
    expect(codes.map((c) => c.code), resumed.err() + accelerator.err() + workload.err()).toEqual([0, 0, 0]);
    const io = captureIo();
    expect(await main(["run", ...SPEC, "--json"], io), io.stderr).toBe(0);
    expect(metrics(resumed.out())).toEqual(metrics(io.stdout));
  }, 240_000);
});
