/**
 * Malformed dynamic scenarios: every malformed phase / exit / skip list, each refused with a
 * DataError naming the file, the JSON path (as written in the file) and what was expected. Bad
 * inputs are fixtures under test/fixtures/bad-data/dynamic-*.json; a few one-off variants are
 * written to a temp dir. The valid forms are in dynamic.test.ts.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBuiltinDataset, loadScenarioFile } from "./index";
import { dataErrorOf, fixture, tempFiles, where } from "./testing";

const dataset = loadBuiltinDataset();
const { dir, write } = tempFiles("dynamic-errors-test");


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
