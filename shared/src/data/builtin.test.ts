/**
 * The built-in XRBench dataset: contents, cost totals against model_costs_maestro.csv, hardware
 * resolution, and every usage scenario on every canonical hardware.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  builtinDataDir,
  findScenario,
  listHardware,
  loadBuiltinDataset,
  resolveHardware,
  resolveModelCosts,
} from "./index";

const dataset = loadBuiltinDataset();

const USAGE_SCENARIOS = [
  "AR_Assistant",
  "AR_gaming",
  "VR_gaming",
  "outdoor_activity_A",
  "outdoor_activity_B",
  "social_interactionA",
  "social_interactionB",
];

interface ModelCostRow {
  readonly model: string;
  readonly numLayers: number;
  readonly costClass: string;
  readonly cycles: number;
  readonly energyNJ: number;
}

/** model_costs_maestro.csv, read independently of the loader. */
const readModelCosts = (): ModelCostRow[] => {
  const [header, ...lines] = readFileSync(join(builtinDataDir(), "model_costs_maestro.csv"), "utf8").trim().split(/\r?\n/);
  expect(header).toBe(
    "model,num_layers,macs,dataflow,num_pes,noc_bw,latency_cycles,latency_ms_at_1GHz,energy_nJ,energy_xrbench_mJ",
  );
  return lines.map((line) => {
    const [model = "", numLayers, , dataflow, pes, bw, cycles, , energy] = line.split(",");
    return {
      model,
      numLayers: Number(numLayers),
      costClass: `${dataflow}_${pes}pe_bw${bw}`,
      cycles: Number(cycles),
      energyNJ: Number(energy),
    };
  });
};

const totals = (model: string, costClass: string): { cycles: number; energyNJ: number } => {
  let cycles = 0;
  let energyNJ = 0;
  for (let i = 0; i < dataset.costs.layerCount(model); i++) {
    const cost = dataset.costs.get(model, i, costClass);
    if (cost === undefined) throw new Error(`no cost for ${model} layer ${i} on ${costClass}`);
    cycles += cost.cycles;
    energyNJ += cost.energyNJ;
  }
  return { cycles, energyNJ };
};

describe("loadBuiltinDataset", () => {
  it("has the 11 XRBench models with 1301 layers in total", () => {
    expect(dataset.models.size).toBe(11);
    const layers = [...dataset.models.values()].reduce((sum, model) => sum + model.layers.length, 0);
    expect(layers).toBe(1301);
    expect([...dataset.models.keys()].sort()).toEqual([
      "ASR_EM_24L",
      "AS_ED_TCN",
      "DE_midas_v21_small",
      "DR_RGBd_200",
      "ES_RITNet",
      "GE_FBNet_C",
      "HT_hand_graph_cnn_half",
      "KD_res8_narrow",
      "OD_D2go_FasterRCNN",
      "PD_Plane_RCNN_Quarter",
      "SS_HRViT_b1",
    ]);
  });

  it("maps layers as written, with macs = derived_macs", () => {
    const ritnet = dataset.models.get("ES_RITNet");
    expect(ritnet?.task).toBe("Eye segmentation");
    expect(ritnet?.layers[0]).toEqual({
      index: 0,
      name: "conv1",
      type: "CONV",
      N: 1,
      K: 32,
      C: 32,
      Y: 160,
      X: 100,
      R: 3,
      S: 3,
      stride: 1,
      macs: 142700544,
    });
    expect(ritnet?.layers.reduce((sum, layer) => sum + layer.macs, 0)).toBe(1040138240);
    // A kernel larger than its input (as in XRBench) has 0 MACs but is kept.
    expect(dataset.models.get("GE_FBNet_C")?.layers[50]).toMatchObject({ Y: 5, X: 4, R: 5, S: 5, macs: 0 });
  });

  it("has the 7 usage scenarios, the 4 probability-sweep ones and the 3 dynamic ones", () => {
    expect([...dataset.scenarios.keys()]).toEqual([
      ...USAGE_SCENARIOS,
      "VR_gaming_100p",
      "VR_gaming_25p",
      "VR_gaming_50p",
      "VR_gaming_75p",
      "VR_to_AR_switch",
      "AR_gaming_ramp",
      "social_dynamic",
    ]);
    const usage = [...dataset.scenarios.values()].filter((s) => s.description.startsWith("XRBench usage scenario"));
    expect(usage.map((s) => s.name)).toEqual(USAGE_SCENARIOS);
  });

  it("maps scenario entries: name_in_file, model, target_fps, dependency, probability_effective", () => {
    expect(findScenario(dataset, "AR_Assistant").description).toBe(
      "XRBench usage scenario (XRbench_evaluation/usage_scenarios/AR_Assistant.m)",
    );
    expect(findScenario(dataset, "VR_gaming_25p")).toEqual({
      name: "VR_gaming_25p",
      description: "XRBench probability sweep scenario (XRbench_evaluation/probability_sweep/VR_gaming_25p.m)",
      models: [
        { name: "ES_RITNet", model: "ES_RITNet", fps: 60, dependsOn: [], probability: 1 },
        { name: "GE_FBNet_C", model: "GE_FBNet_C", fps: 60, dependsOn: ["ES_RITNet"], probability: 0.25 },
        { name: "HT_hand_graph_cnn_half", model: "HT_hand_graph_cnn_half", fps: 45, dependsOn: [], probability: 1 },
      ],
    });
    const outdoorB = findScenario(dataset, "outdoor_activity_B");
    expect(outdoorB.models.map((m) => [m.name, m.model, m.fps, m.probability])).toEqual([
      ["KD_res8_narrow", "KD_res8_narrow", 3, 1],
      ["ASR_EM_24L", "ASR_EM_24L", 3, 0.2],
      ["D2go_FastRCNN", "OD_D2go_FasterRCNN", 30, 1],
    ]);
  });

  it("loads once per process", () => {
    expect(loadBuiltinDataset()).toBe(dataset);
  });
});

describe("cost table", () => {
  it("has the 21 classes (3 dataflows x 7 PE/NoC pairs) for every layer of every model", () => {
    expect(dataset.costs.classes).toHaveLength(21);
    expect(dataset.costs.classes).toContain("WS_2048pe_bw128");
    expect(dataset.costs.models()).toHaveLength(11);
    for (const model of dataset.models.values()) {
      expect(dataset.costs.layerCount(model.name)).toBe(model.layers.length);
      for (const costClass of dataset.costs.classes) {
        for (const layer of model.layers) expect(dataset.costs.get(model.name, layer.index, costClass)).toBeDefined();
      }
    }
  });

  it("reads cells as written (cycles and nJ)", () => {
    expect(dataset.costs.get("ES_RITNet", 0, "OS_1024pe_bw128")).toEqual({ cycles: 576000, energyNJ: 2.87323e6 });
    expect(dataset.costs.get("ES_RITNet", 42, "OS_1024pe_bw128")).toBeUndefined();
    expect(dataset.costs.get("ES_RITNet", 0, "WS_512pe_bw128")).toBeUndefined();
    expect(dataset.costs.get("nope", 0, "OS_1024pe_bw128")).toBeUndefined();
    expect(dataset.costs.layerCount("nope")).toBe(0);
  });

  it("sums to model_costs_maestro.csv: ES_RITNet on WS_4096pe_bw256", () => {
    const row = readModelCosts().find((r) => r.model === "ES_RITNet" && r.costClass === "WS_4096pe_bw256");
    expect(row).toBeDefined();
    const sum = totals("ES_RITNet", "WS_4096pe_bw256");
    expect(sum.cycles).toBe(row?.cycles);
    expect(sum.energyNJ).toBeCloseTo(row?.energyNJ ?? Number.NaN, -2); // the CSV prints 6 significant digits
    expect(Math.abs(sum.energyNJ / (row?.energyNJ ?? 1) - 1)).toBeLessThan(1e-5);
  });

  it("sums to model_costs_maestro.csv for every model and class (231 rows)", () => {
    const rows = readModelCosts();
    expect(rows).toHaveLength(231);
    for (const row of rows) {
      expect(dataset.costs.layerCount(row.model), row.model).toBe(row.numLayers);
      const sum = totals(row.model, row.costClass);
      expect(sum.cycles, `${row.model} ${row.costClass}`).toBe(row.cycles);
      expect(Math.abs(sum.energyNJ / row.energyNJ - 1), `${row.model} ${row.costClass}`).toBeLessThan(1e-5);
    }
  });
});

describe("hardware", () => {
  it("resolves Dual_4K/WS_OS to two accelerators", () => {
    const hardware = resolveHardware(dataset, "Dual_4K/WS_OS");
    expect(hardware).toEqual({
      name: "Dual_4K/WS_OS",
      config: "Dual_4K",
      dataflows: ["WS", "OS"],
      accelerators: [
        { index: 0, name: "Acc0_2K", numPes: 2048, nocBw: 128, id: "acc0", dataflow: "WS", costClass: "WS_2048pe_bw128" },
        { index: 1, name: "Acc1_2K", numPes: 2048, nocBw: 128, id: "acc1", dataflow: "OS", costClass: "OS_2048pe_bw128" },
      ],
    });
  });

  it("keeps slot order as written (Dual_8K_LittleBig lists the little one first)", () => {
    const hardware = resolveHardware(dataset, "Dual_8K_LittleBig/WS_OS");
    expect(hardware.accelerators.map((a) => [a.id, a.name, a.costClass])).toEqual([
      ["acc0", "Acc1_4K", "WS_2048pe_bw256"],
      ["acc1", "Acc0_4K", "OS_6144pe_bw256"],
    ]);
  });

  it("lists the 38 combinations XRBench runs (config x dataflow files of its group)", () => {
    const single = ["OS", "RS", "WS"];
    const dual = ["OS_OS", "RS_RS", "WS_OS", "WS_WS"];
    const quad = ["OS_OS_OS_OS", "RS_RS_RS_RS", "WS_OS_WS_OS", "WS_WS_WS_WS"];
    const cross = (configs: string[], flows: string[]) => configs.flatMap((c) => flows.map((f) => `${c}/${f}`));
    expect(listHardware(dataset)).toEqual([
      ...cross(["Single_4K", "Single_8K"], single),
      ...cross(
        ["Dual_4K", "Dual_4K_BigLittle", "Dual_4K_LittleBig", "Dual_8K", "Dual_8K_BigLittle", "Dual_8K_LittleBig"],
        dual,
      ),
      ...cross(["Quad_4K", "Quad_8K"], quad),
    ]);
  });

  it("resolves every usage scenario on every canonical hardware", () => {
    const specs = listHardware(dataset);
    for (const spec of specs) {
      const hardware = resolveHardware(dataset, spec);
      for (const name of USAGE_SCENARIOS) {
        const scenario = findScenario(dataset, name);
        const costs = resolveModelCosts(dataset, scenario, hardware);
        expect([...costs.keys()]).toEqual(scenario.models.map((m) => m.name));
        for (const entry of scenario.models) {
          const modelCosts = costs.get(entry.name);
          const layers = dataset.models.get(entry.model)?.layers.length;
          expect(modelCosts?.model).toBe(entry.model);
          expect(modelCosts?.layerCount).toBe(layers);
          expect(modelCosts?.latencyMs).toHaveLength(hardware.accelerators.length);
          expect(modelCosts?.latencyMs.every((row) => row.length === layers && row.every((v) => v > 0))).toBe(true);
        }
      }
    }
  });
});

describe("resolveModelCosts", () => {
  it("gives dense per-accelerator arrays: ms = cycles / 1e6, mJ = nJ / 1e6", () => {
    const hardware = resolveHardware(dataset, "Dual_4K/WS_OS");
    const costs = resolveModelCosts(dataset, findScenario(dataset, "VR_gaming"), hardware);
    const ritnet = costs.get("ES_RITNet");
    expect(ritnet?.cycles[0]?.[0]).toBe(295776);
    expect(ritnet?.latencyMs[0]?.[0]).toBe(0.295776);
    expect(ritnet?.energyMJ[0]?.[0]).toBeCloseTo(3.8235, 12);
    expect(ritnet?.cycles[1]?.[0]).toBe(288000);
    expect(ritnet?.energyMJ[1]?.[1]).toBeCloseTo(1.30179, 12);
  });

  it("gives an aliased model (D2go_FastRCNN) the costs of its canonical model", () => {
    const hardware = resolveHardware(dataset, "Single_4K/WS");
    const costs = resolveModelCosts(dataset, findScenario(dataset, "outdoor_activity_B"), hardware);
    const alias = costs.get("D2go_FastRCNN");
    expect(alias?.model).toBe("OD_D2go_FasterRCNN");
    const total = alias?.cycles[0]?.reduce((sum, v) => sum + v, 0);
    expect(total).toBe(totals("OD_D2go_FasterRCNN", "WS_4096pe_bw256").cycles);
  });
});
