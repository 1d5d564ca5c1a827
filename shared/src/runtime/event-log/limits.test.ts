/**
 * The event log's reading limits and versions: lines are streamed (a long line is joined from its
 * chunks once, a multi-byte character split across chunks survives), a line over the limit is
 * refused naming the line and the limit, the header records the behaviour version and a replay
 * refuses one it does not implement, and the recorded sdrm3 version is the shared package's,
 * equal to the root's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { failureKind } from "../../contracts/errors";
import { resolvePolicy } from "../../policies/catalogue";
import { LogFormatError } from "./errors";
import { BEHAVIOUR_VERSION, IMPLEMENTED_BEHAVIOURS, SDRM3_VERSION, behaviourOf, checkBehaviour, kernelConfigFromHeader } from "./header";
import { MAX_LOG_LINE_BYTES, fileLines, textLines } from "./lines";
import { openLog, openLogFile } from "./reader";

const FIXTURE = fileURLToPath(new URL("../../../../test/fixtures/logs/social_interactionA-sdrm3-100ms.jsonl", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "sdrm3-log-limits-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

const refusal = async (p: Promise<unknown>): Promise<LogFormatError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof LogFormatError) return e;
    throw e;
  }
  throw new Error("expected a LogFormatError");
};

describe("streamed lines", () => {
  it("joins a line spread over many chunks once, keeps multi-byte characters split between chunks, strips CR", async () => {
    const long = "é€😀".repeat(5000);
    const path = join(dir, "chunks.txt");
    writeFileSync(path, `a\r\n${long}\n\nend`);
    // 7-byte chunks: every multi-byte character is cut somewhere
    expect(await collect(fileLines(path, 7))).toEqual([
      { line: 1, text: "a", terminated: true },
      { line: 2, text: long, terminated: true },
      { line: 3, text: "", terminated: true },
      { line: 4, text: "end", terminated: false },
    ]);
  });

  it("reads a 20 MB line whole (one line, its bytes intact)", async () => {
    const path = join(dir, "big-line.txt");
    const big = "x".repeat(20 * 1024 * 1024);
    writeFileSync(path, `${big}\nshort\n`);
    const lines = await collect(fileLines(path));
    expect(lines.map((l) => [l.line, l.text.length, l.terminated])).toEqual([
      [1, big.length, true],
      [2, 5, true],
    ]);
  });

  it("refuses a line over the limit as soon as it passes it, naming the line and the limit", async () => {
    const path = join(dir, "over.txt");
    writeFileSync(path, `short\n${"y".repeat(101)}\nafter\n`);
    const error = await refusal(collect(fileLines(path, 16, 100)));
    expect(error.line).toBe(2);
    expect(error.message).toBe("line 2: the line is longer than the limit of 100 bytes (the longest line a log may hold; docs/event-log.md, Limits)");
    expect(failureKind(error)).toBe("input");
    // exactly at the limit is accepted; an unterminated last line is limited too
    expect((await collect(fileLines(path, 16, 101))).map((l) => l.line)).toEqual([1, 2, 3]);
    writeFileSync(path, `short\n${"z".repeat(101)}`);
    expect((await refusal(collect(fileLines(path, 16, 100)))).line).toBe(2);
    expect((await refusal(collect(textLines(`short\n${"é".repeat(51)}\n`, 100)))).message).toMatch(/^line 2: the line is longer than the limit of 100 bytes/);
  });

  it("openLogFile applies the limit to the header too, naming the file", async () => {
    const error = await refusal(openLogFile(FIXTURE, { maxLineBytes: 1000 }));
    expect(error.message).toBe(`${FIXTURE}: line 1: the line is longer than the limit of 1000 bytes (the longest line a log may hold; docs/event-log.md, Limits)`);
  });

  it("the stated limit is 32 MiB", () => {
    expect(MAX_LOG_LINE_BYTES).toBe(33_554_432);
  });
});

describe("versions in the header", () => {
  it("a new log records the behaviour version; the committed fixture (recorded before the field) reads as behaviour 1", async () => {
    expect(BEHAVIOUR_VERSION).toBe(3);
    expect(IMPLEMENTED_BEHAVIOURS.has(BEHAVIOUR_VERSION)).toBe(true);
    const { header } = await openLogFile(FIXTURE);
    expect(header.behaviourVersion).toBeUndefined();
    expect(behaviourOf(header)).toBe(1);
    expect(() => checkBehaviour(header)).not.toThrow();
  });

  it("a replay refuses a behaviour version it does not implement, with a message naming both", async () => {
    const lines = readFileSync(FIXTURE, "utf8").split("\n");
    const future = lines[0]!.replace('"sdrm3Version":"0.1.0"', '"sdrm3Version":"9.0.0","behaviourVersion":4');
    expect(future).not.toBe(lines[0]);
    const log = await openLog(textLines([future, ...lines.slice(1)].join("\n")));
    expect(log.header.behaviourVersion).toBe(4);
    const policy = resolvePolicy(log.header.policy.name, log.header.policy.params);
    let error: unknown;
    try {
      kernelConfigFromHeader(log.header, policy);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LogFormatError);
    expect((error as LogFormatError).message).toBe(
      `line 1: the log was recorded with scheduling behaviour version 4 (by sdrm3 9.0.0); this sdrm3 ${SDRM3_VERSION} implements behaviour 1, 2, 3, so a replay would not reproduce its decisions: replay it with the sdrm3 that recorded it`,
    );
    // the same header with behaviour 1 is accepted
    expect(() => checkBehaviour({ ...log.header, behaviourVersion: 1 })).not.toThrow();
  });

  it("a behaviour version that is not a positive integer is a bad header", async () => {
    const lines = readFileSync(FIXTURE, "utf8").split("\n");
    const bad = lines[0]!.replace('"sdrm3Version":"0.1.0"', '"sdrm3Version":"0.1.0","behaviourVersion":1.5');
    const error = await refusal(openLog(textLines([bad, ...lines.slice(1)].join("\n"))));
    expect(error.message).toMatch(/^line 1: bad header: behaviourVersion: /);
  });

  it("the recorded sdrm3 version is the shared package's, kept equal to the root package's", () => {
    const version = (rel: string) => (JSON.parse(readFileSync(fileURLToPath(new URL(rel, import.meta.url)), "utf8")) as { version: string }).version;
    expect(SDRM3_VERSION).toBe(version("../../../package.json"));
    expect(version("../../../../package.json")).toBe(SDRM3_VERSION);
  });
});
