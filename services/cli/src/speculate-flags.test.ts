/**
 * `--speculate <n>` (run, serve scheduler; runtime/speculation.ts): parsing and refusals (exit 2,
 * naming the flag), live runs refused, and a run with speculation on the in-memory bus gives the
 * output and log bytes of one without.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_SPECULATION_DEPTH } from "@sdrm3/shared/runtime";
import { parseSpeculate } from "./flags";
import { recordingRunner, sdrm3 } from "./testing";

const RUN = ["run", "--scenario", "AR_Assistant", "--hardware", "Quad_8K/WS_OS_WS_OS", "--policy", "sdrm3", "--duration", "300ms", "--quantum", "4ms"];
const dir = mkdtempSync(join(tmpdir(), "sdrm3-speculate-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("--speculate", () => {
  it("takes an integer in [0, MAX_SPECULATION_DEPTH], in virtual time only", () => {
    expect(parseSpeculate(undefined, false)).toBeUndefined();
    expect(parseSpeculate("0", false)).toBe(0);
    expect(parseSpeculate("32", false)).toBe(32);
    expect(parseSpeculate(String(MAX_SPECULATION_DEPTH), false)).toBe(MAX_SPECULATION_DEPTH);
    for (const text of [String(MAX_SPECULATION_DEPTH + 1), "-1", "1.5", "x", "", " 4", "1e2", "99999"]) {
      expect(() => parseSpeculate(text, false)).toThrow(`--speculate: expected an integer in [0, ${MAX_SPECULATION_DEPTH}] (block replies predicted and not yet confirmed at most; 0: none), got '${text}'`);
    }
    expect(() => parseSpeculate("4", true)).toThrow("--speculate: only in virtual time");
  });

  it("the CLI refuses a bad value and a live run with exit 2, naming the flag", async () => {
    const bad = await sdrm3(...RUN, "--speculate", "many");
    expect(bad.code).toBe(2);
    expect(bad.out).toBe("");
    expect(bad.err).toBe(`sdrm3: --speculate: expected an integer in [0, ${MAX_SPECULATION_DEPTH}] (block replies predicted and not yet confirmed at most; 0: none), got 'many'\n`);
    const live = await sdrm3(...RUN, "--clock", "live", "--speculate", "4");
    expect(live.code).toBe(2);
    expect(live.err).toMatch(/^sdrm3: --speculate: only in virtual time/);
  });

  it("a run with speculation prints and records what one without does, byte for byte", async () => {
    const run = recordingRunner(dir, RUN);
    const plain = await run("plain");
    expect(await run("none", "--speculate", "0")).toEqual(plain);
    expect(await run("speculated", "--speculate", "16")).toEqual(plain);
  });
});
