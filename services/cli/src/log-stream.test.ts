/**
 * Event logs in JetStream on a real nats-server: a run over the NATS bus recorded to the stream
 * and to a file at once exports byte-identical to the file (`sdrm3 log export`); replay, explain
 * and trace read the stream; a re-published line (same msgID) is stored once; an unknown run
 * exits 2; a damaged stream log is named by line.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JetStreamLogSink, JetStreamRecordError, type NatsBus, connectNatsBus, findRunLog, logSubject, publishLogLine, purgeRunLog } from "@sdrm3/shared/nats";
import { EventRecorder, JsonlLogSink, type KernelObserver, logHeaderFor, resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { startStreamRecording } from "./log-stream";
import { sdrm3 } from "./testing";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-log-stream-"));
const runs: string[] = [];
let bus: NatsBus;
let url: string;

const newRun = (label = "logjs") => {
  const run = `${label}-${randomUUID().slice(0, 8)}`;
  runs.push(run);
  return run;
};

const tee = (...observers: KernelObserver[]): KernelObserver => ({
  step: (input, at, effects) => {
    for (const o of observers) o.step(input, at, effects);
  },
});

beforeAll(async () => {
  const nats = natsTestOptions();
  url = nats.servers;
  bus = await connectNatsBus({ ...nats, name: "log-stream-test" });
});
afterAll(async () => {
  for (const run of runs) await purgeRunLog(bus.nc, run).catch(() => false);
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs social_interactionA / sdrm3 over the NATS bus, recording to JetStream and to a file. */
const recordRun = async (run: string) => {
  const opts = { ...resolveRunSpec({ scenario: "social_interactionA", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100, seed: 1, blockSize: 8 }), run };
  const file = join(dir, `${run}.jsonl`);
  const sink = new JsonlLogSink(file);
  const fileRecorder = new EventRecorder(sink, logHeaderFor(opts));
  const recording = await startStreamRecording(bus, opts);
  await runScenario({ ...opts, bus, observer: tee(fileRecorder, recording.recorder) });
  sink.close();
  const note = await recording.finish();
  return { file, note, entries: fileRecorder.entries };
};

describe("event log in JetStream", () => {
  let run: string;
  let file: string;

  beforeAll(async () => {
    run = newRun();
    const r = await recordRun(run);
    file = r.file;
    expect(r.note).toContain(`${r.entries} entries (${r.entries + 1} lines`);
    expect(r.note).toContain(`subject ${logSubject(run)}`);
  }, 60_000);

  it("log export is byte-identical to the file log of the same run (to a file and to stdout)", async () => {
    const out = join(dir, `${run}.export.jsonl`);
    const r = await sdrm3("log", "export", "--nats", url, "--run", run, "--out", out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`exported run ${run}`);
    const expected = readFileSync(file);
    expect(expected.length).toBeGreaterThan(10_000);
    expect(readFileSync(out).equals(expected)).toBe(true);
    const s = await sdrm3("log", "export", "--nats", url, "--run", run);
    expect(s.code, s.err).toBe(0);
    expect(s.out).toBe(expected.toString("utf8"));
  });

  it("replay from JetStream reports every decision identical, as the file replay does", async () => {
    const fromFile = await sdrm3("replay", file);
    expect(fromFile.code, fromFile.out).toBe(0);
    const r = await sdrm3("replay", "--nats", url, "--run", run);
    expect(r.code, r.out + r.err).toBe(0);
    const summary = /replayed \d+ events, \d+ decisions identical/.exec(fromFile.out)![0];
    expect(r.out).toContain(summary);
    expect(r.out).toContain(`JetStream SDRM3_LOG run ${run}`);
  });

  it("explain and trace read the stream too", async () => {
    const e = await sdrm3("explain", "--nats", url, "--run", run, "--at", "10ms");
    const f = await sdrm3("explain", file, "--at", "10ms");
    expect(e.code, e.err).toBe(0);
    expect(e.out.split("\n").slice(1).join("\n")).toBe(f.out.split("\n").slice(1).join("\n"));
    const t = await sdrm3("trace", "--nats", url, "--run", run);
    const u = await sdrm3("trace", file);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toBe(u.out);
  });

  it("a re-published line (same msgID) is stored once", async () => {
    const lines = readFileSync(file, "utf8").split("\n");
    const ack = await publishLogLine(bus.nc, run, 5, lines[4]!);
    expect(ack.duplicate).toBe(true);
    const out = join(dir, `${run}.again.jsonl`);
    const r = await sdrm3("log", "export", "--nats", url, "--run", run, "--out", out);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(out).equals(readFileSync(file))).toBe(true);
  });

  it("a stream log with a line stored twice (another msgID) fails naming the line, and leaves no file", async () => {
    const bad = newRun("logbad");
    const lines = readFileSync(file, "utf8").split("\n").slice(0, 4);
    // the header and entries 1..2 under msgIDs of their own, then entry 2 again as line 4
    for (const [i, text] of [...lines.slice(0, 3), lines[2]!].entries()) await publishLogLine(bus.nc, bad, i + 1, text);
    const out = join(dir, `${bad}.jsonl`);
    const r = await sdrm3("log", "export", "--nats", url, "--run", bad, "--out", out);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`JetStream SDRM3_LOG run ${bad}: line 4: expected seq 3, got 2`);
    expect(() => readFileSync(out)).toThrow();
  });

  it("an unknown run exits 2 with a clear message", async () => {
    const missing = `nosuch-${randomUUID().slice(0, 8)}`;
    for (const argv of [["log", "export", "--nats", url, "--run", missing], ["replay", "--nats", url, "--run", missing], ["trace", "--nats", url, "--run", missing]]) {
      const r = await sdrm3(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err).toContain(`run ${missing}: no event log in JetStream`);
    }
    const both = await sdrm3("replay", file, "--nats", url, "--run", run);
    expect(both.code).toBe(2);
    const noRun = await sdrm3("replay", "--nats", url);
    expect(noRun.code).toBe(2);
    expect(noRun.err).toContain("--nats needs --run");
  });

  it("a recording whose publishes fail fails loudly at the end (done() rejects)", async () => {
    const lost = newRun("loglost");
    const other = await connectNatsBus({ ...natsTestOptions(), name: "log-stream-lost" });
    const sink = new JetStreamLogSink(other.nc, lost, { attempts: 2, timeoutMs: 300 });
    await other.close();
    const opts = { ...resolveRunSpec({ scenario: "social_interactionA", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 10 }), run: lost };
    sink.header(logHeaderFor(opts));
    sink.close();
    const err = await sink.done().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(JetStreamRecordError);
    expect((err as Error).message).toMatch(/recording run loglost-\w+ to JetStream \(SDRM3_LOG, sdrm3\.loglost-\w+\.log\) failed: 1 of 1 lines not stored; first: line 1: /);
  });

  it("refuses to record a run id whose log is already in the stream (it names --resume), and writes nothing", async () => {
    const run = newRun("logdup");
    const opts = { ...resolveRunSpec({ scenario: "AR_gaming", hardware: "Dual_4K/WS_OS", policy: "fcfs", durationMs: 100, seed: 1 }), run };
    await publishLogLine(bus.nc, run, 1, JSON.stringify(logHeaderFor(opts)));
    const before = await findRunLog(bus.nc, run);
    expect(before).toBeDefined();
    await expect(startStreamRecording(bus, opts)).rejects.toThrow(
      `run ${run} already has an event log in JetStream (SDRM3_LOG, ${logSubject(run)}); record under another --run, or continue that run with --resume`,
    );
    expect(await findRunLog(bus.nc, run)).toEqual(before); // nothing was added to the old log
  });
});
