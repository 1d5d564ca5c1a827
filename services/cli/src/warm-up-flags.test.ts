/**
 * `--warm-up <d>` (run, serve scheduler; docs/live.md "Warm-up"): live runs only, 0 to 60 s of
 * simulated time, refused otherwise with exit 2 naming the flag; the run's output reports it.
 */
import { describe, expect, it } from "vitest";
import { LIVE_WARM_UP_MS } from "@sdrm3/shared/runtime";
import { parseWarmUp } from "./flags";
import { sdrm3 } from "./testing";

const LIVE = ["run", "--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "100ms", "--clock", "live", "--speed", "10"];

describe("--warm-up", () => {
  it("parses 0 and durations up to 60 s, only with --clock live", () => {
    expect(parseWarmUp(undefined, true)).toBeUndefined();
    expect(parseWarmUp("0", true)).toBe(0);
    expect(parseWarmUp("0ms", true)).toBe(0);
    expect(parseWarmUp("250ms", true)).toBe(250);
    expect(parseWarmUp("1m", true)).toBe(60_000);
    expect(() => parseWarmUp("1s", false)).toThrow("--warm-up: only with --clock live");
    for (const text of ["61s", "2m"]) expect(() => parseWarmUp(text, true)).toThrow(`--warm-up: expected a duration of at most 1m (of simulated time), got '${text}'`);
    // no space in or around it, as every duration flag
    for (const text of [" 0", "1 s"]) expect(() => parseWarmUp(text, true)).toThrow("--warm-up: expected a duration such as");
    for (const text of ["abc", "-1s", "1", "1e3ms", ""]) expect(() => parseWarmUp(text, true)).toThrow("--warm-up: expected a duration such as");
  });

  it("the CLI refuses a bad warm-up with exit 2 before running, naming the flag", async () => {
    const virtual = await sdrm3(...LIVE.slice(0, 9), "--warm-up", "1s");
    expect(virtual.code).toBe(2);
    expect(virtual.err).toBe("sdrm3: --warm-up: only with --clock live (a virtual-time run has no clock to warm up for)\n");
    const long = await sdrm3(...LIVE, "--warm-up", "2m");
    expect(long.code).toBe(2);
    expect(long.out).toBe("");
    expect(long.err).toContain("--warm-up: expected a duration of at most 1m");
    // serve scheduler: refused before it connects (no server listens on port 1)
    const serve = await sdrm3("serve", "scheduler", "--nats", "nats://127.0.0.1:1", "--run", "r1", ...LIVE.slice(1, 9), "--warm-up", "1s");
    expect(serve.code).toBe(2);
    expect(serve.err).toBe("sdrm3: --warm-up: only with --clock live (a virtual-time run has no clock to warm up for)\n");
  });

  it("a live run reports its warm-up (the default, or none with 0)", async () => {
    const warmed = await sdrm3(...LIVE, "--json");
    expect(warmed.code, warmed.err).toBe(0);
    const w = JSON.parse(warmed.out).live.warmUp;
    expect(w.simulatedMs).toBe(LIVE_WARM_UP_MS);
    expect(w.wallMs).toBeGreaterThan(0);
    const none = await sdrm3(...LIVE, "--warm-up", "0", "--json");
    expect(none.code, none.err).toBe(0);
    expect(JSON.parse(none.out).live.warmUp).toEqual({ simulatedMs: 0, wallMs: 0 });
    const human = await sdrm3(...LIVE, "--warm-up", "200ms");
    expect(human.code, human.err).toBe(0);
    expect(human.out).toMatch(/warm-up +: 200 ms of the spec in virtual time before the clock started, \d+ ms of wall time/);
  });
});
