/** restrictToAccelerators: the run on part of its hardware (serve scheduler --elastic); the run duration's bounds. */
import { describe, expect, it } from "vitest";
import { MAX_DURATION_MS, kernelConfigFor, restrictToAccelerators } from "./setup";
import { resolveRunSpec } from "./spec";

describe("restrictToAccelerators", () => {
  const opts = resolveRunSpec({ scenario: "AR_gaming", hardware: "Quad_8K/WS_OS_WS_OS", policy: "sdrm3", durationMs: 100, seed: 1, supernet: true });

  it("keeps the named accelerators in hardware order, with their cost rows (variants too)", () => {
    const r = restrictToAccelerators(opts, ["acc3", "acc1"]);
    expect(r.hardware.name).toBe("Quad_8K/WS_OS_WS_OS[acc1,acc3]");
    expect(r.hardware.accelerators.map((a) => a.id)).toEqual(["acc1", "acc3"]);
    for (const [name, c] of r.costs) {
      const full = opts.costs.get(name)!;
      expect(c.latencyMs).toEqual([full.latencyMs[1], full.latencyMs[3]]);
      expect(c.energyMJ).toEqual([full.energyMJ[1], full.energyMJ[3]]);
      expect(c.cycles).toEqual([full.cycles[1], full.cycles[3]]);
    }
    for (const [name, vs] of r.variants!) expect(vs[1]!.costs.latencyMs).toEqual([opts.variants!.get(name)![1]!.costs.latencyMs[1], opts.variants!.get(name)![1]!.costs.latencyMs[3]]);
    expect(restrictToAccelerators(opts, ["acc0", "acc1", "acc2", "acc3"])).toBe(opts);
  });

  it("refuses an empty or unknown subset, naming it", () => {
    expect(() => restrictToAccelerators(opts, [])).toThrow("cannot run Quad_8K/WS_OS_WS_OS on accelerators []: none (has acc0, acc1, acc2, acc3)");
    expect(() => restrictToAccelerators(opts, ["acc0", "acc9"])).toThrow("unknown acc9");
  });
});

describe("run duration", () => {
  const opts = resolveRunSpec({ scenario: "AR_gaming", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100, seed: 1 });

  it("a library run is held to what the CLI takes: finite, positive, at most MAX_DURATION_MS (10 minutes)", () => {
    expect(MAX_DURATION_MS).toBe(600_000);
    expect(kernelConfigFor({ ...opts, durationMs: MAX_DURATION_MS }, "r").durationMs).toBe(MAX_DURATION_MS);
    for (const bad of [MAX_DURATION_MS + 1, Number.POSITIVE_INFINITY, Number.NaN, 0, -5]) {
      expect(() => kernelConfigFor({ ...opts, durationMs: bad }, "r")).toThrow(`run duration: expected a number of ms in (0, 600000], got ${bad}`);
    }
  });
});
