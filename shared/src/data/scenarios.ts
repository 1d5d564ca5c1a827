/**
 * Scenarios: scenarios.json (`{ scenarios: [...] }`) or a single scenario object
 * `{ name, description?, models: [{ name_in_file | name, model?, target_fps | fps, dependency?,
 * probability_effective | probability | probability_in_file? }] }`.
 *
 * Mapping to the domain: name = name_in_file (or name), model = model (else the name),
 * fps = target_fps (or fps), dependsOn = dependency, probability = probability_effective (else
 * probability, else probability_in_file, else 1).
 * Checks beyond the schema: every model is known, names are unique within a scenario, cascade
 * parents are other models of the same scenario, and cascades have no cycle. A phased scenario's
 * own lists are checked phase by phase (errors name the entry as written in the phase: parents
 * must be models of the same phase) before the phases are merged into one list of tasks.
 */
import type { ActiveInterval, Model, PhaseSpan, Scenario, ScenarioModel } from "../domain/types";
import { decodeOrThrow, readJson } from "./decode";
import { dataError, joinJsonPath, listNames, showValue } from "./errors";
import { PhasedScenarioJson, ScenarioJson, ScenarioListJson } from "./schemas";
import type { PhaseJson, ScenarioModelJson } from "./schemas";
import { DataError } from "./errors";
import { MAX_MODELS_PER_SCENARIO } from "./limits";
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
  decodeScenarios(readJson(path), path, dataset.models, dataset.scenarios);

/** Validates a parsed scenario file value of either format. */
export const decodeScenarios = (
  json: unknown,
  file: string,
  models: ReadonlyMap<string, Model>,
  known: ReadonlyMap<string, Scenario> = new Map(),
): ReadonlyArray<Scenario> => {
  if (isObject(json) && "scenarios" in json) {
    const list = decodeOrThrow(ScenarioListJson, json, file);
    const earlier = new Map(known);
    const scenarios = list.scenarios.map((raw, i) => {
      const scenario = toScenario(decodeEntry(raw, file, `scenarios[${i}]`), file, `scenarios[${i}]`, models, earlier);
      earlier.set(scenario.name, scenario);
      return scenario;
    });
    checkUniqueScenarioNames(scenarios, file);
    return scenarios;
  }
  if (!isObject(json)) {
    throw dataError(file, "(root)", "an object (one scenario, or { scenarios: [...] })", showValue(json));
  }
  return [toScenario(decodeEntry(json, file, ""), file, "", models, known)];
};

/** Decodes one scenario of either form (phases or models), with error paths under `base`. */
const decodeEntry = (json: unknown, file: string, base: string): ScenarioJson | PhasedScenarioJson => {
  const phased = isObject(json) && "phases" in json;
  try {
    return phased ? decodeOrThrow(PhasedScenarioJson, json, file) : decodeOrThrow(ScenarioJson, json, file);
  } catch (e) {
    if (base === "" || !(e instanceof DataError)) throw e;
    const under = (path: string) => (path === "" || path === "(root)" ? base : path.startsWith("[") ? `${base}${path}` : `${base}.${path}`);
    throw new DataError({
      file: e.file,
      path: under(e.path),
      expected: e.expected,
      actual: e.actual,
      more: e.more.map((m) => ({ ...m, path: under(m.path) })),
    });
  }
};

/** Semantic checks of a scenario built in code (errors are labelled `scenario '<name>'`). */
export const checkScenario = (scenario: Scenario, models: ReadonlyMap<string, Model>): void => {
  if (scenario.models.length > MAX_MODELS_PER_SCENARIO) {
    throw dataError(`scenario '${scenario.name}'`, "models", `at most ${MAX_MODELS_PER_SCENARIO} models (the models-per-scenario limit)`, `${scenario.models.length} models`);
  }
  checkScenarioModels(scenario.models, models, `scenario '${scenario.name}'`, "", scenario.models.map(() => DOMAIN_KEYS));
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const toScenario = (
  json: ScenarioJson | PhasedScenarioJson,
  file: string,
  base: string,
  models: ReadonlyMap<string, Model>,
  known: ReadonlyMap<string, Scenario>,
): Scenario => {
  if ("phases" in json) {
    return phasedScenario(json.name, json.description ?? `dynamic scenario (${file})`, json.phases, file, base, models, known);
  }
  const scenario: Scenario = {
    name: json.name,
    description: json.description ?? describeScenario(json, file),
    models: checkedEntries(json.models, file, base, models, "scenario"),
  };
  return scenario;
};

/** The entries of one list (`<base>.models`), each checked at its own path in the file. */
const checkedEntries = (
  list: ReadonlyArray<ScenarioModelJson>,
  file: string,
  base: string,
  models: ReadonlyMap<string, Model>,
  scope: Scope,
): ReadonlyArray<ScenarioModel> => {
  const entries = list.map((entry, i) => toScenarioModel(entry, file, joinJsonPath(base, "models", i)));
  checkScenarioModels(entries, models, file, base, list.map(entryKeys), scope);
  checkDynamics(entries, models, file, base);
  return entries;
};

/**
 * A dynamic scenario from its phases: each phase runs the models of a named scenario or its own
 * list during [from_ms, to_ms); a model that appears in several phases is one task active in
 * several intervals (model, cascade parents and trigger probability must agree).
 */
const phasedScenario = (
  name: string,
  description: string,
  phases: ReadonlyArray<PhaseJson>,
  file: string,
  base: string,
  models: ReadonlyMap<string, Model>,
  known: ReadonlyMap<string, Scenario>,
): Scenario => {
  const merged = new Map<string, { entry: ScenarioModel; active: ActiveInterval[]; at: string }>();
  const spans: PhaseSpan[] = [];
  let previousEnd = 0;
  phases.forEach((phase, p) => {
    const at = joinJsonPath(base, "phases", p);
    const toMs = phase.to_ms ?? null;
    if (phase.from_ms < previousEnd) {
      throw dataError(file, joinJsonPath(at, "from_ms"), `a start at or after the previous phase's end (${previousEnd} ms)`, showValue(phase.from_ms));
    }
    if (toMs !== null && toMs <= phase.from_ms) {
      throw dataError(file, joinJsonPath(at, "to_ms"), `an end after the phase's start (${phase.from_ms} ms)`, showValue(toMs));
    }
    if (toMs === null && p !== phases.length - 1) {
      throw dataError(file, joinJsonPath(at, "to_ms"), "an end time (only the last phase may run to the end of the run)", MISSING);
    }
    previousEnd = toMs ?? Number.POSITIVE_INFINITY;
    let entries: ReadonlyArray<ScenarioModel>;
    if ((phase.scenario === undefined) === (phase.models === undefined)) {
      throw dataError(file, at, "exactly one of scenario (a scenario name) or models (a list)", phase.scenario === undefined ? "neither" : "both");
    }
    if (phase.scenario !== undefined) {
      const ref = known.get(phase.scenario);
      if (ref === undefined) {
        throw dataError(file, joinJsonPath(at, "scenario"), `a known scenario (${listNames(known.keys())})`, showValue(phase.scenario));
      }
      if (ref.phases !== undefined) throw dataError(file, joinJsonPath(at, "scenario"), "a scenario without phases", showValue(phase.scenario));
      entries = ref.models;
    } else {
      // the phase's own list: checked on its own (parents must be models of the same phase)
      entries = checkedEntries(phase.models!, file, at, models, "phase");
    }
    spans.push({ name: phase.name ?? phase.scenario ?? `phase${p}`, fromMs: phase.from_ms, toMs });
    entries.forEach((entry, i) => {
      const entryAt = phase.models === undefined ? joinJsonPath(at, "scenario") : joinJsonPath(at, "models", i);
      const interval: ActiveInterval = { fromMs: phase.from_ms, toMs, fps: entry.fps };
      const seen = merged.get(entry.name);
      if (seen === undefined) {
        merged.set(entry.name, { entry, active: [interval], at: entryAt });
        return;
      }
      const same =
        seen.entry.model === entry.model &&
        seen.entry.probability === entry.probability &&
        seen.entry.dependsOn.join(",") === entry.dependsOn.join(",");
      if (!same) {
        throw dataError(file, entryAt, `model ${entry.name} with the same model, dependency and probability as in ${seen.at}`, "a different definition");
      }
      // one task has one list of exits and skips for the whole run: a phase may not redefine them
      if (dynamicsKey(seen.entry) !== dynamicsKey(entry)) {
        throw dataError(file, entryAt, `model ${entry.name} with the same early exits and skipped layers as in ${seen.at}`, "a different definition");
      }
      const last = seen.active[seen.active.length - 1]!;
      if (last.toMs === phase.from_ms && last.fps === entry.fps) seen.active[seen.active.length - 1] = { ...last, toMs };
      else seen.active.push(interval);
    });
  });
  if (merged.size > MAX_MODELS_PER_SCENARIO) {
    throw dataError(file, joinJsonPath(base, "phases"), `at most ${MAX_MODELS_PER_SCENARIO} models over all phases (the models-per-scenario limit)`, `${merged.size} models`);
  }
  return {
    name,
    description,
    phases: spans,
    models: [...merged.values()].map(({ entry, active }) => ({ ...entry, fps: active[0]!.fps, active })),
  };
};

/** Exits and skips compared regardless of their order in the list (an absent list = an empty one). */
const dynamicsKey = (entry: ScenarioModel): string => {
  const exits = [...(entry.exits ?? [])].map((x) => [x.afterLayer, x.probability]).sort(byNumbers);
  const skips = [...(entry.skips ?? [])].map((x) => [x.fromLayer, x.toLayer, x.probability]).sort(byNumbers);
  return JSON.stringify({ exits, skips });
};

const byNumbers = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
};

/**
 * Early exits and skips name layers of the model, with probabilities in [0, 1]; skips do not
 * overlap. Entries are those of the list `<base>.models`; errors name exits and skips by their
 * index in the file.
 */
const checkDynamics = (entries: ReadonlyArray<ScenarioModel>, models: ReadonlyMap<string, Model>, file: string, base: string): void => {
  entries.forEach((entry, i) => {
    const layers = models.get(entry.model)?.layers.length ?? 0;
    const at = (...keys: Array<string | number>) => joinJsonPath(base, "models", i, ...keys);
    (entry.exits ?? []).forEach((exit, e) => {
      if (exit.afterLayer >= layers - 1) {
        throw dataError(file, at("exits", e, "after_layer"), `a layer index below the model's last layer (${layers - 1}) of ${entry.model}`, showValue(exit.afterLayer));
      }
    });
    const skips = entry.skips ?? [];
    skips.forEach((skip, k) => {
      if (skip.toLayer < skip.fromLayer || skip.toLayer >= layers) {
        throw dataError(file, at("skips", k, "to_layer"), `a layer index in [from_layer, ${layers - 1}] of ${entry.model}`, showValue(skip.toLayer));
      }
    });
    // overlaps in layer order; k stays the skip's index in the file
    let end = -1;
    [...skips.keys()].sort((a, b) => skips[a]!.fromLayer - skips[b]!.fromLayer).forEach((k) => {
      const skip = skips[k]!;
      if (skip.fromLayer <= end) throw dataError(file, at("skips", k, "from_layer"), "skipped ranges that do not overlap", showValue(skip.fromLayer));
      end = Math.max(end, skip.toLayer);
    });
  });
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
    ...(entry.exits === undefined ? {} : { exits: entry.exits.map((x) => ({ afterLayer: x.after_layer, probability: x.probability })) }),
    ...(entry.skips === undefined
      ? {}
      : { skips: entry.skips.map((x) => ({ fromLayer: x.from_layer, toLayer: x.to_layer, probability: x.probability })) }),
  };
};

/** Where a list of entries lives: a scenario's `models`, or one phase's own `models`. */
type Scope = "scenario" | "phase";

const checkScenarioModels = (
  entries: ReadonlyArray<ScenarioModel>,
  models: ReadonlyMap<string, Model>,
  file: string,
  base: string,
  keys: ReadonlyArray<EntryKeys>,
  scope: Scope = "scenario",
): void => {
  const at = (i: number, field: keyof EntryKeys, ...more: number[]) =>
    joinJsonPath(base, "models", i, keys[i]?.[field] ?? DOMAIN_KEYS[field], ...more);
  const firstIndex = new Map<string, number>();
  entries.forEach((entry, i) => {
    const earlier = firstIndex.get(entry.name);
    if (earlier !== undefined) {
      throw dataError(file, at(i, "name"), `a name not used by another model of the ${scope} (models[${earlier}] has it)`, showValue(entry.name));
    }
    firstIndex.set(entry.name, i);
    if (!models.has(entry.model)) {
      throw dataError(file, at(i, "model"), `a known model (${listNames(models.keys())})`, showValue(entry.model));
    }
  });
  entries.forEach((entry, i) => {
    entry.dependsOn.forEach((parent, d) => {
      if (entry.dependsOn.indexOf(parent) !== d) {
        throw dataError(file, at(i, "dependency", d), `each parent once (dependency[${entry.dependsOn.indexOf(parent)}] names it)`, showValue(parent));
      }
      if (parent === entry.name) {
        throw dataError(file, at(i, "dependency", d), `another model of the ${scope} (a model cannot depend on itself)`, showValue(parent));
      }
      if (!firstIndex.has(parent)) {
        throw dataError(file, at(i, "dependency", d), `a model of the ${scope} (${listNames(firstIndex.keys())})`, showValue(parent));
      }
    });
  });
  const cycle = findCycle(entries);
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
