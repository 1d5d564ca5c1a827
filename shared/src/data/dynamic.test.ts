/**
 * Dynamic scenarios in data: the three shipped ones (shared/data/dynamic/scenarios.json, part of
 * the built-in dataset), user files with phases, per-entry early exits and skippable layers, and
 * every malformed phase / exit / skip list, each refused with a DataError naming the file, the JSON
 * path (as written in the file) and what was expected. Bad inputs are fixtures under
 * test/fixtures/bad-data/dynamic-*.json; a few one-off variants are written to a temp dir.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { Scenario, ScenarioModel } from "../domain/types";
import { DataError, extendDataset, findScenario, loadBuiltinDataset, loadScenarioFile, resolveHardware, resolveModelCosts } from "./index";

const dataset = loadBuiltinDataset();
const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/bad-data/${name}`, import.meta.url));

const dir = mkdtempSync(join(tmpdir(), "sdrm3-dynamic-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, content: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content, null, 2));
  return path;
};

/** Runs `load`, which must throw a DataError, and returns it. */
const dataErrorOf = (load: () => unknown): DataError => {
  try {
    load();
  } catch (error) {
    if (error instanceof DataError) return error;
    throw error;
  }
  throw new Error("expected a DataError, but loading succeeded");
};

/** The error's fields that locate and explain it. */
const where = (e: DataError) => ({ file: e.file, path: e.path, expected: e.expected, actual: e.actual });

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

describe("malformed phase lists", () => {
  it("overlapping phases: a start before the previous phase's end", () => {
    const file = fixture("dynamic-overlapping-phases.json");
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect(where(error)).toEqual({
      file,
      path: "scenarios[0].phases[1].from_ms",
      expected: "a start at or after the previous phase's end (3000 ms)",
      actual: "2500",
    });
    expect(error.message).toBe(
      `${file}: scenarios[0].phases[1].from_ms: expected a start at or after the previous phase's end (3000 ms), got 2500`,
    );
  });

  it("to_ms equal to from_ms (an empty phase)", () => {
    const file = fixture("dynamic-empty-phase.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: phases[1].to_ms: expected an end after the phase's start (1000 ms), got 1000`,
    );
  });

  it("to_ms before from_ms", () => {
    const file = write("reversed-phase.json", {
      name: "reversed",
      phases: [{ from_ms: 2000, to_ms: 1500, scenario: "VR_gaming" }],
    });
    expect(where(dataErrorOf(() => loadScenarioFile(file, dataset)))).toEqual({
      file,
      path: "phases[0].to_ms",
      expected: "an end after the phase's start (2000 ms)",
      actual: "1500",
    });
  });

  it("to_ms missing on a phase that is not the last", () => {
    const file = fixture("dynamic-open-middle-phase.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: phases[0].to_ms: expected an end time (only the last phase may run to the end of the run), ` +
        "got nothing (the field is missing)",
    );
  });

  it("both scenario and models in one phase", () => {
    const file = fixture("dynamic-scenario-and-models.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: phases[1]: expected exactly one of scenario (a scenario name) or models (a list), got both`,
    );
  });

  it("neither scenario nor models", () => {
    const file = fixture("dynamic-neither.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: scenarios[0].phases[0]: expected exactly one of scenario (a scenario name) or models (a list), got neither`,
    );
  });

  it("an unknown referenced scenario: the message lists the known ones", () => {
    const file = fixture("dynamic-unknown-scenario.json");
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    const known = [...dataset.scenarios.keys()];
    expect(known).toContain("VR_gaming");
    expect(where(error)).toEqual({
      file,
      path: "phases[1].scenario",
      expected: `a known scenario (${known.join(", ")})`,
      actual: '"VR_Gaming"',
    });
    expect(error.message).toContain("AR_Assistant, AR_gaming, VR_gaming, outdoor_activity_A");
  });

  it("a phase referencing a phased scenario of the same file", () => {
    const file = fixture("dynamic-phased-reference.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: scenarios[1].phases[1].scenario: expected a scenario without phases, got "inner_switch"`,
    );
  });

  it("a phase referencing a shipped phased scenario", () => {
    const file = write("ref-shipped.json", {
      name: "ref_shipped",
      phases: [
        { from_ms: 0, to_ms: 1000, scenario: "VR_gaming" },
        { from_ms: 1000, scenario: "AR_gaming_ramp" },
      ],
    });
    expect(where(dataErrorOf(() => loadScenarioFile(file, dataset)))).toEqual({
      file,
      path: "phases[1].scenario",
      expected: "a scenario without phases",
      actual: '"AR_gaming_ramp"',
    });
  });

  it("the same model with a different definition in two phases (a dependency dropped)", () => {
    const file = fixture("dynamic-conflicting-model.json");
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: phases[1].models[1]: expected model GE_FBNet_C with the same model, dependency and probability ` +
        "as in phases[0].models[1], got a different definition",
    );
  });

  it("the same model with a different trigger probability than in a referenced scenario", () => {
    const file = write("conflict-probability.json", {
      name: "conflict_probability",
      phases: [
        { from_ms: 0, to_ms: 1000, scenario: "VR_gaming" },
        {
          from_ms: 1000,
          models: [
            { name: "ES_RITNet", fps: 60 },
            { name: "GE_FBNet_C", fps: 60, dependency: ["ES_RITNet"], probability: 0.5 },
          ],
        },
      ],
    });
    expect(where(dataErrorOf(() => loadScenarioFile(file, dataset)))).toEqual({
      file,
      path: "phases[1].models[1]",
      expected: "model GE_FBNet_C with the same model, dependency and probability as in phases[0].scenario",
      actual: "a different definition",
    });
  });

  it("the same name mapped to a different canonical model in two phases", () => {
    const file = write("conflict-model.json", {
      scenarios: [
        {
          name: "conflict_model",
          phases: [
            { from_ms: 0, to_ms: 1000, models: [{ name: "detector", model: "OD_D2go_FasterRCNN", fps: 10 }] },
            { from_ms: 1000, models: [{ name: "detector", model: "PD_Plane_RCNN_Quarter", fps: 10 }] },
          ],
        },
      ],
    });
    expect(where(dataErrorOf(() => loadScenarioFile(file, dataset)))).toEqual({
      file,
      path: "scenarios[0].phases[1].models[0]",
      expected: "model detector with the same model, dependency and probability as in scenarios[0].phases[0].models[0]",
      actual: "a different definition",
    });
  });

  it("the same model with different early exits in two phases is refused, not silently merged", () => {
    // A task has one list of exits for the whole run; a phase that redefines them must not be ignored.
    const file = write("conflict-exits.json", {
      name: "conflict_exits",
      phases: [
        { from_ms: 0, to_ms: 1000, models: [{ name: "HT_hand_graph_cnn_half", fps: 30, exits: [{ after_layer: 111, probability: 0.4 }] }] },
        { from_ms: 1000, models: [{ name: "HT_hand_graph_cnn_half", fps: 30, exits: [{ after_layer: 50, probability: 0.9 }] }] },
      ],
    });
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect([error.file, error.path, error.actual]).toEqual([file, "phases[1].models[0]", "a different definition"]);
  });

  it("an empty phases list", () => {
    const file = fixture("dynamic-no-phases.json");
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect(where(error)).toEqual({ file, path: "phases", expected: "a non-empty list of phases", actual: "[]" });
    expect(error.message).toBe(`${file}: phases: expected a non-empty list of phases, got []`);
  });

  it("a non-numeric from_ms", () => {
    const file = fixture("dynamic-non-numeric-from.json");
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect(where(error)).toEqual({ file, path: "scenarios[0].phases[1].from_ms", expected: "a non-negative number", actual: '"2s"' });
    expect(error.message).toBe(`${file}: scenarios[0].phases[1].from_ms: expected a non-negative number, got "2s"`);
  });

  it("schema problems in several phases are all reported", () => {
    const file = write("two-bad.json", {
      name: "two_bad",
      phases: [
        { from_ms: -5, to_ms: 10, scenario: "VR_gaming" },
        { from_ms: 10, to_ms: "later", scenario: "VR_gaming" },
      ],
    });
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect(where(error)).toEqual({ file, path: "phases[0].from_ms", expected: "a non-negative number", actual: "-5" });
    expect(error.more).toEqual([{ path: "phases[1].to_ms", expected: "a positive number", actual: '"later"' }]);
  });
});

describe("malformed exits and skips", () => {
  it("exit probabilities outside [0, 1] (1.5 and -0.1): both reported at the probability field", () => {
    const file = fixture("dynamic-exit-probability.json");
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect(where(error)).toEqual({
      file,
      path: "scenarios[0].phases[0].models[0].exits[0].probability",
      expected: "a probability in [0, 1]",
      actual: "1.5",
    });
    expect(error.more).toEqual([
      { path: "scenarios[0].phases[0].models[1].exits[0].probability", expected: "a probability in [0, 1]", actual: "-0.1" },
    ]);
  });

  it("an exit probability outside [0, 1] on a static scenario entry", () => {
    const file = write("static-exit-probability.json", {
      name: "static_exit_probability",
      models: [{ name: "ES_RITNet", fps: 60, exits: [{ after_layer: 20, probability: 1.5 }] }],
    });
    expect(where(dataErrorOf(() => loadScenarioFile(file, dataset)))).toEqual({
      file,
      path: "models[0].exits[0].probability",
      expected: "a probability in [0, 1]",
      actual: "1.5",
    });
  });

  it("a skip probability outside [0, 1]", () => {
    const file = write("skip-probability.json", {
      name: "skip_probability",
      phases: [{ from_ms: 0, models: [{ name: "ES_RITNet", fps: 60, skips: [{ from_layer: 2, to_layer: 3, probability: 2 }] }] }],
    });
    expect(where(dataErrorOf(() => loadScenarioFile(file, dataset)))).toEqual({
      file,
      path: "phases[0].models[0].skips[0].probability",
      expected: "a probability in [0, 1]",
      actual: "2",
    });
  });

  it("an exit after the model's last layer (phased file: the path points into the phase)", () => {
    const file = fixture("dynamic-exit-after-last-layer.json");
    expect(where(dataErrorOf(() => loadScenarioFile(file, dataset)))).toEqual({
      file,
      path: "phases[1].models[1].exits[1].after_layer",
      expected: "a layer index below the model's last layer (41) of ES_RITNet",
      actual: "41",
    });
  });

  it("an exit after the model's last layer (static entry)", () => {
    const file = write("static-exit-last.json", {
      scenarios: [{ name: "static_exit_last", models: [{ name: "DR_RGBd_200", fps: 30, exits: [{ after_layer: 40, probability: 0.5 }] }] }],
    });
    expect(dataErrorOf(() => loadScenarioFile(file, dataset)).message).toBe(
      `${file}: scenarios[0].models[0].exits[0].after_layer: expected a layer index below the model's last layer (33) of DR_RGBd_200, got 40`,
    );
  });

  it("a skip whose to_layer is before its from_layer", () => {
    const file = fixture("dynamic-skip-reversed.json");
    expect(where(dataErrorOf(() => loadScenarioFile(file, dataset)))).toEqual({
      file,
      path: "phases[0].models[0].skips[0].to_layer",
      expected: "a layer index in [from_layer, 41] of ES_RITNet",
      actual: "14",
    });
  });

  it("a skip beyond the model's last layer", () => {
    const file = fixture("dynamic-skip-beyond-model.json");
    expect(where(dataErrorOf(() => loadScenarioFile(file, dataset)))).toEqual({
      file,
      path: "phases[0].models[0].skips[0].to_layer",
      expected: "a layer index in [from_layer, 41] of ES_RITNet",
      actual: "42",
    });
  });

  it("overlapping skips", () => {
    const file = fixture("dynamic-overlapping-skips.json");
    expect(where(dataErrorOf(() => loadScenarioFile(file, dataset)))).toEqual({
      file,
      path: "phases[0].models[0].skips[1].from_layer",
      expected: "skipped ranges that do not overlap",
      actual: "10",
    });
  });

  it("skip checks on a static entry: reversed, beyond the model, overlapping", () => {
    const load = (skips: unknown) =>
      where(dataErrorOf(() => loadScenarioFile(write("static-skip.json", { name: "static_skip", models: [{ name: "ES_RITNet", fps: 60, skips }] }), dataset)));
    const file = join(dir, "static-skip.json");
    expect(load([{ from_layer: 20, to_layer: 14, probability: 0.5 }])).toEqual({
      file,
      path: "models[0].skips[0].to_layer",
      expected: "a layer index in [from_layer, 41] of ES_RITNet",
      actual: "14",
    });
    expect(load([{ from_layer: 30, to_layer: 42, probability: 0.5 }])).toMatchObject({ path: "models[0].skips[0].to_layer", actual: "42" });
    expect(load([{ from_layer: 5, to_layer: 10, probability: 0.5 }, { from_layer: 8, to_layer: 12, probability: 0.5 }])).toEqual({
      file,
      path: "models[0].skips[1].from_layer",
      expected: "skipped ranges that do not overlap",
      actual: "8",
    });
  });

  it("a bad skip is named by its index in the file, not in sorted order", () => {
    const file = write("skip-order.json", {
      name: "skip_order",
      models: [
        {
          name: "ES_RITNet",
          fps: 60,
          skips: [
            { from_layer: 30, to_layer: 42, probability: 0.5 },
            { from_layer: 2, to_layer: 4, probability: 0.5 },
          ],
        },
      ],
    });
    expect(where(dataErrorOf(() => loadScenarioFile(file, dataset)))).toMatchObject({ path: "models[0].skips[0].to_layer", actual: "42" });
  });
});

describe("semantic errors inside a phase point into the phase", () => {
  it("an unknown model in a phase's list", () => {
    const file = write("phase-unknown-model.json", {
      name: "phase_unknown_model",
      phases: [
        { from_ms: 0, to_ms: 10, scenario: "VR_gaming" },
        { from_ms: 10, models: [{ name: "ES_RITNet", fps: 60 }, { name: "Foo", fps: 60 }] },
      ],
    });
    const error = dataErrorOf(() => loadScenarioFile(file, dataset));
    expect([error.file, error.path, error.actual]).toEqual([file, "phases[1].models[1].name", '"Foo"']);
    expect(error.expected).toMatch(/^a known model \(ASR_EM_24L, /);
  });
});
