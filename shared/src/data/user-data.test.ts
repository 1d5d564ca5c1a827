/**
 * User data: models, scenarios (both formats), hardware configs (both formats) and cost CSVs that
 * extend or override the built-in dataset; name lookups; the CSV and JSON-syntax helpers.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCsv } from "./csv";
import { findJsonSyntaxError } from "./json-syntax";
import {
  DataError,
  extendDataset,
  findHardware,
  findModel,
  findScenario,
  listHardware,
  loadBuiltinDataset,
  loadCostCsv,
  loadHardwareFile,
  loadModelFile,
  loadScenarioFile,
  resolveHardware,
  resolveModelCosts,
  UnknownNameError,
  withCosts,
  withModel,
  withScenario,
} from "./index";

const dataset = loadBuiltinDataset();
const dir = mkdtempSync(join(tmpdir(), "sdrm3-data-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, content: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
};

const tinyModel = {
  name: "TinyNet",
  layers: [
    { K: 16, C: 3, Y: 34, X: 34, R: 3, S: 3 },
    { name: "head", type: "FC", N: 2, K: 10, C: 16, Y: 8, X: 8, R: 2, S: 2, stride: 2 },
  ],
};

const COST_HEADER = "model,layer_idx,layer_name,WS_2048pe_bw128_cycles,WS_2048pe_bw128_energy_nJ,OS_2048pe_bw128_cycles,OS_2048pe_bw128_energy_nJ";

describe("loadModelFile", () => {
  it("fills defaults and computes MACs", () => {
    const model = loadModelFile(write("tiny.json", tinyModel));
    expect(model).toEqual({
      name: "TinyNet",
      task: "",
      layers: [
        { index: 0, name: "layer0", type: "CONV", N: 1, K: 16, C: 3, Y: 34, X: 34, R: 3, S: 3, stride: 1, macs: 16 * 3 * 9 * 32 * 32 },
        { index: 1, name: "head", type: "FC", N: 2, K: 10, C: 16, Y: 8, X: 8, R: 2, S: 2, stride: 2, macs: 2 * 10 * 16 * 4 * 4 * 4 },
      ],
    });
  });

  it("reads an XRBench model file as is", () => {
    const builtin = findModel(dataset, "KD_res8_narrow");
    const path = write("kd.json", { name: "KD_copy", task: builtin.task, layers: builtin.layers });
    expect(loadModelFile(path).layers).toEqual(builtin.layers);
  });

  it("refuses a derived_macs that disagrees and an index out of place", () => {
    const badMacs = write("bad-macs.json", { name: "M", layers: [{ K: 1, C: 1, Y: 3, X: 3, R: 3, S: 3, derived_macs: 10 }] });
    expect(() => loadModelFile(badMacs)).toThrow(`${badMacs}: layers[0].derived_macs: expected N*K*C*R*S*Y'*X' = 9, got 10`);
    const badIndex = write("bad-index.json", { name: "M", layers: [{ index: 1, K: 1, C: 1, Y: 3, X: 3, R: 3, S: 3 }] });
    expect(() => loadModelFile(badIndex)).toThrow(`${badIndex}: layers[0].index: expected 0 (the layer's position in the list), got 1`);
  });
});

describe("loadScenarioFile", () => {
  it("reads a single scenario with short field names and defaults", () => {
    const path = write("single.json", {
      name: "glasses",
      models: [
        { name: "KD_res8_narrow", fps: 3 },
        { name: "ASR", model: "ASR_EM_24L", fps: 3, dependency: ["KD_res8_narrow"], probability: 0.4 },
      ],
    });
    expect(loadScenarioFile(path, dataset)).toEqual([
      {
        name: "glasses",
        description: `scenario (${path})`,
        models: [
          { name: "KD_res8_narrow", model: "KD_res8_narrow", fps: 3, dependsOn: [], probability: 1 },
          { name: "ASR", model: "ASR_EM_24L", fps: 3, dependsOn: ["KD_res8_narrow"], probability: 0.4 },
        ],
      },
    ]);
  });

  it("reads the scenarios.json format, probability_in_file null meaning 1", () => {
    const path = write("list.json", {
      scenarios: [
        {
          name: "a",
          description: "first",
          models: [{ name_in_file: "ES_RITNet", model: "ES_RITNet", target_fps: 60, probability_in_file: null }],
        },
        { name: "b", models: [{ name_in_file: "AS_ED_TCN", target_fps: 30, probability_in_file: 0.5 }] },
      ],
    });
    const scenarios = loadScenarioFile(path, dataset);
    expect(scenarios.map((s) => [s.name, s.description, s.models[0]?.probability])).toEqual([
      ["a", "first", 1],
      ["b", `scenario (${path})`, 0.5],
    ]);
  });

  it("refuses two scenarios of the same name in one file, and a non-object", () => {
    const twice = write("twice.json", {
      scenarios: [
        { name: "a", models: [{ name: "ES_RITNet", fps: 60 }] },
        { name: "a", models: [{ name: "ES_RITNet", fps: 30 }] },
      ],
    });
    expect(() => loadScenarioFile(twice, dataset)).toThrow(
      `${twice}: scenarios[1].name: expected a name not used by another scenario of the file (scenarios[0] has it), got "a"`,
    );
    const list = write("array.json", [1, 2]);
    expect(() => loadScenarioFile(list, dataset)).toThrow(
      `${list}: (root): expected an object (one scenario, or { scenarios: [...] }), got [1,2]`,
    );
  });
});

describe("loadHardwareFile", () => {
  it("reads a single config, defaulting group, index and names", () => {
    const path = write("soc.json", {
      name: "Tri_6K",
      sub_accelerators: [
        { num_pes: 2048, top_noc_bw: 128 },
        { name: "big", num_pes: 3072, top_noc_bw: 128 },
        { num_pes: 1024, top_noc_bw: 128 },
      ],
    });
    expect(loadHardwareFile(path)).toEqual([
      {
        name: "Tri_6K",
        group: "user",
        slots: [
          { index: 0, name: "Acc0", numPes: 2048, nocBw: 128 },
          { index: 1, name: "big", numPes: 3072, nocBw: 128 },
          { index: 2, name: "Acc2", numPes: 1024, nocBw: 128 },
        ],
      },
    ]);
  });

  it("reads the hardware.json format and refuses indices out of order", () => {
    const path = write("hw-list.json", {
      configs: [{ name: "X", group: "dual", sub_accelerators: [{ index: 1, name: "a", num_pes: 1024, top_noc_bw: 128 }] }],
    });
    expect(() => loadHardwareFile(path)).toThrow(
      `${path}: configs[0].sub_accelerators[0].index: expected 0 (indices must be 0, 1, … in list order), got 1`,
    );
  });
});

describe("extending the dataset", () => {
  const modelPath = write("tiny-model.json", tinyModel);
  const costPath = write(
    "tiny-costs.csv",
    [COST_HEADER, "TinyNet,0,layer0,100,2000,110,1900", "TinyNet,1,head,50,1000,60,900", ""].join("\r\n"),
  );
  const hardwarePath = write("tiny-hw.json", {
    name: "Tiny_4K",
    sub_accelerators: [
      { name: "ws", num_pes: 2048, top_noc_bw: 128 },
      { name: "os", num_pes: 2048, top_noc_bw: 128 },
    ],
  });
  const scenarioPath = write("tiny-scenario.json", {
    name: "tiny_cascade",
    models: [
      { name: "ES_RITNet", fps: 60 },
      { name: "Tiny", model: "TinyNet", fps: 30, dependency: ["ES_RITNet"], probability: 0.5 },
    ],
  });

  it("loads models, hardware, costs and scenarios in dependency order, leaving the original untouched", () => {
    const extended = extendDataset(dataset, {
      scenarios: [scenarioPath],
      costs: [costPath],
      hardware: [hardwarePath],
      models: [modelPath],
    });
    expect(extended.models.size).toBe(12);
    expect(dataset.models.size).toBe(11);
    expect(dataset.scenarios.has("tiny_cascade")).toBe(false);
    const hardware = resolveHardware(extended, "Tiny_4K/WS_OS");
    expect(hardware.accelerators.map((a) => a.costClass)).toEqual(["WS_2048pe_bw128", "OS_2048pe_bw128"]);
    expect(listHardware(extended)).toEqual(listHardware(dataset)); // a "user" group is not swept
    const costs = resolveModelCosts(extended, findScenario(extended, "tiny_cascade"), hardware);
    expect(costs.get("Tiny")).toEqual({
      model: "TinyNet",
      layerCount: 2,
      cycles: [Float64Array.of(100, 50), Float64Array.of(110, 60)],
      latencyMs: [Float64Array.of(100 / 1e6, 50 / 1e6), Float64Array.of(110 / 1e6, 60 / 1e6)],
      energyMJ: [Float64Array.of(2000 / 1e6, 1000 / 1e6), Float64Array.of(1900 / 1e6, 900 / 1e6)],
    });
    expect(costs.get("ES_RITNet")?.cycles[0]?.[0]).toBe(295776);
  });

  it("a cost CSV overrides built-in rows per (model, layer, class) and keeps the rest", () => {
    const path = write("override.csv", `model,layer_idx,WS_2048pe_bw128_cycles,WS_2048pe_bw128_energy_nJ\nES_RITNet,1,"7",8e3\n`);
    const extended = withCosts(dataset, loadCostCsv(path, dataset));
    expect(extended.costs.get("ES_RITNet", 1, "WS_2048pe_bw128")).toEqual({ cycles: 7, energyNJ: 8000 });
    expect(extended.costs.get("ES_RITNet", 0, "WS_2048pe_bw128")).toEqual(dataset.costs.get("ES_RITNet", 0, "WS_2048pe_bw128"));
    expect(extended.costs.get("ES_RITNet", 1, "OS_2048pe_bw128")).toEqual(dataset.costs.get("ES_RITNet", 1, "OS_2048pe_bw128"));
    expect(dataset.costs.get("ES_RITNet", 1, "WS_2048pe_bw128")?.cycles).toBe(133120);
    expect(extended.costs.classes).toEqual(dataset.costs.classes);
  });

  it("a new cost class becomes usable by hardware", () => {
    const path = write("new-class.csv", [
      "model,layer_idx,WS_512pe_bw128_cycles,WS_512pe_bw128_energy_nJ",
      ...findModel(dataset, "KD_res8_narrow").layers.map((layer) => `KD_res8_narrow,${layer.index},1000,1`),
    ].join("\n"));
    const extended = withCosts(dataset, loadCostCsv(path, dataset));
    expect(extended.costs.classes).toContain("WS_512pe_bw128");
    const hardware = resolveHardware(extended, "Quad_2K/WS_WS_WS_WS");
    const scenario = withScenario(extended, {
      name: "kd_only",
      description: "KD alone",
      models: [{ name: "KD", model: "KD_res8_narrow", fps: 3, dependsOn: [], probability: 1 }],
    });
    const costs = resolveModelCosts(scenario, findScenario(scenario, "kd_only"), hardware);
    expect(costs.get("KD")?.latencyMs[3]?.[7]).toBe(0.001);
  });

  it("replacing a model with different layers drops its old costs", () => {
    const replaced = withModel(dataset, { ...findModel(dataset, "AS_ED_TCN"), layers: findModel(dataset, "KD_res8_narrow").layers });
    expect(replaced.costs.layerCount("AS_ED_TCN")).toBe(0);
    expect(replaced.costs.get("AS_ED_TCN", 0, "WS_2048pe_bw128")).toBeUndefined();
    expect(replaced.costs.layerCount("ES_RITNet")).toBe(42);
    const same = withModel(dataset, { ...findModel(dataset, "AS_ED_TCN"), task: "renamed task" });
    expect(same.costs.get("AS_ED_TCN", 0, "WS_2048pe_bw128")).toEqual(dataset.costs.get("AS_ED_TCN", 0, "WS_2048pe_bw128"));
  });

  it("withScenario checks scenarios built in code", () => {
    expect(() =>
      withScenario(dataset, {
        name: "loop",
        description: "",
        models: [{ name: "ES_RITNet", model: "ES_RITNet", fps: 60, dependsOn: ["ES_RITNet"], probability: 1 }],
      }),
    ).toThrow(DataError);
    expect(() =>
      withScenario(dataset, {
        name: "ghost",
        description: "",
        models: [{ name: "G", model: "Ghost", fps: 60, dependsOn: [], probability: 1 }],
      }),
    ).toThrow(/^scenario 'ghost': models\[0\]\.model: expected a known model \(ASR_EM_24L, .*\), got "Ghost"$/);
  });
});

describe("name lookups", () => {
  it("throw an UnknownNameError listing the valid names", () => {
    expect(() => findScenario(dataset, "VR_gamin")).toThrow(
      "unknown scenario 'VR_gamin'; valid: AR_Assistant, AR_gaming, VR_gaming, outdoor_activity_A, outdoor_activity_B, " +
        "social_interactionA, social_interactionB, VR_gaming_100p, VR_gaming_25p, VR_gaming_50p, VR_gaming_75p",
    );
    expect(() => findHardware(dataset, "Dual_3K")).toThrow(UnknownNameError);
    expect(() => findModel(dataset, "ResNet")).toThrow(/^unknown model 'ResNet'; valid: /);
    expect(findHardware(dataset, "Quad_8K").slots).toHaveLength(4);
  });
});

describe("parseCsv", () => {
  it("handles quotes, CRLF, blank lines and keeps line numbers", () => {
    expect(parseCsv('a,"b,1",c\r\n\r\n"x ""y""",,"multi\nline"\n3,4,5', "t.csv")).toEqual([
      { line: 1, cells: ["a", "b,1", "c"] },
      { line: 3, cells: ['x "y"', "", "multi\nline"] },
      { line: 5, cells: ["3", "4", "5"] },
    ]);
    expect(parseCsv("a,b\n\n1,2\n", "t.csv")).toEqual([
      { line: 1, cells: ["a", "b"] },
      { line: 3, cells: ["1", "2"] },
    ]);
    expect(() => parseCsv('a,"b\n', "t.csv")).toThrow('t.csv: line 1: expected a closing quote ("), got the end of the file');
  });
});

describe("findJsonSyntaxError", () => {
  it("points at the first error and says what was expected", () => {
    expect(findJsonSyntaxError('{"a": 1}')).toBeUndefined();
    expect(findJsonSyntaxError('{"a": 1,}')).toEqual({ offset: 8, expected: "a property name in double quotes", actual: "'}'" });
    expect(findJsonSyntaxError('{"a" 1}')).toEqual({ offset: 5, expected: "':' after the property name", actual: "'1'" });
    expect(findJsonSyntaxError("[1 2]")).toEqual({ offset: 3, expected: "',' or ']' after the array element", actual: "'2'" });
    expect(findJsonSyntaxError('{"a": tru}')).toEqual({ offset: 6, expected: "a value after ':'", actual: "'t'" });
    expect(findJsonSyntaxError('{"a": "x')).toEqual({ offset: 8, expected: "a closing '\"'", actual: "the end of the file" });
    expect(findJsonSyntaxError("")).toEqual({ offset: 0, expected: "a JSON value", actual: "the end of the file" });
    expect(findJsonSyntaxError("{} {}")).toEqual({
      offset: 3,
      expected: "the end of the file (only one top-level value)",
      actual: "'{'",
    });
    expect(findJsonSyntaxError("[-]")?.expected).toBe("a number");
    expect(findJsonSyntaxError('["\\x"]')?.offset).toBe(3);
  });
});
