/**
 * `--supernet on|off` on `sdrm3 run` and `sdrm3 compare` (docs/supernets.md): accuracy next to
 * UXCost in the human output and in --json, the compare column and CSV field, supernet on/off rows
 * through the pseudo-parameter `sdrm3[supernet=1]`, and bad input (exit 2).
 */
import { describe, expect, it } from "vitest";
import type { RunRecord } from "./compare-worker";
import { type Io, main } from "./main";

const cli = async (...argv: string[]) => {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await main(argv, io);
  return { code, out, err };
};

const RUN = ["run", "--scenario", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--duration", "2s"] as const;

describe("sdrm3 run --supernet", () => {
  it("on (sdrm3): --json reports accuracy < 1 per run and per model, supernet true, the parameter set", async () => {
    const r = await cli(...RUN, "--policy", "sdrm3", "--supernet", "on", "--json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.supernet).toBe(true);
    expect(json.summary.accuracy).toBeGreaterThan(0);
    expect(json.summary.accuracy).toBeLessThan(1);
    for (const m of json.models) expect(m).toHaveProperty("accuracy");
  });

  it("off (the default): accuracy 1; the human output shows it next to UXCost", async () => {
    const r = await cli(...RUN, "--policy", "sdrm3");
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    const ux = lines.findIndex((l) => l.startsWith("UXCost "));
    expect(lines[ux + 1]).toMatch(/^accuracy\s+: 1\.0000 {2}\(supernet off/);
    const on = await cli(...RUN, "--policy", "sdrm3", "--supernet", "on");
    expect(on.out).toMatch(/accuracy\s+: 0\.9\d{3} {2}\(mean relative accuracy of on-time frames over models, supernet variants; [1-9]\d* of \d+ frames ran a narrower variant\)/);
  });

  it("--param supernet=1 is the same switch", async () => {
    const a = await cli(...RUN, "--policy", "sdrm3", "--supernet", "on", "--json");
    const b = await cli(...RUN, "--policy", "sdrm3", "--param", "supernet=1", "--json");
    expect(b.out).toBe(a.out);
  });

  it("a baseline with --supernet on runs the full model: accuracy 1", async () => {
    const r = await cli(...RUN.slice(0, -2), "--duration", "500ms", "--policy", "edf", "--supernet", "on", "--json"); // a flag is given once
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).summary.accuracy).toBe(1);
  });

  it("bad input: --supernet maybe, or a contradicting --param, exits 2 with one line", async () => {
    const bad = await cli(...RUN, "--policy", "sdrm3", "--supernet", "maybe");
    expect(bad.code).toBe(2);
    expect(bad.out).toBe("");
    expect(bad.err).toBe("sdrm3: --supernet: expected on or off, got 'maybe'\n");
    const contra = await cli(...RUN, "--policy", "sdrm3", "--supernet", "on", "--param", "supernet=0");
    expect(contra.code).toBe(2);
    expect(contra.err).toMatch(/supernet on contradicts the sdrm3 parameter supernet=0/);
    const compare = await cli("compare", "--scenarios", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--supernet", "maybe");
    expect(compare.code).toBe(2);
    expect(compare.err).toBe("sdrm3: --supernet: expected on or off, got 'maybe'\n");
  });
});

describe("sdrm3 compare with supernets", () => {
  const ARGS = ["compare", "--scenarios", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--duration", "2s", "--jobs", "2"];

  it("sdrm3,sdrm3[supernet=1]: supernet off and on rows, with an accuracy column", async () => {
    const r = await cli(...ARGS, "--policies", "sdrm3,sdrm3[supernet=1]");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/policy\s+│?\s*UXCost\s+│?\s*accuracy/);
    const rows = r.out.split("\n").filter((l) => /^│ sdrm3/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(/^│ sdrm3\[supernet=1\] │ [\d.]+ +│ 0\.9\d\d /);
    const json = await cli(...ARGS, "--policies", "sdrm3,sdrm3[supernet=1]", "--json");
    const records = JSON.parse(json.out) as RunRecord[];
    expect(records.map((x) => [x.policy, x.params.supernet, x.supernet])).toEqual([
      ["sdrm3", 0, false],
      ["sdrm3[supernet=1]", 1, true],
    ]);
    expect(records[0]!.summary.accuracy).toBe(1);
    expect(records[1]!.summary.accuracy).toBeLessThan(1);
  });

  it("--supernet on sets it for every sdrm3 entry without its own; --param sdrm3.supernet as well is an error", async () => {
    const r = await cli(...ARGS, "--policies", "sdrm3,sdrm3[supernet=0],edf", "--supernet", "on", "--json");
    expect(r.code).toBe(0);
    const records = JSON.parse(r.out) as RunRecord[];
    expect(records.map((x) => [x.policy, x.params.supernet, x.supernet])).toEqual([
      ["sdrm3", 1, true],
      ["sdrm3[supernet=0]", 0, false],
      ["edf", undefined, false],
    ]);
    const both = await cli(...ARGS, "--policies", "sdrm3", "--supernet", "on", "--param", "sdrm3.supernet=1");
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/give one of them/);
  });
});
