/**
 * The `xrbench` mode reproduces the official XRBench runtime: the two golden runs of the
 * unmodified tool (test/fixtures/xrbench-golden, from shared/data/xrbench PROVENANCE) — every
 * per-model Real-time, Energy and User-Experience score and the Overall Score within 1e-4, and the
 * per-frame schedule (accelerator, injection, dispatch, deadline, completion within 1e-3 ms).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findScenario, loadBuiltinDataset, resolveHardware, resolveModelCosts } from "@sdrm3/shared/data";
import { xrbenchPolicy } from "@sdrm3/shared/policies";
import { runScenario } from "@sdrm3/shared/runtime";

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../fixtures/xrbench-golden/${name}`, import.meta.url)), "utf8");

const rows = (csv: string) =>
  csv
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.split(","));

const cases = [
  { scenario: "VR_gaming", hardware: "Single_4K/WS", file: "VR_gaming__Single_4K__WS__styleA" },
  { scenario: "AR_gaming", hardware: "Dual_4K/WS_OS", file: "AR_gaming__Dual_4K__WS_OS__styleJ" },
];

describe.each(cases)("xrbench golden run $scenario on $hardware", ({ scenario, hardware, file }) => {
  const run = async () => {
    const ds = loadBuiltinDataset();
    const sc = findScenario(ds, scenario);
    const hw = resolveHardware(ds, hardware);
    return runScenario({
      scenario: sc,
      hardware: hw,
      costs: resolveModelCosts(ds, sc, hw),
      policy: xrbenchPolicy,
      durationMs: 700,
      seed: 1,
    });
  };

  it("reproduces every per-model score and the overall score within 1e-4", async () => {
    const result = await run();
    const golden = rows(fixture(`summary_${file}.csv`));
    const overall = golden.find((r) => r[0] === "Overall Score")!;
    const perModel = golden.filter((r) => r[0] !== "Overall Score");
    const logged = result.models.filter((m) => m.onTime + m.late + m.dropped > 0).sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(logged.map((m) => m.name)).toEqual(perModel.map((r) => r[0]));
    for (const [name, rt, en, ux] of perModel) {
      const m = logged.find((x) => x.name === name)!;
      expect(m.rtScore, `${name} RT`).toBeCloseTo(Number(rt), 4);
      expect(Math.abs(m.rtScore - Number(rt))).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(m.energyScore - Number(en))).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(m.uxScore - Number(ux))).toBeLessThanOrEqual(1e-4);
    }
    expect(Math.abs(result.summary.xrbenchScore - Number(overall[1]))).toBeLessThanOrEqual(1e-4);
  });

  it("reproduces the per-frame schedule within 1e-3 ms", async () => {
    const result = await run();
    const golden = rows(fixture(`schedule_${file}.csv`));
    const completed = result.frames
      .filter((f) => f.outcome === "onTime" || f.outcome === "late")
      .sort((a, b) => a.acc! - b.acc! || a.completionAt! - b.completionAt!);
    expect(completed.length).toBe(golden.length);
    golden.forEach(([acc, model, frame, inject, dispatch, deadline, completion, , energy], i) => {
      const ours = completed[i]!;
      const where = `row ${i + 1} (${model}:${frame})`;
      expect(`${ours.acc} ${ours.model}:${ours.frame}`, where).toBe(`${acc} ${model}:${frame}`);
      expect(Math.abs(ours.injectAt - Number(inject)), `${where} injection`).toBeLessThanOrEqual(1e-3);
      expect(Math.abs(ours.dispatchAt! - Number(dispatch)), `${where} dispatch`).toBeLessThanOrEqual(1e-3);
      expect(Math.abs(ours.deadline - Number(deadline)), `${where} deadline`).toBeLessThanOrEqual(1e-3);
      expect(Math.abs(ours.completionAt! - Number(completion)), `${where} completion`).toBeLessThanOrEqual(1e-3);
      expect(Math.abs(ours.energyMJ - Number(energy)), `${where} energy`).toBeLessThanOrEqual(1e-3);
    });
  });
});
