/**
 * Every kind of bad input the data module must refuse, each from a fixture file under
 * test/fixtures/bad-data/ (hardware specs are strings, so those cases need no file). Each test
 * checks the error class, where it points and its full message.
 */
import { describe, expect, it } from "vitest";
import {
  extendDataset,
  findScenario,
  loadBuiltinDataset,
  loadCostCsv,
  loadHardwareFile,
  loadModelFile,
  loadScenarioFile,
  resolveHardware,
  resolveModelCosts,
  UnknownNameError,
} from "./index";
import { parseJson } from "./decode";
import { dataErrorOf, fixture } from "./testing";

const dataset = loadBuiltinDataset();

const KNOWN_MODELS =
  "ASR_EM_24L, AS_ED_TCN, DE_midas_v21_small, DR_RGBd_200, ES_RITNet, GE_FBNet_C, HT_hand_graph_cnn_half, " +
  "KD_res8_narrow, OD_D2go_FasterRCNN, PD_Plane_RCNN_Quarter, SS_HRViT_b1";

describe("bad scenario files", () => {
  it("missing field: an entry without target_fps/fps", () => {
    const file = fixture("scenario-missing-fps.json");
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect(error._tag).toBe("DataError");
    expect(error.message).toBe(
      `${file}: models[1].target_fps: expected a positive number (field target_fps or fps), got nothing (the field is missing)`,
    );
  });

  it("negative FPS", () => {
    const file = fixture("scenarios-negative-fps.json");
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect({ file: error.file, path: error.path, expected: error.expected, actual: error.actual }).toEqual({
      file,
      path: "scenarios[0].models[2].target_fps",
      expected: "a positive number",
      actual: "-30",
    });
    expect(error.message).toBe(`${file}: scenarios[0].models[2].target_fps: expected a positive number, got -30`);
  });

  it("unknown model: lists the known models", () => {
    const file = fixture("scenario-unknown-model.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: models[1].model: expected a known model (${KNOWN_MODELS}), got "GE_ResNet50"`,
    );
  });

  it("unknown cascade parent", () => {
    const file = fixture("scenario-unknown-parent.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: models[1].dependency[0]: expected a model of the scenario (ES_RITNet, GE_FBNet_C), got "ES_RITnet"`,
    );
  });

  it("dependency cycle", () => {
    const file = fixture("scenario-cycle.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: models[1].dependency: expected cascade dependencies without a cycle, ` +
        "got the cycle ES_RITNet -> GE_FBNet_C -> ES_RITNet",
    );
  });

  it("self-dependency", () => {
    const file = fixture("scenario-self-dependency.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: models[1].dependency[1]: expected another model of the scenario (a model cannot depend on itself), ` +
        'got "GE_FBNet_C"',
    );
  });

  it("probability outside (0, 1]: every bad value is reported", () => {
    const file = fixture("scenario-bad-probability.json");
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect(error.path).toBe("models[0].probability");
    expect(error.more).toEqual([{ path: "models[1].probability", expected: "a probability in (0, 1]", actual: "1.5" }]);
    expect(error.message).toBe(
      `${file}: models[0].probability: expected a probability in (0, 1], got 0 (and 1 more)\n` +
        `  ${file}: models[1].probability: expected a probability in (0, 1], got 1.5`,
    );
  });

  it("duplicate model names in a scenario", () => {
    const file = fixture("scenario-duplicate-model.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: scenarios[0].models[2].name_in_file: expected a name not used by another model of the scenario ` +
        '(models[0] has it), got "ES_RITNet"',
    );
  });

  it("malformed JSON: names the file, line and column", () => {
    const file = fixture("malformed.json");
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect(error.path).toBe("line 5, column 3");
    expect(error.message).toBe(`${file}: line 5, column 3: expected valid JSON (a value), got ']'`);
  });

  it("a key given twice in one object (JSON.parse kept the last: fps 30, quietly): names the line and column of the second", () => {
    const file = fixture("scenario-duplicate-key.json");
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect(error.message).toBe(`${file}: line 5, column 52: expected each key once in an object, got "fps" a second time`);
    // the same key in two objects, or a key's name as a string value, is no duplicate; an escaped key is the key it spells
    expect(parseJson('{"a":{"a":"a","b":["a","a"]},"b":"a,\\"a\\":1"}', "f.json")).toEqual({ a: { a: "a", b: ["a", "a"] }, b: 'a,"a":1' });
    expect(() => parseJson('{"fps":1,"f\\u0070s":2}', "f.json")).toThrow('f.json: line 1, column 10: expected each key once in an object, got "fps" a second time');
  });

  it("a file that does not exist", () => {
    const file = fixture("does-not-exist.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: expected a readable file, got ENOENT`,
    );
  });
});

describe("bad hardware files", () => {
  it("0 sub-accelerators", () => {
    const file = fixture("hardware-no-slots.json");
    expect(dataErrorOf(() => loadHardwareFile(file)).message).toBe(
      `${file}: sub_accelerators: expected at least one sub-accelerator, got []`,
    );
  });

  it("non-positive num_pes", () => {
    const file = fixture("hardware-nonpositive-pes.json");
    expect(dataErrorOf(() => loadHardwareFile(file)).message).toBe(
      `${file}: configs[0].sub_accelerators[1].num_pes: expected a positive integer, got 0`,
    );
  });

  it("missing field: num_pes", () => {
    const file = fixture("hardware-missing-num-pes.json");
    expect(dataErrorOf(() => loadHardwareFile(file)).message).toBe(
      `${file}: configs[0].sub_accelerators[1].num_pes: expected a positive integer, got nothing (the field is missing)`,
    );
  });
});

describe("bad model files", () => {
  it("missing field: a layer without K", () => {
    const file = fixture("model-missing-k.json");
    expect(dataErrorOf(() => loadModelFile(file)).message).toBe(
      `${file}: layers[0].K: expected a positive integer, got nothing (the field is missing)`,
    );
  });
});

describe("bad cost CSVs", () => {
  it("a row for a layer beyond the model's layers", () => {
    const file = fixture("costs-layer-out-of-range.csv");
    expect(dataErrorOf(() => loadCostCsv(file, dataset)).message).toBe(
      `${file}: line 2, column layer_idx: expected a layer index of ES_RITNet (0..41), got "42"`,
    );
  });

  it("a row for an unknown model: lists the known models", () => {
    const file = fixture("costs-unknown-model.csv");
    expect(dataErrorOf(() => loadCostCsv(file, dataset)).message).toBe(
      `${file}: line 3, column model: expected a known model (${KNOWN_MODELS}), got "ES_RITNet2"`,
    );
  });

  it("a non-numeric cost cell", () => {
    const file = fixture("costs-non-numeric.csv");
    expect(dataErrorOf(() => loadCostCsv(file, dataset)).message).toBe(
      `${file}: line 3, column WS_2048pe_bw128_energy_nJ: expected a non-negative number, got "abc"`,
    );
  });

  it("a negative cost cell", () => {
    const file = fixture("costs-negative.csv");
    expect(dataErrorOf(() => loadCostCsv(file, dataset)).message).toBe(
      `${file}: line 3, column WS_2048pe_bw128_cycles: expected a non-negative number, got -5`,
    );
  });

  it("two rows for one layer", () => {
    const file = fixture("costs-duplicate-row.csv");
    expect(dataErrorOf(() => loadCostCsv(file, dataset)).message).toBe(
      `${file}: line 4: expected one row per layer (line 2 already has ES_RITNet layer 0), got a second row`,
    );
  });

  it("a row with too few cells", () => {
    const file = fixture("costs-short-row.csv");
    expect(dataErrorOf(() => loadCostCsv(file, dataset)).message).toBe(
      `${file}: line 2: expected 5 cells (as many as header columns), got 4`,
    );
  });

  it("a cycles column without its energy column", () => {
    const file = fixture("costs-unpaired-column.csv");
    expect(dataErrorOf(() => loadCostCsv(file, dataset)).message).toBe(
      `${file}: line 1, column OS_2048pe_bw128_cycles: expected a matching OS_2048pe_bw128_energy_nJ column, got none`,
    );
  });

  it("an unknown (misspelt) column", () => {
    const file = fixture("costs-unknown-column.csv");
    const error = dataErrorOf(() => loadCostCsv(file, dataset));
    expect(error.path).toBe("line 1, column WS_2048pe_bw128_cycle");
    expect(error.actual).toBe('"WS_2048pe_bw128_cycle"');
  });

  it("a layer_name that does not match the model's layer", () => {
    const file = fixture("costs-wrong-layer-name.csv");
    expect(dataErrorOf(() => loadCostCsv(file, dataset)).message).toBe(
      `${file}: line 2, column layer_name: expected "conv1" (the name of layer 0 of ES_RITNet), got "conv2"`,
    );
  });

  it("a layer with no cost on an accelerator class the hardware uses (found by resolveModelCosts)", () => {
    const extended = extendDataset(dataset, {
      models: [fixture("partial-costs-model.json")],
      costs: [fixture("partial-costs.csv")],
      scenarios: [fixture("partial-costs-scenario.json")],
    });
    const scenario = findScenario(extended, "tiny");
    // The CSV has WS_2048pe_bw128 only: fine on WS_WS, not on WS_OS.
    expect(resolveModelCosts(extended, scenario, resolveHardware(extended, "Dual_4K/WS_WS")).get("Tiny")?.cycles).toEqual([
      Float64Array.of(12000, 8000),
      Float64Array.of(12000, 8000),
    ]);
    const error = dataErrorOf(() => resolveModelCosts(extended, scenario, resolveHardware(extended, "Dual_4K/WS_OS")));
    expect(error.message).toBe(
      "<cost table>: Tiny (model TinyNet) layers[0] (conv1): expected a cost on acc1 (class OS_2048pe_bw128) " +
        "of Dual_4K/WS_OS, got none",
    );
  });
});

describe("bad hardware specs", () => {
  it("wrong number of dataflows", () => {
    expect(dataErrorOf(() => resolveHardware(dataset, "Dual_4K/WS")).message).toBe(
      `hardware 'Dual_4K/WS': dataflows: expected 2 dataflow(s) joined by '_' (one per sub-accelerator of Dual_4K), got 1 ("WS")`,
    );
    expect(dataErrorOf(() => resolveHardware(dataset, "Single_4K/WS_OS")).path).toBe("dataflows");
  });

  it("unknown dataflow", () => {
    expect(dataErrorOf(() => resolveHardware(dataset, "Quad_8K/WS_OS_XS_OS")).message).toBe(
      `hardware 'Quad_8K/WS_OS_XS_OS': dataflows[2]: expected WS, OS or RS, got "XS"`,
    );
  });

  it("no dataflow part", () => {
    expect(dataErrorOf(() => resolveHardware(dataset, "Dual_4K")).message).toBe(
      `hardware 'Dual_4K': expected <config>/<DF>_<DF>… with one dataflow per sub-accelerator (e.g. Dual_4K/WS_OS), got "Dual_4K"`,
    );
  });

  it("an accelerator class the cost table does not have: names the slot and the available classes", () => {
    const error = dataErrorOf(() => resolveHardware(dataset, "Quad_2K/WS_WS_WS_WS"));
    expect(error.path).toBe("acc0 (Acc0_512, 512 PEs, NoC 128)");
    expect(error.actual).toBe("WS_512pe_bw128");
    expect(error.expected).toMatch(/^a cost class of the cost table \(OS_1024pe_bw128, RS_1024pe_bw128, .*WS_8192pe_bw256\)$/);
  });

  it("unknown config: an UnknownNameError listing the valid ones", () => {
    let caught: unknown;
    try {
      resolveHardware(dataset, "Dual_5K/WS_OS");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UnknownNameError);
    expect((caught as UnknownNameError).message).toMatch(
      /^unknown hardware config 'Dual_5K'; valid: Single_4K, Single_8K, Dual_4K, Dual_4K_BigLittle, .*, Single_2K$/,
    );
  });
});
