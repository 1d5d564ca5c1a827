/**
 * Scenarios: scenarios.json (`{ scenarios: [...] }`) or a single scenario object
 * `{ name, description?, models: [{ name_in_file | name, model?, target_fps | fps, dependency?,
 * probability_effective | probability | probability_in_file? }] }`.
 *
 * Mapping to the domain: name = name_in_file (or name), model = model (else the name),
 * fps = target_fps (or fps), dependsOn = dependency, probability = probability_effective (else
 * probability, else probability_in_file, else 1).
 * Checks beyond the schema: every model is known, names are unique within a scenario, cascade
 * parents are other models of the same scenario, and cascades have no cycle.
 */
import type { Model, Scenario, ScenarioModel } from "../domain/types";
import { decodeOrThrow, readJson } from "./decode";
import { dataError, joinJsonPath, listNames, showValue } from "./errors";
import { ScenarioJson, ScenarioListJson } from "./schemas";
import type { ScenarioModelJson } from "./schemas";
import type { Dataset } from "./types";

/** The JSON field names an entry used, so that errors point at what the user wrote. */
export interface EntryKeys {
  readonly name: string;
  readonly model: string;
  readonly dependency: string;
}

const DOMAIN_KEYS: EntryKeys = { name: "name", model: "model", dependency: "dependsOn" };
const MISSING = "nothing (the field is missing)";

/** Reads a scenario file (either format), validated against the dataset's models. */
export const loadScenarioFile = (path: string, dataset: Dataset): ReadonlyArray<Scenario> =>
  decodeScenarios(readJson(path), path, dataset.models);

/** Validates a parsed scenario file value of either format. */
export const decodeScenarios = (
  json: unknown,
  file: string,
  models: ReadonlyMap<string, Model>,
): ReadonlyArray<Scenario> => {
  if (isObject(json) && "scenarios" in json) {
    const list = decodeOrThrow(ScenarioListJson, json, file);
    const scenarios = list.scenarios.map((entry, i) => toScenario(entry, file, `scenarios[${i}]`, models));
    checkUniqueScenarioNames(scenarios, file);
    return scenarios;
  }
  if (!isObject(json)) {
    throw dataError(file, "(root)", "an object (one scenario, or { scenarios: [...] })", showValue(json));
  }
  return [toScenario(decodeOrThrow(ScenarioJson, json, file), file, "", models)];
};

/** Semantic checks of a scenario built in code (errors are labelled `scenario '<name>'`). */
export const checkScenario = (scenario: Scenario, models: ReadonlyMap<string, Model>): void =>
  checkScenarioModels(scenario, models, `scenario '${scenario.name}'`, "", scenario.models.map(() => DOMAIN_KEYS));

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const toScenario = (
  json: ScenarioJson,
  file: string,
  base: string,
  models: ReadonlyMap<string, Model>,
): Scenario => {
  const keys = json.models.map(entryKeys);
  const scenario: Scenario = {
    name: json.name,
    description: json.description ?? describeScenario(json, file),
    models: json.models.map((entry, i) => toScenarioModel(entry, file, joinJsonPath(base, "models", i))),
  };
  checkScenarioModels(scenario, models, file, base, keys);
  return scenario;
};

const describeScenario = (json: ScenarioJson, file: string): string => {
  const kind =
    json.kind === "usage_scenario"
      ? "XRBench usage scenario"
      : json.kind === "probability_sweep"
        ? "XRBench probability sweep scenario"
        : "scenario";
  return `${kind} (${json.source_file ?? file})`;
};

const entryKeys = (entry: ScenarioModelJson): EntryKeys => {
  const name = entry.name_in_file !== undefined ? "name_in_file" : "name";
  return { name, model: entry.model !== undefined ? "model" : name, dependency: "dependency" };
};

const toScenarioModel = (entry: ScenarioModelJson, file: string, at: string): ScenarioModel => {
  const name = entry.name_in_file ?? entry.name;
  if (name === undefined) {
    throw dataError(file, joinJsonPath(at, "name_in_file"), "a model name (field name_in_file or name)", MISSING);
  }
  const fps = entry.target_fps ?? entry.fps;
  if (fps === undefined) {
    throw dataError(file, joinJsonPath(at, "target_fps"), "a positive number (field target_fps or fps)", MISSING);
  }
  return {
    name,
    model: entry.model ?? name,
    fps,
    dependsOn: entry.dependency ?? [],
    probability: entry.probability_effective ?? entry.probability ?? entry.probability_in_file ?? 1,
  };
};

const checkScenarioModels = (
  scenario: Scenario,
  models: ReadonlyMap<string, Model>,
  file: string,
  base: string,
  keys: ReadonlyArray<EntryKeys>,
): void => {
  const at = (i: number, field: keyof EntryKeys, ...more: number[]) =>
    joinJsonPath(base, "models", i, keys[i]?.[field] ?? DOMAIN_KEYS[field], ...more);
  const firstIndex = new Map<string, number>();
  scenario.models.forEach((entry, i) => {
    const earlier = firstIndex.get(entry.name);
    if (earlier !== undefined) {
      throw dataError(file, at(i, "name"), `a name not used by another model of the scenario (models[${earlier}] has it)`, showValue(entry.name));
    }
    firstIndex.set(entry.name, i);
    if (!models.has(entry.model)) {
      throw dataError(file, at(i, "model"), `a known model (${listNames(models.keys())})`, showValue(entry.model));
    }
  });
  scenario.models.forEach((entry, i) => {
    entry.dependsOn.forEach((parent, d) => {
      if (parent === entry.name) {
        throw dataError(file, at(i, "dependency", d), "another model of the scenario (a model cannot depend on itself)", showValue(parent));
      }
      if (!firstIndex.has(parent)) {
        throw dataError(file, at(i, "dependency", d), `a model of the scenario (${listNames(firstIndex.keys())})`, showValue(parent));
      }
    });
  });
  const cycle = findCycle(scenario.models);
  if (cycle !== undefined) {
    const start = firstIndex.get(cycle[0] ?? "") ?? 0;
    throw dataError(file, at(start, "dependency"), "cascade dependencies without a cycle", `the cycle ${cycle.join(" -> ")}`);
  }
};

/** A dependency cycle as a list of names (first = last), or undefined. Parents must all exist. */
const findCycle = (entries: ReadonlyArray<ScenarioModel>): string[] | undefined => {
  const parents = new Map(entries.map((entry) => [entry.name, entry.dependsOn]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, "visiting");
    stack.push(name);
    for (const parent of parents.get(name) ?? []) {
      const cycle = visit(parent);
      if (cycle !== undefined) return cycle;
    }
    stack.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const entry of entries) {
    const cycle = visit(entry.name);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
};

const checkUniqueScenarioNames = (scenarios: ReadonlyArray<Scenario>, file: string): void => {
  const seen = new Map<string, number>();
  scenarios.forEach((scenario, i) => {
    const earlier = seen.get(scenario.name);
    if (earlier !== undefined) {
      throw dataError(file, `scenarios[${i}].name`, `a name not used by another scenario of the file (scenarios[${earlier}] has it)`, showValue(scenario.name));
    }
    seen.set(scenario.name, i);
  });
};
