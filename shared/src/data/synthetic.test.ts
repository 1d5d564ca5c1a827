/**
 * The synthetic scenario and hardware generators: determinism (same seed → same scenario, another
 * seed → another), names that are subject tokens, MAESTRO costs for every model on every
 * accelerator, file forms that the loaders read back unchanged, and refusals of bad options.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isValidToken } from "../contracts/subjects";
import { DATAFLOWS } from "../domain/types";
import { loadBuiltinDataset, withHardwareConfig, withScenario } from "./dataset";
import { loadHardwareFile, resolveHardware } from "./hardware";
import { resolveModelCosts } from "./model-costs";
import { loadScenarioFile } from "./scenarios";
import { CASCADE_PROBABILITIES, generateHardware, generateScenario, hardwareJson, scenarioJson } from "./synthetic";

const ds = loadBuiltinDataset();
const dir = mkdtempSync(join(tmpdir(), "sdrm3-synthetic-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const writeJson = (name: string, value: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
};

describe("generateScenario", () => {
  it("is deterministic: the same options give the same scenario, another seed another one", () => {
    const a = generateScenario(ds, { models: 30, seed: 7, cascades: 0.2 });
    const b = generateScenario(ds, { models: 30, seed: 7, cascades: 0.2 });
    const c = generateScenario(ds, { models: 30, seed: 8, cascades: 0.2 });
    expect(b).toEqual(a);
    expect(c.models.map((m) => `${m.model}@${m.fps}`)).not.toEqual(a.models.map((m) => `${m.model}@${m.fps}`));
    expect(a.name).toBe("synthetic_30_s7");
    expect(c.name).toBe("synthetic_30_s8");
  });

  it("draws model i independently of N: 31 models extend the 30", () => {
    const a = generateScenario(ds, { models: 30, seed: 3, cascades: 0.3, name: "x" });
    const b = generateScenario(ds, { models: 31, seed: 3, cascades: 0.3, name: "x" });
    expect(b.models.slice(0, 30).map((m) => ({ ...m, name: m.name.replace(/_\d+$/, "") }))).toEqual(
      a.models.map((m) => ({ ...m, name: m.name.replace(/_\d+$/, "") })),
    );
  });

  it("names every model with a unique subject token; rates from the list; models from the XRBench set", () => {
    const s = generateScenario(ds, { models: 200, seed: 11 });
    expect(s.models).toHaveLength(200);
    expect(new Set(s.models.map((m) => m.name)).size).toBe(200);
    for (const m of s.models) {
      expect(isValidToken(m.name), m.name).toBe(true);
      expect([15, 30, 45, 60]).toContain(m.fps);
      expect(ds.models.has(m.model)).toBe(true);
      expect(m.dependsOn).toEqual([]);
      expect(m.probability).toBe(1);
    }
    expect(isValidToken(s.name)).toBe(true);
    // 200 draws over 11 models and 4 rates: every model and every rate appears
    expect(new Set(s.models.map((m) => m.model)).size).toBe(ds.models.size);
    expect(new Set(s.models.map((m) => m.fps)).size).toBe(4);
    expect(s.models[0]!.name).toMatch(/_000$/);
  });

  it("an integer FPS range and a model pool", () => {
    const s = generateScenario(ds, { models: 100, seed: 2, fps: { min: 10, max: 20 }, pool: ["ES_RITNet", "GE_FBNet_C"] });
    for (const m of s.models) {
      expect(Number.isInteger(m.fps) && m.fps >= 10 && m.fps <= 20).toBe(true);
      expect(["ES_RITNet", "GE_FBNet_C"]).toContain(m.model);
    }
    expect(new Set(s.models.map((m) => m.fps)).size).toBeGreaterThan(5);
  });

  it("cascades: about the asked share, one root parent of the same scenario, its rate, a listed trigger probability", () => {
    const s = generateScenario(ds, { models: 300, seed: 5, cascades: 0.4 });
    const byName = new Map(s.models.map((m) => [m.name, m]));
    const children = s.models.filter((m) => m.dependsOn.length > 0);
    expect(children.length).toBeGreaterThan(0.3 * 299);
    expect(children.length).toBeLessThan(0.5 * 299);
    for (const child of children) {
      expect(child.dependsOn).toHaveLength(1);
      const parent = byName.get(child.dependsOn[0]!)!;
      expect(parent).toBeDefined();
      expect(parent.dependsOn).toEqual([]);
      expect(s.models.indexOf(parent)).toBeLessThan(s.models.indexOf(child));
      expect(child.fps).toBe(parent.fps);
      expect(CASCADE_PROBABILITIES).toContain(child.probability);
    }
    // the dataset's own checks (known models, parents in the scenario, no cycles) accept it
    expect(() => withScenario(ds, s)).not.toThrow();
  });

  it("round-trips through the scenario-file format", () => {
    const s = generateScenario(ds, { models: 30, seed: 7, cascades: 0.25 });
    const [loaded] = loadScenarioFile(writeJson("s.json", scenarioJson(s)), ds);
    expect(loaded).toEqual(s);
  });

  it("refuses bad options with a DataError naming the option", () => {
    expect(() => generateScenario(ds, { models: 0, seed: 1 })).toThrow(/synthetic: models: expected an integer in \[1, 1000\], got 0/);
    expect(() => generateScenario(ds, { models: 2.5, seed: 1 })).toThrow(/models: expected an integer/);
    expect(() => generateScenario(ds, { models: 3, seed: -1 })).toThrow(/seed: expected an integer/);
    expect(() => generateScenario(ds, { models: 3, seed: 1, cascades: 1.5 })).toThrow(/cascades: expected a share in \[0, 1\], got 1.5/);
    expect(() => generateScenario(ds, { models: 3, seed: 1, fps: { values: [] } })).toThrow(/fps: expected at least one frame rate/);
    expect(() => generateScenario(ds, { models: 3, seed: 1, fps: { values: [30, -1] } })).toThrow(/fps\[1\]: expected a positive number, got -1/);
    expect(() => generateScenario(ds, { models: 3, seed: 1, fps: { min: 60, max: 15 } })).toThrow(/fps: expected an integer range/);
    expect(() => generateScenario(ds, { models: 3, seed: 1, pool: ["NoSuchNet"] })).toThrow(/unknown model 'NoSuchNet'; valid: /);
    expect(() => generateScenario(ds, { models: 3, seed: 1, name: "a.b" })).toThrow(/name: expected 1–64 letters/);
  });
});

describe("generateHardware", () => {
  it("cycles dataflow every slot and the PE/NoC class every three, covering every cost class once in the first 21", () => {
    const { config, spec } = generateHardware(ds, { accelerators: 64 });
    expect(config.name).toBe("Synthetic_64");
    expect(config.slots).toHaveLength(64);
    const classes = config.slots.map((s, i) => `${DATAFLOWS[i % 3]}_${s.numPes}pe_bw${s.nocBw}`);
    expect(new Set(classes.slice(0, 21))).toEqual(new Set(ds.costs.classes));
    expect(classes.slice(21, 42)).toEqual(classes.slice(0, 21));
    expect(classes.slice(0, 4)).toEqual(["WS_1024pe_bw128", "OS_1024pe_bw128", "RS_1024pe_bw128", "WS_2048pe_bw128"]);
    expect(spec).toBe(`Synthetic_64/${classes.map((c) => c.slice(0, 2)).join("_")}`);
    expect(generateHardware(ds, { accelerators: 64 })).toEqual({ config, spec });
  });

  it("every model of a synthetic scenario has MAESTRO costs on every accelerator, through the file forms", () => {
    const hw = generateHardware(ds, { accelerators: 64 });
    const scenario = generateScenario(ds, { models: 44, seed: 1, pool: [...ds.models.keys()] });
    const configs = loadHardwareFile(writeJson("h.json", hardwareJson(hw.config)));
    expect(configs).toEqual([hw.config]);
    const extended = withHardwareConfig(ds, ...configs);
    const hardware = resolveHardware(extended, hw.spec);
    expect(hardware.accelerators.map((a) => a.id)).toEqual(Array.from({ length: 64 }, (_, i) => `acc${i}`));
    for (const a of hardware.accelerators) expect(isValidToken(a.id)).toBe(true);
    const costs = resolveModelCosts(extended, scenario, hardware);
    expect(new Set(scenario.models.map((m) => m.model)).size).toBe(ds.models.size);
    for (const m of scenario.models) {
      const c = costs.get(m.name)!;
      expect(c.latencyMs).toHaveLength(64);
      for (const perAcc of c.latencyMs) for (const ms of perAcc) expect(Number.isFinite(ms) && ms >= 0).toBe(true);
    }
  });

  it("a subset of classes and a name", () => {
    const { config, spec } = generateHardware(ds, { accelerators: 5, classes: ["OS_2048pe_bw256", "WS_2048pe_bw256"], name: "Pair" });
    expect(spec).toBe("Pair/WS_OS_WS_OS_WS");
    expect(config.slots.map((s) => s.numPes)).toEqual([2048, 2048, 2048, 2048, 2048]);
  });

  it("refuses bad options with a DataError naming the option", () => {
    expect(() => generateHardware(ds, { accelerators: 0 })).toThrow(/synthetic: accelerators: expected an integer in \[1, 256\], got 0/);
    expect(() => generateHardware(ds, { accelerators: 2, classes: ["WS_999pe_bw1"] })).toThrow(/classes\[0\]: expected a cost class of the cost table/);
    expect(() => generateHardware(ds, { accelerators: 2, name: "a b" })).toThrow(/name: expected 1–64 letters/);
  });
});
