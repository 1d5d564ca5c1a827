/**
 * followLogLines and the recorder service against a real nats-server (the test fixture's): a log
 * written line by line while it is followed arrives whole and in order, and the recorder's file
 * is byte-identical to the log it follows; a run with no log fails after the wait timeout with a
 * clear error; a log that stops growing fails after the idle timeout.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "@sdrm3/cli";
import {
  LogFollowError,
  LogSourceMissingError,
  type NatsBus,
  connectNatsBus,
  ensureLogStream,
  followLogLines,
  publishLogLine,
  purgeRunLog,
} from "@sdrm3/shared/nats";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { serveRecorder } from "./main";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-recorder-"));
const source = join(dir, "source.jsonl");
let lines: string[] = [];
let bus: NatsBus;
const runs: string[] = [];
const runId = (label: string) => {
  const r = `${label}-${randomUUID().slice(0, 8)}`;
  runs.push(r);
  return r;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const io = { out: () => undefined, err: () => undefined };
  expect(await main(["run", "--scenario", "social_interactionA", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "30ms", "--record", source], io)).toBe(0);
  lines = readFileSync(source, "utf8").split("\n").slice(0, -1);
  bus = await connectNatsBus({ servers: natsTestOptions().servers, name: "recorder-test" });
  await ensureLogStream(bus.nc);
});

afterAll(async () => {
  for (const r of runs) await purgeRunLog(bus.nc, r).catch(() => false);
  await bus?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Publishes the source log's lines under `run`, `batch` at a time with a pause between batches. */
const write = async (run: string, upTo = lines.length, batch = 200, pauseMs = 40) => {
  for (let i = 0; i < upTo; i++) {
    await publishLogLine(bus.nc, run, i + 1, lines[i]!);
    if ((i + 1) % batch === 0) await sleep(pauseMs);
  }
};

describe("followLogLines", () => {
  it("follows a log while it is written, from before its first line to run.finished", async () => {
    const run = runId("follow");
    expect(lines.length).toBeGreaterThan(1000);
    const got: Array<{ line: number; text: string; written: number }> = [];
    let written = 0;
    const follow = (async () => {
      for await (const l of followLogLines(bus.nc, run, { waitMs: 20_000, idleMs: 20_000 })) got.push({ line: l.line, text: l.text, written });
    })();
    await sleep(300); // the follower is waiting: nothing on the run's subject yet
    expect(got).toEqual([]);
    for (let i = 0; i < lines.length; i++) {
      await publishLogLine(bus.nc, run, i + 1, lines[i]!);
      written = i + 1;
      if (written % 100 === 0) await sleep(50); // the follower gets its turn while the log grows
    }
    await follow; // ends by itself at the run.finished line
    expect(got.map((l) => l.line)).toEqual(lines.map((_, i) => i + 1));
    expect(got.map((l) => l.text)).toEqual(lines);
    // it read while the log was being written, not after
    expect(got[0]!.written).toBeLessThan(lines.length);
    expect(got.filter((l) => l.written < lines.length).length).toBeGreaterThan(100);
  }, 60_000);

  it("a run with no log: a clear error after the wait timeout", async () => {
    const run = runId("missing");
    const t0 = performance.now();
    const follow = async () => {
      for await (const _ of followLogLines(bus.nc, run, { waitMs: 700 })) {
        // nothing comes
      }
    };
    const err = await follow().then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(LogSourceMissingError);
    expect((err as Error).message).toBe(
      `run ${run}: no event log in JetStream stream SDRM3_LOG within 700 ms (nothing on sdrm3.${run}.log; is the run's scheduler recording it with --record-stream?)`,
    );
    expect(ms).toBeGreaterThanOrEqual(650);
    expect(ms).toBeLessThan(5_000);
  }, 30_000);

  it("a log that stops growing before run.finished: an idle-timeout error naming the last line", async () => {
    const run = runId("idle");
    await write(run, 50);
    const got: number[] = [];
    const err = await (async () => {
      for await (const l of followLogLines(bus.nc, run, { waitMs: 5_000, idleMs: 600 })) got.push(l.line);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(got).toHaveLength(50);
    expect(err).toBeInstanceOf(LogFollowError);
    expect((err as Error).message).toBe(`run ${run}: no new line on sdrm3.${run}.log for 600 ms after line 50 (idle timeout; did the scheduler stop?)`);
  }, 30_000);
});

describe("serveRecorder", () => {
  it("writes the file the log was recorded as, byte for byte, while the log is written", async () => {
    const run = runId("rec");
    const out = join(dir, `${run}.jsonl`);
    const logs: string[] = [];
    const recording = serveRecorder({ bus, run, out, waitMs: 20_000, idleMs: 20_000, log: (l) => logs.push(l) });
    await sleep(200);
    await write(run);
    const r = await recording;
    expect(readFileSync(out, "utf8")).toBe(readFileSync(source, "utf8"));
    expect(r).toEqual({ out, lines: lines.length, entries: lines.length - 1, bytes: readFileSync(source).length });
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(logs.join("\n")).toContain(`following run ${run}`);
  }, 60_000);

  it("a damaged line fails with the reader's message; only the .partial file is left", async () => {
    const run = runId("bad");
    const out = join(dir, `${run}.jsonl`);
    const bad = [...lines.slice(0, 10)];
    bad[6] = bad[6]!.replace(/"seq":6,/, '"seq":66,');
    for (let i = 0; i < bad.length; i++) await publishLogLine(bus.nc, run, i + 1, bad[i]!);
    const err = await serveRecorder({ bus, run, out, waitMs: 5_000, idleMs: 5_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).message).toBe(`JetStream SDRM3_LOG run ${run}: line 7: expected seq 6, got 66 (a line is missing, repeated or out of order)`);
    expect(existsSync(out)).toBe(false);
    expect(readFileSync(`${out}.partial`, "utf8")).toBe(`${lines.slice(0, 6).join("\n")}\n`);
  }, 30_000);
});

describe("sdrm3 serve recorder", () => {
  const capture = () => {
    let out = "";
    let err = "";
    return { io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t) }, out: () => out, err: () => err };
  };

  it("without --out: bad input, exit 2", async () => {
    const c = capture();
    expect(await main(["serve", "recorder", "--nats", natsTestOptions().servers, "--run", "r1"], c.io)).toBe(2);
    expect(c.err()).toBe("sdrm3: serve recorder: missing --out <file> (the run's JSONL log)\n");
  });

  it("a run nobody records: exit 1 after --wait-timeout, naming the run and the subject", async () => {
    const run = runId("nobody");
    const c = capture();
    const out = join(dir, `${run}.jsonl`);
    expect(await main(["serve", "recorder", "--nats", natsTestOptions().servers, "--run", run, "--out", out, "--wait-timeout", "500ms"], c.io)).toBe(1);
    expect(c.err()).toContain(
      `sdrm3: run failed: run ${run}: no event log in JetStream stream SDRM3_LOG within 500 ms (nothing on sdrm3.${run}.log; is the run's scheduler recording it with --record-stream?)\n`,
    );
    expect(existsSync(out)).toBe(false);
  }, 30_000);
});
