/**
 * Dynamic scenarios in data: the three shipped ones (shared/data/dynamic/scenarios.json, part of
 * the built-in dataset), user files with phases, per-entry early exits and skippable layers.
 * Malformed phase / exit / skip lists are refused in dynamic-errors.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { Scenario, ScenarioModel } from "../domain/types";
import { extendDataset, findScenario, loadBuiltinDataset, loadScenarioFile, resolveHardware, resolveModelCosts } from "./index";
import { dataErrorOf, tempFiles, where } from "./testing";

const dataset = loadBuiltinDataset();
const { write } = tempFiles("dynamic-test");


const entry = (scenario: Scenario, name: string): ScenarioModel => {
  const found = scenario.models.find((m) => m.name === name);
  if (found === undefined) throw new Error(`no model ${name} in ${scenario.name}`);
  return found;
};

const VR_GAMING = ["ES_RITNet", "GE_FBNet_C", "HT_hand_graph_cnn_half"];
const AR_ASSISTANT = ["KD_res8_narrow", "ASR_EM_24L", "SS_HRViT_b1", "DE_midas_v21_small", "PD_Plane_RCNN_Quarter", "OD_D2go_FasterRCNN"];

describe("the shipped dynamic scenarios", () => {
  it("are part of the built-in dataset, after the XRBench ones", () => {
    const names = [...dataset.scenarios.keys()];
    expect(names.slice(-3)).toEqual(["VR_to_AR_switch", "AR_gaming_ramp", "social_dynamic"]);
    for (const name of names.slice(-3)) expect(findScenario(dataset, name).phases).toBeDefined();
    // the static XRBench scenarios stay static
    for (const name of names.slice(0, -3)) {
      const s = findScenario(dataset, name);
      expect(s.phases, name).toBeUndefined();
      for (const m of s.models) expect([m.active, m.exits, m.skips], `${name}/${m.name}`).toEqual([undefined, undefined, undefined]);
    }
  });

  it("VR_to_AR_switch: VR_gaming's models active [0, 5000), AR_Assistant's [5000, end)", () => {
    const s = findScenario(dataset, "VR_to_AR_switch");
    expect(s.phases).toEqual([
      { name: "VR_gaming", fromMs: 0, toMs: 5000 },
      { name: "AR_Assistant", fromMs: 5000, toMs: null },
    ]);
    expect(s.models.map((m) => m.name)).toEqual([...VR_GAMING, ...AR_ASSISTANT]);
    const vr = findScenario(dataset, "VR_gaming");
    for (const name of VR_GAMING) {
      const m = entry(s, name);
      const original = entry(vr, name);
      expect(m.active).toEqual([{ fromMs: 0, toMs: 5000, fps: original.fps }]);
      expect(m).toMatchObject({ model: original.model, fps: original.fps, dependsOn: original.dependsOn, probability: original.probability });
    }
    const ar = findScenario(dataset, "AR_Assistant");
    for (const name of AR_ASSISTANT) {
      const m = entry(s, name);
      const original = entry(ar, name);
      expect(m.active).toEqual([{ fromMs: 5000, toMs: null, fps: original.fps }]);
      expect(m).toMatchObject({ model: original.model, fps: original.fps, dependsOn: original.dependsOn, probability: original.probability });
    }
    // the cascade KD -> ASR (p = 0.5) and ES -> GE survive the switch
    expect(entry(s, "ASR_EM_24L")).toMatchObject({ dependsOn: ["KD_res8_narrow"], probability: 0.5 });
    expect(entry(s, "GE_FBNet_C")).toMatchObject({ dependsOn: ["ES_RITNet"], probability: 1 });
  });

  it("AR_gaming_ramp: every model has three intervals at 1/3, 2/3 and the full XRBench rate", () => {
    const s = findScenario(dataset, "AR_gaming_ramp");
    expect(s.phases).toEqual([
      { name: "light", fromMs: 0, toMs: 3000 },
      { name: "medium", fromMs: 3000, toMs: 6000 },
      { name: "full", fromMs: 6000, toMs: null },
    ]);
    const full = findScenario(dataset, "AR_gaming");
    expect(s.models.map((m) => m.name)).toEqual(full.models.map((m) => m.name));
    expect(entry(s, "HT_hand_graph_cnn_half").active).toEqual([
      { fromMs: 0, toMs: 3000, fps: 15 },
      { fromMs: 3000, toMs: 6000, fps: 30 },
      { fromMs: 6000, toMs: null, fps: 45 },
    ]);
    for (const m of s.models) {
      const target = entry(full, m.name).fps;
      expect(m.active?.map((a) => a.fps), m.name).toEqual([target / 3, (2 * target) / 3, target]);
      // the task's nominal FPS is its first interval's
      expect(m.fps).toBe(target / 3);
    }
  });

  it("social_dynamic: DR only in [2000, 6000), the other models merged into one interval, exits and skips kept", () => {
    const s = findScenario(dataset, "social_dynamic");
    expect(s.phases?.map((p) => [p.name, p.fromMs, p.toMs])).toEqual([
      ["eyes_hands", 0, 2000],
      ["with_depth", 2000, 6000],
      ["eyes_hands_again", 6000, null],
    ]);
    expect(s.models.map((m) => m.name)).toEqual(["ES_RITNet", "GE_FBNet_C", "HT_hand_graph_cnn_half", "DR_RGBd_200"]);
    expect(entry(s, "DR_RGBd_200").active).toEqual([{ fromMs: 2000, toMs: 6000, fps: 30 }]);
    // equal FPS in adjacent phases: one interval over the whole run
    expect(entry(s, "ES_RITNet").active).toEqual([{ fromMs: 0, toMs: null, fps: 60 }]);
    expect(entry(s, "GE_FBNet_C").active).toEqual([{ fromMs: 0, toMs: null, fps: 60 }]);
    expect(entry(s, "HT_hand_graph_cnn_half").active).toEqual([{ fromMs: 0, toMs: null, fps: 30 }]);
    expect(entry(s, "ES_RITNet").skips).toEqual([{ fromLayer: 14, toLayer: 27, probability: 0.5 }]);
    expect(entry(s, "GE_FBNet_C")).toMatchObject({ dependsOn: ["ES_RITNet"], exits: [{ afterLayer: 40, probability: 0.3 }] });
    expect(entry(s, "HT_hand_graph_cnn_half").exits).toEqual([{ afterLayer: 111, probability: 0.4 }]);
    expect(entry(s, "DR_RGBd_200").exits).toBeUndefined();
    expect(entry(s, "DR_RGBd_200").skips).toBeUndefined();
  });

  it("resolve costs on a canonical hardware", () => {
    const hardware = resolveHardware(dataset, "Dual_4K/WS_OS");
    for (const name of ["VR_to_AR_switch", "AR_gaming_ramp", "social_dynamic"]) {
      const s = findScenario(dataset, name);
      expect([...resolveModelCosts(dataset, s, hardware).keys()]).toEqual(s.models.map((m) => m.name));
    }
  });
});

describe("user files with phases", () => {
  it("one phased scenario: phases referencing scenarios and own lists, gaps allowed, FPS changes kept apart", () => {
    const file = write("switch.json", {
      name: "my_switch",
      phases: [
        { name: "vr", from_ms: 0, to_ms: 1000, scenario: "VR_gaming" },
        {
          from_ms: 1500,
          to_ms: 2500,
          models: [
            { name: "HT_hand_graph_cnn_half", fps: 45 },
            { name: "DR_RGBd_200", fps: 10, exits: [{ after_layer: 20, probability: 0.25 }] },
          ],
        },
        { from_ms: 2500, models: [{ name: "DR_RGBd_200", fps: 20, exits: [{ after_layer: 20, probability: 0.25 }] }] },
      ],
    });
    const [s, ...rest] = loadScenarioFile(file, dataset);
    expect(rest).toEqual([]);
    expect(s!.name).toBe("my_switch");
    expect(s!.description).toBe(`dynamic scenario (${file})`);
    expect(s!.phases).toEqual([
      { name: "vr", fromMs: 0, toMs: 1000 },
      { name: "phase1", fromMs: 1500, toMs: 2500 },
      { name: "phase2", fromMs: 2500, toMs: null },
    ]);
    expect(s!.models.map((m) => m.name)).toEqual([...VR_GAMING, "DR_RGBd_200"]);
    // not adjacent (a gap from 1000 to 1500): two intervals even at the same FPS
    expect(entry(s!, "HT_hand_graph_cnn_half").active).toEqual([
      { fromMs: 0, toMs: 1000, fps: 45 },
      { fromMs: 1500, toMs: 2500, fps: 45 },
    ]);
    expect(entry(s!, "ES_RITNet").active).toEqual([{ fromMs: 0, toMs: 1000, fps: 60 }]);
    expect(entry(s!, "DR_RGBd_200")).toMatchObject({
      fps: 10,
      active: [
        { fromMs: 1500, toMs: 2500, fps: 10 },
        { fromMs: 2500, toMs: null, fps: 20 },
      ],
      exits: [{ afterLayer: 20, probability: 0.25 }],
    });
  });

  it("adjacent phases at equal FPS merge into one interval; a later FPS change starts a new one", () => {
    const file = write("merge.json", {
      name: "merge",
      phases: [
        { from_ms: 0, to_ms: 1000, models: [{ name: "HT_hand_graph_cnn_half", fps: 30 }] },
        { from_ms: 1000, to_ms: 2000, models: [{ name: "HT_hand_graph_cnn_half", fps: 30 }] },
        { from_ms: 2000, to_ms: 3000, models: [{ name: "HT_hand_graph_cnn_half", fps: 45 }] },
      ],
    });
    expect(entry(loadScenarioFile(file, dataset)[0]!, "HT_hand_graph_cnn_half").active).toEqual([
      { fromMs: 0, toMs: 2000, fps: 30 },
      { fromMs: 2000, toMs: 3000, fps: 45 },
    ]);
  });

  it("a list file: a phase may reference a static scenario defined earlier in the same file", () => {
    const file = write("list.json", {
      scenarios: [
        { name: "eyes", models: [{ name: "ES_RITNet", fps: 60 }, { name: "GE_FBNet_C", fps: 60, dependency: ["ES_RITNet"] }] },
        {
          name: "eyes_then_depth",
          description: "mine",
          phases: [
            { from_ms: 0, to_ms: 500, scenario: "eyes" },
            { from_ms: 500, models: [{ name: "DR_RGBd_200", fps: 30, skips: [{ from_layer: 3, to_layer: 5, probability: 0.5 }] }] },
          ],
        },
      ],
    });
    const [eyes, phased] = loadScenarioFile(file, dataset);
    expect(eyes!.phases).toBeUndefined();
    expect(phased!.description).toBe("mine");
    expect(phased!.phases?.map((p) => p.name)).toEqual(["eyes", "phase1"]);
    expect(entry(phased!, "GE_FBNet_C")).toMatchObject({ dependsOn: ["ES_RITNet"], active: [{ fromMs: 0, toMs: 500, fps: 60 }] });
    expect(entry(phased!, "DR_RGBd_200")).toMatchObject({
      active: [{ fromMs: 500, toMs: null, fps: 30 }],
      skips: [{ fromLayer: 3, toLayer: 5, probability: 0.5 }],
    });
  });

  it("exits and skips on a static (unphased) scenario entry load too; probabilities 0 and 1 are allowed", () => {
    const file = write("static-dynamics.json", {
      name: "static_dynamics",
      models: [
        { name: "ES_RITNet", fps: 60, skips: [{ from_layer: 30, to_layer: 35, probability: 0 }, { from_layer: 2, to_layer: 4, probability: 1 }] },
        { name: "HT_hand_graph_cnn_half", fps: 30, exits: [{ after_layer: 0, probability: 1 }, { after_layer: 222, probability: 0 }] },
      ],
    });
    const [s] = loadScenarioFile(file, dataset);
    expect(s!.phases).toBeUndefined();
    expect(entry(s!, "ES_RITNet").active).toBeUndefined();
    expect(entry(s!, "ES_RITNet").skips).toEqual([
      { fromLayer: 30, toLayer: 35, probability: 0 },
      { fromLayer: 2, toLayer: 4, probability: 1 },
    ]);
    expect(entry(s!, "HT_hand_graph_cnn_half").exits).toEqual([
      { afterLayer: 0, probability: 1 },
      { afterLayer: 222, probability: 0 },
    ]);
  });

  it("extendDataset adds a phased user scenario that later files may not nest", () => {
    const file = write("extend.json", { name: "extended", phases: [{ from_ms: 0, scenario: "AR_gaming" }] });
    const ds = extendDataset(dataset, { scenarios: [file] });
    expect(findScenario(ds, "extended").models.map((m) => m.active)).toEqual(
      findScenario(ds, "AR_gaming").models.map((m) => [{ fromMs: 0, toMs: null, fps: m.fps }]),
    );
    const nested = write("nested.json", { name: "nested", phases: [{ from_ms: 0, scenario: "extended" }] });
    expect(where(dataErrorOf(() => loadScenarioFile(nested, ds)))).toEqual({
      file: nested,
      path: "phases[0].scenario",
      expected: "a scenario without phases",
      actual: '"extended"',
    });
  });
});
