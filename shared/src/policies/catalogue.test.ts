/**
 * The catalogue's typed parameters and the capabilities every policy declares (issue 15.5, 17.1).
 */
import { Either, Schema } from "effect";
import { describe, expect, it } from "vitest";
import { MAX_BLOCK_LAYERS } from "./capabilities";
import { POLICIES, PolicyInputError, kindOf, paramsSchema, resolvePolicy, tuningOf, withRunSwitches } from "./catalogue";

/** Parameters that turn something on or off: whichever policy has one declares it a switch. */
const SWITCH_NAMES = ["drop", "guard", "tune", "tuneBlock", "contend", "affordable", "critical", "affordableUrgent", "blockGuard", "supernet"];

describe("typed parameters", () => {
  it("the switches are exactly the on/off parameters: sdrm3's drop, guard, tune, tuneBlock, contend, affordable, critical, affordableUrgent, blockGuard, supernet", () => {
    const switches = [...POLICIES.values()].flatMap((f) => f.params.filter((p) => kindOf(p) === "switch").map((p) => `${f.name}.${p.name}`));
    expect(switches.filter((s) => s.startsWith("sdrm3."))).toEqual(["sdrm3.drop", "sdrm3.guard", "sdrm3.tuneBlock", "sdrm3.tune", "sdrm3.contend", "sdrm3.affordable", "sdrm3.critical", "sdrm3.affordableUrgent", "sdrm3.blockGuard", "sdrm3.supernet"]);
    for (const f of POLICIES.values()) {
      for (const p of f.params) {
        // a parameter named like a switch (e.g. a baseline's drop) must be declared with switchParam
        if (SWITCH_NAMES.includes(p.name)) expect(kindOf(p), `${f.name}.${p.name}`).toBe("switch");
        if (kindOf(p) === "switch") expect([p.min, p.max, p.default === 0 || p.default === 1], `${f.name}.${p.name}`).toEqual([0, 1, true]);
      }
    }
  });

  it("the integers: sdrm3 block, tuneObjective, overload and cascade, veltair maxBlock; block sizes share one limit", () => {
    const integers = [...POLICIES.values()].flatMap((f) => f.params.filter((p) => kindOf(p) === "integer").map((p) => `${f.name}.${p.name}=${p.min}..${p.max}`));
    expect(integers).toEqual([`sdrm3.block=0..${MAX_BLOCK_LAYERS}`, "sdrm3.tuneObjective=0..1", "sdrm3.overload=0..2", "sdrm3.cascade=0..2", `veltair.maxBlock=1..${MAX_BLOCK_LAYERS}`]);
  });

  it("every default is a value of its own schema", () => {
    for (const f of POLICIES.values()) {
      const defaults = Object.fromEntries(f.params.map((p) => [p.name, p.default]));
      expect(Either.isRight(Schema.decodeUnknownEither(paramsSchema(f))(defaults)), f.name).toBe(true);
    }
  });

  it("refuses a value of the wrong kind or range, naming policy, parameter, kind and value", () => {
    const message = (name: string, params: Record<string, number>) => {
      try {
        resolvePolicy(name, params);
      } catch (e) {
        expect(e).toBeInstanceOf(PolicyInputError);
        return (e as Error).message;
      }
      return "accepted";
    };
    expect(message("sdrm3", { drop: 0.5 })).toBe("parameter sdrm3.drop: expected a switch, 0 (off) or 1 (on), got 0.5");
    expect(message("sdrm3", { tune: -1 })).toBe("parameter sdrm3.tune: expected a switch, 0 (off) or 1 (on), got -1");
    expect(message("sdrm3", { block: 2.5 })).toBe("parameter sdrm3.block: expected an integer in [0, 512], got 2.5");
    expect(message("sdrm3", { block: 513 })).toBe("parameter sdrm3.block: expected an integer in [0, 512], got 513");
    expect(message("sdrm3", { alpha: Number.NaN })).toBe("parameter sdrm3.alpha: expected a number in [0, 100], got NaN");
    expect(message("sdrm3", { alpha: 101 })).toBe("parameter sdrm3.alpha: expected a number in [0, 100], got 101");
    expect(message("idle", { alpha: 1 })).toBe("policy 'idle' has no parameter 'alpha'; it takes none");
    // every baseline takes the shared admission rule's drop switch (issue 14), and only that
    expect(message("fcfs", { alpha: 1 })).toBe("policy 'fcfs' has no parameter 'alpha'; valid: drop");
    expect(message("fcfs", { drop: 0.5 })).toBe("parameter fcfs.drop: expected a switch, 0 (off) or 1 (on), got 0.5");
    expect(message("sdrm3", { alpha: 2.5, drop: 0, block: 4 })).toBe("accepted");
  });
});

describe("capabilities", () => {
  it("xrbench: its runtime's semantics and 700 ms, not live, not in 'all'; every other policy exact, 10 s, live", () => {
    const caps = new Map([...POLICIES].map(([n, f]) => [n, f.capabilities]));
    expect(caps.get("xrbench")).toMatchObject({ semantics: "xrbench", defaultDurationMs: 700, live: { can: false }, notInAll: true });
    for (const [name, c] of caps) {
      if (name === "xrbench") continue;
      expect(c, name).toMatchObject({ semantics: "exact", defaultDurationMs: 10_000, live: { can: true }, notInAll: false });
    }
    expect(resolvePolicy("xrbench").capabilities).toBe(POLICIES.get("xrbench")!.capabilities);
  });

  it("a switch or tunable parameter a policy declares is one of its own parameters, of kind switch", () => {
    for (const f of POLICIES.values()) {
      const spec = (name: string) => f.params.find((p) => p.name === name);
      const { supernet, tune } = f.capabilities.switches;
      for (const s of [supernet, tune?.on]) if (s !== undefined) expect(kindOf(spec(s)!), `${f.name}.${s}`).toBe("switch");
      for (const p of [tune?.every, tune?.lookahead, ...f.capabilities.tunable]) if (p !== undefined) expect(spec(p), `${f.name}.${p}`).toBeDefined();
    }
  });

  it("run switches are read through the capabilities: tuning from the tune switch, supernet from the supernet switch", () => {
    expect(tuningOf(resolvePolicy("sdrm3"))).toBeUndefined();
    expect(tuningOf(resolvePolicy("sdrm3", { tune: 1, tuneEvery: 250, lookahead: 900 }))).toEqual({ everyMs: 250, lookaheadMs: 900 });
    expect(tuningOf(resolvePolicy("edf"))).toBeUndefined();
    expect(withRunSwitches("sdrm3", {}, { tune: true, supernet: true })).toEqual({ supernet: true, params: { tune: 1, supernet: 1 } });
    expect(withRunSwitches("sdrm3", { supernet: 1 }, {})).toEqual({ supernet: true, params: { supernet: 1 } });
    expect(withRunSwitches("edf", {}, { supernet: true })).toEqual({ supernet: true, params: {} });
    expect(() => withRunSwitches("sdrm3", { tune: 0 }, { tune: true })).toThrow("tune on contradicts the sdrm3 parameter tune=0; give one of them");
    expect(() => withRunSwitches("edf", {}, { tune: true })).toThrow("--tune: the edf policy does not tune itself; policies that do: sdrm3");
  });
});
