/**
 * The event log's writer and reader: the buffered writer keeps to its cap (flat memory, measured
 * by its counter on a 10 s AR_Assistant run), a recording reads back as its header and entries,
 * the same run records byte-identical logs, non-finite scores survive, and every kind of damage
 * (a cut last line, a bad line in the middle, a schema violation, a missing or repeated line, an
 * unknown version, a log that ends early) is a LogFormatError naming the line — or, with
 * allowTruncated, the end of the usable prefix.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LOG_FORMAT_VERSION, type LogEntry } from "../contracts/log";
import { jobId } from "../contracts/job-id";
import { PROTOCOL_VERSION } from "../contracts/messages";
import { findScenario, loadBuiltinDataset, resolveHardware, resolveModelCosts } from "../data";
import { resolvePolicy } from "../policies/catalogue";
import {
  BufferedFileWriter,
  DEFAULT_LOG_BUFFER_BYTES,
  EventRecorder,
  JsonlLogSink,
  LogFormatError,
  SDRM3_VERSION,
  encodeEvent,
  fileLines,
  logHeaderFor,
  openLog,
  openLogFile,
  textLines,
} from "./event-log";
import { type RunOptions, runScenario } from "./run";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-event-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dataset = loadBuiltinDataset();
const optionsFor = (scenarioName: string, policy: string, durationMs: number): RunOptions => {
  const scenario = findScenario(dataset, scenarioName);
  const hardware = resolveHardware(dataset, "Dual_4K/WS_OS");
  return { scenario, hardware, costs: resolveModelCosts(dataset, scenario, hardware), policy: resolvePolicy(policy), durationMs, seed: 1 };
};

const record = async (opts: RunOptions, path: string, capBytes = DEFAULT_LOG_BUFFER_BYTES) => {
  const sink = new JsonlLogSink(path, capBytes);
  const recorder = new EventRecorder(sink, logHeaderFor(opts));
  try {
    const result = await runScenario({ ...opts, observer: recorder });
    return { result, recorder, sink };
  } finally {
    sink.close();
  }
};

const readAll = async (path: string, allowTruncated = false) => {
  const log = await openLogFile(path, { allowTruncated });
  const entries: LogEntry[] = [];
  for await (const e of log.entries) entries.push(e);
  return { log, entries };
};

/** Reads the whole log and returns the LogFormatError it fails with. */
const failure = async (text: string): Promise<LogFormatError> => {
  try {
    const log = await openLog(textLines(text));
    for await (const _ of log.entries) {
      // read on
    }
  } catch (e) {
    if (e instanceof LogFormatError) return e;
    throw e;
  }
  throw new Error("the log was accepted");
};

const small = optionsFor("VR_gaming", "sdrm3", 60);
const smallPath = join(dir, "small.jsonl");
const smallRun = record(small, smallPath);
const smallText = async () => {
  await smallRun;
  return readFileSync(smallPath, "utf8");
};

describe("BufferedFileWriter", () => {
  it("buffers up to its cap, flushes with writeSync, writes a piece larger than the cap directly", () => {
    const path = join(dir, "w.txt");
    const w = new BufferedFileWriter(path, 64);
    w.write("a".repeat(40));
    expect([w.bufferedBytes, w.flushes, statSync(path).size]).toEqual([40, 0, 0]);
    w.write("b".repeat(30)); // does not fit beside the 40: flush first
    expect([w.bufferedBytes, w.flushes, statSync(path).size]).toEqual([30, 1, 40]);
    w.write("c".repeat(100)); // larger than the cap: flush, then straight to the file
    expect([w.bufferedBytes, statSync(path).size]).toEqual([0, 170]);
    w.write("é€😀"); // 2 + 3 + 4 UTF-8 bytes
    w.close();
    expect(w.maxBufferedBytes).toBeLessThanOrEqual(64);
    expect(readFileSync(path, "utf8")).toBe(`${"a".repeat(40)}${"b".repeat(30)}${"c".repeat(100)}é€😀`);
    expect(w.bytesWritten).toBe(179);
  });
});

describe("recording", () => {
  it("reads back as the header it was given and one entry per kernel input and event, seq 1, 2, …", async () => {
    const { recorder, result } = await smallRun;
    const { log, entries } = await readAll(smallPath);
    expect(log.header).toEqual(logHeaderFor(small));
    expect(log.header).toMatchObject({
      type: "header",
      formatVersion: LOG_FORMAT_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      sdrm3Version: SDRM3_VERSION,
      mode: "exact",
      policy: { name: "sdrm3", params: { alpha: 1, beta: 1, gamma: 1 } },
      seed: 1,
      durationMs: 60,
      blockSize: 1,
      phase: true,
      jitterMs: 0,
      missWindowMs: 1000,
    });
    expect(log.header.costs.map((c) => [c.name, c.layerCount])).toEqual([
      ["ES_RITNet", 42],
      ["GE_FBNet_C", 63],
      ["HT_hand_graph_cnn_half", 224],
    ]);
    for (const c of log.header.costs) {
      const table = small.costs.get(c.name)!;
      expect(c.cycles).toEqual(table.cycles.map((a) => Array.from(a)));
      expect(c.energyMJ).toEqual(table.energyMJ.map((a) => Array.from(a)));
    }
    expect(entries).toHaveLength(recorder.entries);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries[0]).toEqual({ seq: 1, at: 0, source: "sched", type: "input", payload: { kind: "start" } });
    expect(entries[entries.length - 1]!.type).toBe("run.finished");
    expect(entries.filter((e) => e.type === "decision")).toHaveLength(result.decisions);
    expect(entries.filter((e) => e.type === "frame.released")).toHaveLength(result.frames.length);
    // every reply names who sent it
    const sources = new Set(entries.filter((e) => e.type === "input").map((e) => e.source));
    expect([...sources].sort()).toEqual(["accel:acc0", "accel:acc1", "sched", "task:ES_RITNet", "task:GE_FBNet_C", "task:HT_hand_graph_cnn_half"]);
    expect(log.status).toMatchObject({ finished: true, entries: recorder.entries, linesUsed: recorder.entries + 1, stoppedAt: undefined });
  });

  it("records the same run byte for byte (no wall clock, no randomness in the log)", async () => {
    await smallRun;
    const again = join(dir, "again.jsonl");
    await record(small, again);
    expect(readFileSync(again, "utf8")).toBe(readFileSync(smallPath, "utf8"));
  });

  it("writes non-finite decision scores as strings and reads them back as numbers", async () => {
    const header = (await smallText()).split("\n")[0]!;
    const decision = {
      _tag: "decision",
      v: 1,
      run: "embedded",
      at: 0,
      n: 1,
      action: "drop",
      job: jobId("ES_RITNet", 0),
      reason: "test",
      scores: { a: Number.POSITIVE_INFINITY, b: Number.NEGATIVE_INFINITY, c: Number.NaN, d: 1.5 },
    } as const;
    const encoded = JSON.stringify(encodeEvent(decision));
    expect(encoded).toContain('"scores":{"a":"Infinity","b":"-Infinity","c":"NaN","d":1.5}');
    const text = [
      header,
      '{"seq":1,"at":0,"source":"sched","type":"input","payload":{"kind":"start"}}',
      `{"seq":2,"at":0,"source":"sched","type":"decision","payload":${encoded}}`,
      '{"seq":3,"at":0,"source":"sched","type":"run.finished","payload":{"_tag":"run.finished","v":1,"run":"embedded","at":0}}',
      "",
    ].join("\n");
    const log = await openLog(textLines(text));
    const entries: LogEntry[] = [];
    for await (const e of log.entries) entries.push(e);
    const scores = entries[1]!.type === "decision" && entries[1]!.payload._tag === "decision" ? entries[1]!.payload.scores : undefined;
    expect(scores).toEqual({ a: Number.POSITIVE_INFINITY, b: Number.NEGATIVE_INFINITY, c: Number.NaN, d: 1.5 });
  });

  it("keeps the writer's buffer within its cap on a 10 s AR_Assistant run (flat memory)", async () => {
    const path = join(dir, "long.jsonl");
    const { sink, recorder } = await record(optionsFor("AR_Assistant", "sdrm3", 10_000), path);
    const w = sink.writer;
    expect(recorder.entries).toBeGreaterThan(200_000);
    expect(w.capBytes).toBe(64 * 1024);
    expect(w.maxBufferedBytes).toBeLessThanOrEqual(w.capBytes);
    expect(w.maxBufferedBytes).toBeGreaterThan(w.capBytes - 2048); // it does fill the buffer before flushing
    expect(w.bytesWritten).toBe(statSync(path).size);
    expect(w.flushes).toBeGreaterThan(w.bytesWritten / w.capBytes - 2);
    // lines are read back in bounded chunks too
    let lines = 0;
    for await (const _ of fileLines(path)) lines++;
    expect(lines).toBe(recorder.entries + 1);
  }, 120_000);
});

describe("log hygiene: damage is reported with its line", () => {
  const lines = async () => (await smallText()).split("\n").slice(0, -1); // the file ends with a newline

  it("a cut last line", async () => {
    const l = await lines();
    const cut = `${l.join("\n")}`.slice(0, -20); // no newline, the last line cut mid-JSON
    const e = await failure(cut);
    expect(e.line).toBe(l.length);
    expect(e.message).toBe(`line ${l.length}: the line is cut (the file ends without a newline): the log is truncated`);
  });

  it("a log that stops at a line boundary before run.finished", async () => {
    const l = await lines();
    const e = await failure(`${l.slice(0, 100).join("\n")}\n`);
    expect(e.message).toBe("line 101: the log ends after line 100 before the run finished (no run.finished entry): it is truncated");
  });

  it("a line in the middle that is not JSON", async () => {
    const l = await lines();
    l[49] = l[49]!.slice(0, 30);
    const e = await failure(`${l.join("\n")}\n`);
    expect(e.line).toBe(50);
    expect(e.message).toMatch(/^line 50: not valid JSON \(/);
  });

  it("a log saved with a byte-order mark names it (JSON.parse's message shows an invisible character)", async () => {
    const l = await lines();
    const e = await failure(`\ufeff${l.join("\n")}\n`);
    expect(e.line).toBe(1);
    expect(e.message).toBe("line 1: the line starts with a byte-order mark (U+FEFF): an event log is UTF-8 without one; save it without the BOM");
  });

  it("a line in the middle that breaks the schema names the field", async () => {
    const l = await lines();
    const i = l.findIndex((x) => x.includes('"_tag":"block.result"'));
    l[i] = l[i]!.replace(/"completesAt":[0-9.e+-]+/, '"completesAt":"soon"');
    const e = await failure(`${l.join("\n")}\n`);
    expect(e.line).toBe(i + 1);
    expect(e.message).toContain(`line ${i + 1}: bad input entry: payload.reply.completesAt: `);
  });

  it("a missing or repeated line", async () => {
    const l = await lines();
    const dropped = [...l.slice(0, 30), ...l.slice(31)];
    expect((await failure(`${dropped.join("\n")}\n`)).message).toBe("line 31: expected seq 30, got 31 (a line is missing, repeated or out of order)");
    const repeated = [...l.slice(0, 31), l[30]!, ...l.slice(31)];
    expect((await failure(`${repeated.join("\n")}\n`)).message).toBe("line 32: expected seq 31, got 30 (a line is missing, repeated or out of order)");
  });

  it("an unknown entry type, a second header, an entry after run.finished", async () => {
    const l = await lines();
    const typed = [...l];
    typed[10] = typed[10]!.replace(/"type":"[a-z.]+"/, '"type":"block.teleported"');
    expect((await failure(`${typed.join("\n")}\n`)).message).toMatch(/^line 11: unknown entry type "block.teleported" \(expected "input" or "frame.released"/);
    expect((await failure(`${[l[0], l[0]].join("\n")}\n`)).message).toBe("line 2: a second header");
    expect((await failure(`${[...l, l[l.length - 1]].join("\n")}\n`)).message).toBe(`line ${l.length + 1}: entry after run.finished`);
  });

  it("an unknown log format version, protocol version, or not a log at all", async () => {
    const l = await lines();
    const v2 = [l[0]!.replace(`"formatVersion":${LOG_FORMAT_VERSION}`, '"formatVersion":99'), ...l.slice(1)];
    expect((await failure(`${v2.join("\n")}\n`)).message).toBe(`line 1: unknown log format version 99 (this sdrm3 ${SDRM3_VERSION} reads version 1)`);
    const p9 = [l[0]!.replace(`"protocolVersion":${PROTOCOL_VERSION}`, '"protocolVersion":9'), ...l.slice(1)];
    expect((await failure(`${p9.join("\n")}\n`)).message).toBe(`line 1: unknown protocol version 9 (this sdrm3 ${SDRM3_VERSION} speaks version 1)`);
    expect((await failure("")).message).toBe("line 1: the log is empty (no header)");
    expect((await failure(`${l.slice(1).join("\n")}\n`)).message).toBe('line 1: expected the log header (type "header"), got type "input"');
    const noSeed = [l[0]!.replace('"seed":1,', ""), ...l.slice(1)];
    expect((await failure(`${noSeed.join("\n")}\n`)).message).toBe("line 1: bad header: seed: is missing");
  });

  it("allowTruncated stops at the first bad line and says how far it got", async () => {
    const l = await lines();
    l[199] = "{ garbage";
    const log = await openLog(textLines(`${l.join("\n")}\n`), { allowTruncated: true, name: "x.jsonl" });
    let n = 0;
    for await (const _ of log.entries) n++;
    expect(n).toBe(198);
    expect(log.status.linesUsed).toBe(199);
    expect(log.status.stoppedAt?.message).toMatch(/^x\.jsonl: line 200: not valid JSON/);
  });
});
