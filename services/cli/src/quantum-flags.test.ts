/**
 * `--quantum <d>` and `--block auto` (docs/live.md "Quantum blocks"): parsing, refusals (exit 2,
 * naming the flag), the spec check of the distributed roles, and quantum 0 = `--block 1` byte for
 * byte (run output and recorded log).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { logHeaderFor, resolveRunSpec } from "@sdrm3/shared/runtime";
import { AUTO_QUANTUM_MS, DISPATCH_DEFAULTS, describeBlockRule, parseBlockRule, parseQuantum } from "./flags";
import { checkAgainstSpec, resolvedOfSpec } from "./run-spec";
import { recordingRunner, sdrm3 } from "./testing";

const RUN = ["run", "--scenario", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "50ms"];
const COMPARE = ["compare", "--scenarios", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--policies", "sdrm3", "--duration", "50ms", "--jobs", "1"];

const XRBENCH = ["run", "--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "xrbench", "--duration", "50ms"];
const XRBENCH_REFUSAL = (flags: string, pronoun: string) =>
  `sdrm3: ${flags}: policy xrbench dispatches each frame as one whole-model job, so block sizes do not apply; leave ${pronoun} out\n`;

/** Exit 2, nothing on stdout, no stack trace; the message (stderr). */
const refused = async (...argv: string[]): Promise<string> => {
  const r = await sdrm3(...argv);
  expect(r.code, `exit code of ${argv.join(" ")}: ${r.err}`).toBe(2);
  expect(r.out).toBe("");
  expect(r.err).not.toMatch(/\n\s+at /);
  return r.err;
};

describe("parseQuantum", () => {
  it("takes µs, ms and s, and 0 for no quantum", () => {
    expect(parseQuantum("0.25ms")).toBe(0.25);
    expect(parseQuantum("250us")).toBe(0.25);
    expect(parseQuantum("250µs")).toBe(0.25);
    expect(parseQuantum(".5ms")).toBe(0.5);
    expect(parseQuantum("1s")).toBe(1000);
    expect(parseQuantum("0")).toBe(0);
    expect(parseQuantum("0ms")).toBe(0);
  });

  it.each(["0.25", "abc", "-1ms", "1.5s", "2m", "", "1e-3ms", "0.25 ms"])("refuses '%s', naming the flag", (text) => {
    expect(() => parseQuantum(text)).toThrow(`--quantum: expected a duration of at most 1s such as 0.25ms or 250us (0: blocks of --block layers), got '${text}'`);
  });
});

describe("parseBlockRule", () => {
  it("defaults: blocks of one layer, no quantum (DISPATCH_DEFAULTS)", () => {
    expect(DISPATCH_DEFAULTS).toEqual({ blockSize: 1, quantumMs: 0, queueDepth: 1, chainMs: 0 });
    expect(parseBlockRule(undefined, undefined)).toEqual({ blockSize: 1, quantumMs: 0 });
  });

  it("--block B, --quantum d, --block auto (with or without --quantum)", () => {
    expect(parseBlockRule("8", undefined)).toEqual({ blockSize: 8, quantumMs: 0 });
    expect(parseBlockRule("8", "0")).toEqual({ blockSize: 8, quantumMs: 0 });
    expect(parseBlockRule(undefined, "0")).toEqual({ blockSize: 1, quantumMs: 0 });
    expect(parseBlockRule(undefined, "1ms")).toEqual({ blockSize: 1, quantumMs: 1 });
    expect(parseBlockRule("auto", undefined)).toEqual({ blockSize: 1, quantumMs: AUTO_QUANTUM_MS });
    expect(parseBlockRule("auto", "0.5ms")).toEqual({ blockSize: 1, quantumMs: 0.5 });
  });

  it("refuses a quantum with a number of layers, and --block auto with quantum 0", () => {
    expect(() => parseBlockRule("4", "1ms")).toThrow("--quantum 1ms: not with --block 4 (a quantum sizes blocks by their latency, --block by layers); give one of them");
    expect(() => parseBlockRule("1", "0.25ms")).toThrow("not with --block 1");
    expect(() => parseBlockRule("auto", "0")).toThrow("--quantum 0: --block auto asks for quantum blocks");
    expect(() => parseBlockRule("automatic", undefined)).toThrow("--block: expected a positive integer of at most 512 (layers per block), got 'automatic'");
  });

  it("describeBlockRule", () => {
    expect(describeBlockRule(8, undefined)).toBe("block 8");
    expect(describeBlockRule(1, 0)).toBe("block 1");
    expect(describeBlockRule(1, 0.25)).toBe("quantum 0.25ms");
  });
});

describe("the CLI refuses bad quantum flags (exit 2, naming the flag)", () => {
  it.each([
    ["run --quantum 2s", [...RUN, "--quantum", "2s"], "sdrm3: --quantum: expected a duration of at most 1s such as 0.25ms or 250us (0: blocks of --block layers), got '2s'\n"],
    ["run --quantum x", [...RUN, "--quantum", "x"], "sdrm3: --quantum: expected a duration of at most 1s such as 0.25ms or 250us (0: blocks of --block layers), got 'x'\n"],
    ["run --block 4 --quantum 1ms", [...RUN, "--block", "4", "--quantum", "1ms"], "sdrm3: --quantum 1ms: not with --block 4 (a quantum sizes blocks by their latency, --block by layers); give one of them\n"],
    ["run --block auto --quantum 0", [...RUN, "--block", "auto", "--quantum", "0"], "sdrm3: --quantum 0: --block auto asks for quantum blocks; give a quantum above 0, or --block <layers> without --quantum\n"],
    ["run --block autox", [...RUN, "--block", "autox"], "sdrm3: --block: expected a positive integer of at most 512 (layers per block), got 'autox'\n"],
    ["compare --quantum -1ms", [...COMPARE, "--quantum", "-1ms"], "sdrm3: --quantum: expected a duration of at most 1s such as 0.25ms or 250us (0: blocks of --block layers), got '-1ms'\n"],
    // xrbench dispatches whole frames: a block flag would change nothing (the run was the same with it)
    ["run --policy xrbench --block 4", [...XRBENCH, "--block", "4"], XRBENCH_REFUSAL("--block", "it")],
    ["run --policy xrbench --quantum 1ms", [...XRBENCH, "--quantum", "1ms"], XRBENCH_REFUSAL("--quantum", "it")],
    ["run --policy xrbench --block auto", [...XRBENCH, "--block", "auto"], XRBENCH_REFUSAL("--block", "it")],
    ["run --policy xrbench --block auto --quantum 1ms", [...XRBENCH, "--block", "auto", "--quantum", "1ms"], XRBENCH_REFUSAL("--block and --quantum", "them")],
  ])("%s", async (_, argv, message) => {
    expect(await refused(...argv)).toBe(message);
  });
});

describe("quantum runs from the command line", () => {
  const dir = mkdtempSync(join(tmpdir(), "sdrm3-quantum-"));
  const run = recordingRunner(dir, [...RUN.slice(0, -1), "200ms"]);

  it("--quantum 0 is --block 1 and no flag at all, byte for byte (output and log, whose header has no quantumMs)", async () => {
    const plain = await run("plain");
    for (const flags of [["--quantum", "0"], ["--block", "1"], ["--block", "1", "--quantum", "0ms"]]) {
      const other = await run(flags.join(""), ...flags);
      expect(other.out).toBe(plain.out);
      expect(other.log).toBe(plain.log);
    }
    expect(JSON.parse(plain.log.split("\n")[0]!)).not.toHaveProperty("quantumMs");
  });

  it("--block auto is --quantum AUTO_QUANTUM_MS; the header records the quantum; blocks are longer than one layer", async () => {
    const auto = await run("auto", "--block", "auto");
    const q = await run("q", "--quantum", `${AUTO_QUANTUM_MS}ms`);
    expect(auto.out).toBe(q.out);
    expect(auto.log).toBe(q.log);
    const header = JSON.parse(auto.log.split("\n")[0]!) as { quantumMs: number; blockSize: number };
    expect([header.quantumMs, header.blockSize]).toEqual([AUTO_QUANTUM_MS, 1]);
    const blocks = auto.log
      .split("\n")
      .slice(1)
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { type: string; payload: { action?: string; layerCount?: number } })
      .filter((e) => e.type === "decision" && e.payload.action === "dispatch")
      .map((e) => e.payload.layerCount!);
    expect(blocks.length).toBeGreaterThan(0);
    expect(Math.max(...blocks)).toBeGreaterThan(1);
    // the recorded quantum run replays: every decision identical
    const replay = await sdrm3("replay", join(dir, "auto.jsonl"));
    expect(replay.code, replay.err).toBe(0);
    expect(replay.out).toContain(`quantum ${AUTO_QUANTUM_MS}ms`);
    expect(replay.out).toMatch(/decisions identical/);
  });
});

describe("the distributed roles check --block / --quantum against the run's spec", () => {
  const spec = (opts: { blockSize?: number; quantumMs?: number }) =>
    logHeaderFor({ ...resolveRunSpec({ scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100, ...opts }), run: "r1" });

  it("a quantum spec: the same quantum (or --block auto for the auto quantum) is accepted, another refused naming the flag", () => {
    const q = spec({ quantumMs: AUTO_QUANTUM_MS });
    expect(q.quantumMs).toBe(AUTO_QUANTUM_MS);
    expect(resolvedOfSpec(q).quantumMs).toBe(AUTO_QUANTUM_MS); // what the other roles run
    expect(() => checkAgainstSpec({ quantum: `${AUTO_QUANTUM_MS}ms` }, q, "r1")).not.toThrow();
    expect(() => checkAgainstSpec({ block: "auto" }, q, "r1")).not.toThrow();
    expect(() => checkAgainstSpec({}, q, "r1")).not.toThrow();
    expect(() => checkAgainstSpec({ quantum: "1ms" }, q, "r1")).toThrow(
      `--quantum 1ms: run r1's spec (published by its scheduler) says blocks of quantum ${AUTO_QUANTUM_MS}ms; leave the flag out to take the spec's`,
    );
    expect(() => checkAgainstSpec({ block: "1" }, q, "r1")).toThrow(`--block 1: run r1's spec (published by its scheduler) says blocks of quantum ${AUTO_QUANTUM_MS}ms`);
  });

  it("a block spec: a quantum is refused, the block size is checked as before", () => {
    const b = spec({ blockSize: 8 });
    expect(b).not.toHaveProperty("quantumMs");
    expect(resolvedOfSpec(b)).not.toHaveProperty("quantumMs");
    expect(() => checkAgainstSpec({ block: "8" }, b, "r1")).not.toThrow();
    expect(() => checkAgainstSpec({ block: "8", quantum: "0" }, b, "r1")).not.toThrow();
    expect(() => checkAgainstSpec({ block: "4" }, b, "r1")).toThrow("--block 4: run r1's spec (published by its scheduler) says block 8; leave the flag out to take the spec's");
    expect(() => checkAgainstSpec({ quantum: "0.5ms" }, b, "r1")).toThrow("--quantum 0.5ms: run r1's spec (published by its scheduler) says block 8");
  });
});
