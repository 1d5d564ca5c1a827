/**
 * Recording a distributed run to JetStream (docs/event-log.md "JetStream"): `sdrm3 serve scheduler
 * --record-stream` with a workload and an accelerator process; `sdrm3 log export` gives the very
 * bytes an in-process run with the same run id records with `--record`, and `sdrm3 replay --nats`
 * reports every decision identical.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "@sdrm3/cli";
import { connectNatsBus, purgeRunLog } from "@sdrm3/shared/nats";
import { EventRecorder, JsonlLogSink, logHeaderFor, resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { cliProcesses } from "../support/cli-process";
import { captureIo, exitedWithin } from "../support/processes";


const cli = cliProcesses();
const runs: string[] = [];
const dir = mkdtempSync(join(tmpdir(), "sdrm3-record-stream-"));
afterAll(async () => {
  await cli.killAll();
  const bus = await connectNatsBus({ ...natsTestOptions(), name: "record-stream-cleanup" });
  for (const run of runs) await purgeRunLog(bus.nc, run).catch(() => false);
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
});

const start = cli.run;

describe("serve scheduler --record-stream", () => {
  it("exports the bytes an in-process --record of the same run writes, replays identically from the stream; the same run id again is refused and the waiting services are told", async () => {
    const nats = natsTestOptions();
    const run = `recjs-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const common = ["--scenario", "social_interactionA", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "150ms", "--seed", "3", "--block", "8"];
    const serve = (role: string, extra: string[] = []) => start(["serve", role, "--nats", nats.servers, "--run", run, ...common, ...extra]);
    const [s, a, w] = await Promise.all([serve("scheduler", ["--json", "--record-stream"]), serve("accelerator"), serve("workload")]);
    expect(s.code, s.err).toBe(0);
    for (const p of [a, w]) expect(p.code, p.err).toBe(0);
    expect(s.err).toMatch(/recorded \d+ entries \(\d+ lines, \d+ bytes\) to JetStream stream SDRM3_LOG, subject sdrm3\..*\.log/);

    // the same run in process (memory bus, same run id), recorded to a file
    const opts = { ...resolveRunSpec({ scenario: "social_interactionA", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 150, seed: 3, blockSize: 8 }), run };
    const file = join(dir, "local.jsonl");
    const sink = new JsonlLogSink(file);
    await runScenario({ ...opts, observer: new EventRecorder(sink, logHeaderFor(opts)) });
    sink.close();

    const exported = join(dir, "exported.jsonl");
    const io = captureIo();
    expect(await main(["log", "export", "--nats", nats.servers, "--run", run, "--out", exported], io)).toBe(0);
    expect(readFileSync(exported).equals(readFileSync(file))).toBe(true);

    const replay = captureIo();
    expect(await main(["replay", "--nats", nats.servers, "--run", run], replay)).toBe(0);
    expect(replay.stdout).toMatch(/replayed \d+ events, \d+ decisions identical/);

    // the same run id again: the scheduler refuses to mix two runs' lines (exit 2), and the services
    // already waiting for it are told and exit instead of waiting forever
    const waiting = ["accelerator", "workload"].map((role) => cli.start(["serve", role, "--nats", nats.servers, "--run", run, ...common]));
    for (const p of waiting) await p.waitErr(/ready for run/, 30_000);
    const s2 = await serve("scheduler", ["--record-stream"]);
    expect(s2.code, s2.err).toBe(2);
    expect(s2.err).toContain(`run ${run} already has an event log in JetStream`);
    const codes = await exitedWithin(waiting, 30_000);
    for (const [i, p] of waiting.entries()) {
      expect(codes[i]!.code, p.err()).toBe(1);
      expect(p.err()).toContain(`the scheduler stopped run ${run}: run ${run} already has an event log in JetStream`);
    }
  }, 120_000);
});
