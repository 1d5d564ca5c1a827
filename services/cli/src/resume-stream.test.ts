/**
 * `serve scheduler --resume` on logs at the edges (services/cli/src/log-stream.ts), on a real
 * nats-server: a log with only its header — a scheduler that died before the run's first step —
 * starts the run from the beginning and its recording carries on after the header, so the stream
 * ends up holding exactly the log of an uninterrupted run (byte-identical export, identical
 * replay); a log that ends with run.finished is refused.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NatsBus, connectNatsBus, ensureLogStream, publishLogLine, purgeRunLog } from "@sdrm3/shared/nats";
import { EventRecorder, JsonlLogSink, logHeaderFor, resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { resumeStreamRecording } from "./log-stream";
import { sdrm3 } from "./testing";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-resume-stream-"));
const runs: string[] = [];
let bus: NatsBus;
let url: string;

beforeAll(async () => {
  const nats = natsTestOptions();
  url = nats.servers;
  bus = await connectNatsBus({ ...nats, name: "resume-stream-test" });
  await ensureLogStream(bus.nc);
});
afterAll(async () => {
  for (const run of runs) await purgeRunLog(bus.nc, run).catch(() => false);
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
});

const optionsOf = (run: string) => ({
  ...resolveRunSpec({ scenario: "social_interactionA", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100, seed: 1, blockSize: 8 }),
  run,
});

/** A new run id, and the log file of its uninterrupted run (in process). */
const reference = async (label: string) => {
  const run = `${label}-${randomUUID().slice(0, 8)}`;
  runs.push(run);
  const opts = optionsOf(run);
  const file = join(dir, `${run}.jsonl`);
  const sink = new JsonlLogSink(file);
  await runScenario({ ...opts, observer: new EventRecorder(sink, logHeaderFor(opts)) });
  sink.close();
  return { run, opts, file, lines: readFileSync(file, "utf8").split("\n").slice(0, -1) };
};

describe("resuming a run from its JetStream log", () => {
  it("a log with only its header: the run starts from the beginning and the stream ends up holding the whole log", async () => {
    const { run, opts, file, lines } = await reference("hdronly");
    await publishLogLine(bus.nc, run, 1, lines[0]!);

    const recording = await resumeStreamRecording(bus, opts);
    expect(recording).toBeDefined();
    expect(recording!.resume).toBeUndefined(); // no kernel to rebuild: the host starts the run afresh
    expect(recording!.summary).toBe(
      `run ${run}'s JetStream log holds only its header (its scheduler stopped before the run's first step): starting the run from the beginning, recording after the header`,
    );
    await runScenario({ ...opts, bus, observer: recording!.recorder });
    expect(await recording!.finish()).toMatch(new RegExp(`^recorded ${lines.length - 1} entries \\(${lines.length} lines in all, \\d+ bytes from this process\\)`));

    const out = join(dir, `${run}.export.jsonl`);
    const exported = await sdrm3("log", "export", "--nats", url, "--run", run, "--out", out);
    expect(exported.code, exported.err).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(file, "utf8"));
    const replay = await sdrm3("replay", "--nats", url, "--run", run);
    expect(replay.code, replay.err).toBe(0);
  }, 60_000);

  it("a log that ends with run.finished is refused (it was read before the check: the check never fired)", async () => {
    const { run, opts, lines } = await reference("finished");
    for (const [i, text] of lines.entries()) await publishLogLine(bus.nc, run, i + 1, text);
    await expect(resumeStreamRecording(bus, opts)).rejects.toThrow(
      `--resume: run ${run} already finished (its log ends with run.finished); replay it with \`sdrm3 replay --nats … --run ${run}\``,
    );
  }, 60_000);
});
