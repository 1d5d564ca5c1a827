/**
 * `--queue-depth <d>` (docs/architecture.md "Dispatch queues"): parsing and refusals (exit 2,
 * naming the flag), depth 1 = no flag byte for byte (output and log, whose header has no
 * queueDepth), a depth-2 run recorded and replayed, and the spec check of the distributed roles;
 * `--chain <d>` (bounded chains) likewise.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { logHeaderFor, resolveRunSpec } from "@sdrm3/shared/runtime";
import { DISPATCH_DEFAULTS, LIVE_DISPATCH_DEFAULTS, chainOptions, dispatchOptions, lookaheadOptions, parseChain, parseLookahead, parseQueueDepth, queueDepthOptions } from "./flags";
import { checkAgainstSpec, resolvedOfSpec } from "./run-spec";
import { recordingRunner, sdrm3 } from "./testing";

const RUN = ["run", "--scenario", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "200ms"];

describe("--queue-depth", () => {
  it("parses 1 to 16 (default 1, no run option at 1) and refuses anything else", () => {
    expect(DISPATCH_DEFAULTS.queueDepth).toBe(1);
    expect(parseQueueDepth(undefined)).toBe(1);
    expect(parseQueueDepth("4")).toBe(4);
    expect(queueDepthOptions("1")).toEqual({});
    expect(queueDepthOptions(undefined)).toEqual({});
    expect(queueDepthOptions("2")).toEqual({ queueDepth: 2 });
    for (const text of ["0", "17", "1.5", "-1", "x", ""]) {
      expect(() => parseQueueDepth(text)).toThrow(`--queue-depth: expected an integer in [1, 16] (blocks an accelerator may hold committed; 1: no queue), got '${text}'`);
    }
  });

  it("the CLI refuses a bad depth with exit 2, naming the flag", async () => {
    const r = await sdrm3(...RUN, "--queue-depth", "0");
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toBe("sdrm3: --queue-depth: expected an integer in [1, 16] (blocks an accelerator may hold committed; 1: no queue), got '0'\n");
  });

  it("depth 1 is no flag, byte for byte; depth 2 is recorded in the header and replays", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sdrm3-queue-cli-"));
    const run = recordingRunner(dir, RUN);
    const plain = await run("plain");
    const one = await run("one", "--queue-depth", "1");
    expect(one.out).toBe(plain.out);
    expect(one.log).toBe(plain.log);
    expect(JSON.parse(plain.log.split("\n")[0]!)).not.toHaveProperty("queueDepth");
    const two = await run("two", "--queue-depth", "2");
    expect(JSON.parse(two.log.split("\n")[0]!)).toHaveProperty("queueDepth", 2);
    expect(two.out).not.toBe(plain.out);
    const replay = await sdrm3("replay", join(dir, "two.jsonl"));
    expect(replay.code, replay.err).toBe(0);
    expect(replay.out).toMatch(/decisions identical/);
  });

  it("the distributed roles check --queue-depth against the run's spec", () => {
    const spec = (queueDepth?: number) =>
      logHeaderFor({ ...resolveRunSpec({ scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100, ...(queueDepth === undefined ? {} : { queueDepth }) }), run: "r1" });
    const two = spec(2);
    expect(resolvedOfSpec(two).queueDepth).toBe(2); // what the other roles run
    expect(() => checkAgainstSpec({ queueDepth: "2" }, two, "r1")).not.toThrow();
    expect(() => checkAgainstSpec({}, two, "r1")).not.toThrow();
    expect(() => checkAgainstSpec({ queueDepth: "1" }, two, "r1")).toThrow("--queue-depth 1: run r1's spec (published by its scheduler) says queue depth 2; leave the flag out to take the spec's");
    const one = spec();
    expect(one).not.toHaveProperty("queueDepth");
    expect(() => checkAgainstSpec({ queueDepth: "1" }, one, "r1")).not.toThrow();
    expect(() => checkAgainstSpec({ queueDepth: "4" }, one, "r1")).toThrow("--queue-depth 4: run r1's spec (published by its scheduler) says queue depth 1");
  });
});

describe("--chain", () => {
  it("parses a duration (default 0: off, no run option) and needs --queue-depth 2 or more", () => {
    expect(DISPATCH_DEFAULTS.chainMs).toBe(0);
    expect(parseChain(undefined)).toBe(0);
    expect(parseChain("0")).toBe(0);
    expect(parseChain("0.5ms")).toBe(0.5);
    expect(parseChain("250us")).toBe(0.25);
    expect(chainOptions(undefined, undefined)).toEqual({});
    expect(chainOptions("0", "2")).toEqual({});
    expect(chainOptions("1ms", "2")).toEqual({ chainMs: 1 });
    expect(() => chainOptions("1ms", undefined)).toThrow("--chain 1ms: a chain is committed into a dispatch queue; give --queue-depth 2 or more");
    for (const text of ["2s", "1", "x", "-1ms"]) expect(() => parseChain(text)).toThrow(`--chain: expected a duration of at most 1s such as 0.5ms or 500us`);
  });

  it("the CLI refuses a chain without a queue with exit 2; a chain run records chainMs and replays", async () => {
    const bad = await sdrm3(...RUN, "--chain", "0.5ms");
    expect(bad.code).toBe(2);
    expect(bad.err).toBe("sdrm3: --chain 0.5ms: a chain is committed into a dispatch queue; give --queue-depth 2 or more\n");
    const dir = mkdtempSync(join(tmpdir(), "sdrm3-chain-cli-"));
    const log = join(dir, "chain.jsonl");
    const r = await sdrm3(...RUN, "--queue-depth", "2", "--chain", "0.5ms", "--json", "--record", log);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(log, "utf8").split("\n")[0]!)).toMatchObject({ queueDepth: 2, chainMs: 0.5 });
    const replay = await sdrm3("replay", log);
    expect(replay.code, replay.err).toBe(0);
    expect(replay.out).toMatch(/decisions identical/);
  });

  it("the distributed roles check --chain against the run's spec", () => {
    const spec = logHeaderFor({ ...resolveRunSpec({ scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100, queueDepth: 2, chainMs: 0.5 }), run: "r1" });
    expect(resolvedOfSpec(spec).chainMs).toBe(0.5);
    expect(() => checkAgainstSpec({ chain: "500us" }, spec, "r1")).not.toThrow();
    expect(() => checkAgainstSpec({ chain: "1ms" }, spec, "r1")).toThrow("--chain 1ms: run r1's spec (published by its scheduler) says chain budget 0.5ms; leave the flag out to take the spec's");
    expect(() => checkAgainstSpec({ chain: "0" }, spec, "r1")).toThrow("says chain budget 0.5ms");
  });
});

describe("dispatch defaults of a live run (LIVE_DISPATCH_DEFAULTS)", () => {
  const live = LIVE_DISPATCH_DEFAULTS;
  /** The run options the live defaults stand for (a chain or look-ahead only when set). */
  const liveOptions = {
    blockSize: live.blockSize,
    ...(live.quantumMs > 0 ? { quantumMs: live.quantumMs } : {}),
    ...(live.queueDepth > 1 ? { queueDepth: live.queueDepth } : {}),
    ...(live.chainMs > 0 ? { chainMs: live.chainMs } : {}),
  };
  it("a live run without dispatch flags takes the live defaults; a virtual one keeps blocks of one layer and no queue", () => {
    expect(live.quantumMs).toBeGreaterThan(0);
    expect(dispatchOptions({}, false)).toEqual({ blockSize: 1 });
    expect(dispatchOptions({}, true)).toEqual(liveOptions);
  });

  it("a flag given wins over its live default: --block sizes blocks by layers, --queue-depth 1 turns chain and look-ahead off", () => {
    const { quantumMs: _q, ...withoutQuantum } = liveOptions;
    expect(dispatchOptions({ block: "4" }, true)).toEqual({ ...withoutQuantum, blockSize: 4 });
    expect(dispatchOptions({ quantum: "0.5ms" }, true)).toMatchObject({ quantumMs: 0.5 });
    expect(dispatchOptions({ queueDepth: "1" }, true)).toEqual({ blockSize: 1, quantumMs: live.quantumMs });
    expect(dispatchOptions({ queueDepth: "2", lookahead: "0.25ms" }, true)).toMatchObject({ queueDepth: 2, lookaheadMs: 0.25 });
    expect(dispatchOptions({ queueDepth: "2", chain: "0" }, true)).not.toHaveProperty("chainMs");
    expect(() => dispatchOptions({ queueDepth: "1", chain: "1ms" }, true)).toThrow("--chain 1ms: a chain is committed into a dispatch queue; give --queue-depth 2 or more");
  });

  it("a live run reports the settings it ran with, in --json and the human report", async () => {
    const json = await sdrm3(...RUN, "--clock", "live", "--speed", "10", "--json");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out).live.dispatch).toEqual(live);
    const human = await sdrm3(...RUN, "--clock", "live", "--speed", "10", "--block", "2", "--queue-depth", "1");
    expect(human.code).toBe(0);
    expect(human.out).toContain("dispatch              : block 2, queue depth 1\n");
  });
});

describe("--lookahead", () => {
  it("parses a duration of at most 1 s (0 allowed) and needs a queue; refuses anything else (exit 2, naming the flag)", async () => {
    expect(parseLookahead("1ms")).toBe(1);
    expect(parseLookahead("250us")).toBe(0.25);
    expect(parseLookahead("0")).toBe(0);
    expect(lookaheadOptions(undefined, "2")).toEqual({});
    expect(lookaheadOptions("0.5ms", "2")).toEqual({ lookaheadMs: 0.5 });
    for (const text of ["2s", "1", "x", "-1ms"]) expect(() => parseLookahead(text)).toThrow(`--lookahead: expected a duration of at most 1s such as 1ms or 500us`);
    expect(() => lookaheadOptions("1ms", undefined)).toThrow("--lookahead 1ms: a look-ahead is into a dispatch queue; give --queue-depth 2 or more");
    const r = await sdrm3(...RUN, "--lookahead", "1ms");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--lookahead 1ms: a look-ahead is into a dispatch queue");
  });

  it("a distributed role given --lookahead is held to the spec's", () => {
    const spec = logHeaderFor({ ...resolveRunSpec({ scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100, queueDepth: 2, lookaheadMs: 0.5 }), run: "r1" });
    expect(() => checkAgainstSpec({ lookahead: "0.5ms" }, spec, "r1")).not.toThrow();
    expect(() => checkAgainstSpec({ lookahead: "1ms" }, spec, "r1")).toThrow("--lookahead 1ms: run r1's spec (published by its scheduler) says look-ahead 0.5ms; leave the flag out to take the spec's");
    expect(resolvedOfSpec(spec).lookaheadMs).toBe(0.5);
  });
});
