/**
 * The built-in XRBench dataset (shared/data/xrbench, loaded once per process and memoised) and
 * the ways to extend it with user data: models, hardware configs, per-layer cost CSVs and
 * scenarios, each validated against the dataset it extends. Datasets are immutable; every
 * `with*` returns a new one.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HardwareConfig, Model, Scenario } from "../domain/types";
import { dropModelCosts, mergeCostTables, parseCostCsv, readCostCsv } from "./costs";
import type { CostTable } from "./costs";
import { readJson, readText } from "./decode";
import { dataError, showValue } from "./errors";
import { decodeDataflowSets, decodeHardware, loadHardwareFile } from "./hardware";
import { decodeModel, loadModelFile } from "./models";
import { checkScenario, decodeScenarios, loadScenarioFile } from "./scenarios";
import { MAX_ACCELERATORS } from "./limits";
import type { Dataset } from "./types";

/** Absolute path of the built-in data directory (shared/data/xrbench). */
export const builtinDataDir = (): string => fileURLToPath(new URL("../../data/xrbench/", import.meta.url));

const BUILTIN_LABEL = "shared/data/xrbench";

let builtin: Dataset | undefined;
let builtinSource: (() => Dataset) | undefined;

/** The XRBench dataset: 11 models, 11 scenarios, the hardware configs and the MAESTRO cost table. */
export const loadBuiltinDataset = (): Dataset => {
  builtin ??= builtinSource?.() ?? readBuiltinSources();
  return builtin;
};

/** The built-in dataset decoded and checked from its sources in shared/data (what the prebuilt JSON is made of). */
export const readBuiltinSources = (): Dataset => readBuiltinDataset(builtinDataDir());

/**
 * Where `loadBuiltinDataset` takes the dataset from: by default the sources in shared/data; the
 * built `sdrm3` command sets its prebuilt JSON (data/prebuilt.ts), which parses in milliseconds.
 */
export const setBuiltinDatasetSource = (load: () => Dataset): void => {
  builtinSource = load;
  builtin = undefined;
};

const readBuiltinDataset = (dir: string): Dataset => {
  const label = (file: string) => `${BUILTIN_LABEL}/${file}`;
  const models = readModelDir(join(dir, "models"), label("models"));
  const hardware = decodeHardware(readJson(join(dir, "hardware.json"), label("hardware.json")), label("hardware.json"));
  const dataflowSets = decodeDataflowSets(
    readJson(join(dir, "dataflows.json"), label("dataflows.json")),
    label("dataflows.json"),
  );
  const costFile = label("layer_costs_maestro.csv");
  const costs = parseCostCsv(readText(join(dir, "layer_costs_maestro.csv"), costFile), costFile, models);
  const scenarioFile = label("scenarios.json");
  const scenarios = decodeScenarios(readJson(join(dir, "scenarios.json"), scenarioFile), scenarioFile, models);
  const known = new Map(scenarios.map((scenario) => [scenario.name, scenario]));
  const dynamicFile = "shared/data/dynamic/scenarios.json";
  const dynamic = decodeScenarios(readJson(join(dir, "../dynamic/scenarios.json"), dynamicFile), dynamicFile, models, known);
  return {
    models,
    scenarios: new Map([...scenarios, ...dynamic].map((scenario) => [scenario.name, scenario])),
    hardwareConfigs: new Map(orderConfigs(hardware).map((config) => [config.name, config])),
    costs,
    dataflowSets,
  };
};

/** Configs XRBench sweeps first (single, dual, quad), then the unused ones; by name within a group. */
const orderConfigs = (configs: ReadonlyArray<HardwareConfig>): HardwareConfig[] => {
  const rank = (group: string) => {
    const index = GROUP_ORDER.indexOf(group);
    return index < 0 ? GROUP_ORDER.length : index;
  };
  return [...configs].sort((a, b) => rank(a.group) - rank(b.group) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
};

const GROUP_ORDER = ["single", "dual", "quad"];

const readModelDir = (dir: string, label: string): Map<string, Model> => {
  const models = new Map<string, Model>();
  const files = readdirSync(dir)
    .filter((file) => file.endsWith(".json"))
    .sort();
  for (const file of files) {
    const fileLabel = `${label}/${file}`;
    const model = decodeModel(readJson(join(dir, file), fileLabel), fileLabel);
    if (models.has(model.name)) throw dataError(fileLabel, "name", "a model name not used by another file", showValue(model.name));
    models.set(model.name, model);
  }
  return models;
};

// ---- user files -------------------------------------------------------------------------------

/** Reads a per-layer cost CSV (header as layer_costs_maestro.csv), rows checked against the dataset's models. */
export const loadCostCsv = (path: string, dataset: Dataset): CostTable => readCostCsv(path, path, dataset.models);

/** User data files to add to a dataset; see extendDataset. */
export interface UserDataFiles {
  readonly models?: ReadonlyArray<string>;
  readonly hardware?: ReadonlyArray<string>;
  readonly costs?: ReadonlyArray<string>;
  readonly scenarios?: ReadonlyArray<string>;
}

/**
 * Loads user files into a dataset, in dependency order: models, hardware configs, cost CSVs (rows
 * checked against the models so far), scenarios (checked against the models so far). Later files
 * replace earlier entries of the same name; cost rows override per (model, layer, class).
 */
export const extendDataset = (dataset: Dataset, files: UserDataFiles): Dataset => {
  let result = dataset;
  for (const path of files.models ?? []) result = withModel(result, loadModelFile(path));
  for (const path of files.hardware ?? []) result = withHardwareConfig(result, ...loadHardwareFile(path));
  for (const path of files.costs ?? []) result = withCosts(result, loadCostCsv(path, result));
  for (const path of files.scenarios ?? []) result = withScenario(result, ...loadScenarioFile(path, result));
  return result;
};

/**
 * Adds or replaces models. A replaced model whose layers differ loses its costs (add new ones
 * with withCosts); scenarios keep referring to it by name.
 */
export const withModel = (dataset: Dataset, ...models: ReadonlyArray<Model>): Dataset => {
  const next = new Map(dataset.models);
  let costs = dataset.costs;
  for (const model of models) {
    const previous = next.get(model.name);
    if (previous !== undefined && !sameLayers(previous, model)) costs = dropModelCosts(costs, model.name);
    next.set(model.name, model);
  }
  return { ...dataset, models: next, costs };
};

const sameLayers = (a: Model, b: Model): boolean =>
  a.layers.length === b.layers.length &&
  a.layers.every((layer, i) => {
    const other = b.layers[i];
    return (
      other !== undefined &&
      layer.name === other.name &&
      layer.N === other.N &&
      layer.K === other.K &&
      layer.C === other.C &&
      layer.Y === other.Y &&
      layer.X === other.X &&
      layer.R === other.R &&
      layer.S === other.S &&
      layer.stride === other.stride
    );
  });

/** Adds or replaces scenarios, checked against the dataset's models. */
export const withScenario = (dataset: Dataset, ...scenarios: ReadonlyArray<Scenario>): Dataset => {
  const next = new Map(dataset.scenarios);
  for (const scenario of scenarios) {
    checkScenario(scenario, dataset.models);
    next.set(scenario.name, scenario);
  }
  return { ...dataset, scenarios: next };
};

/** Adds or replaces hardware configs. */
export const withHardwareConfig = (dataset: Dataset, ...configs: ReadonlyArray<HardwareConfig>): Dataset => {
  const next = new Map(dataset.hardwareConfigs);
  for (const config of configs) {
    const label = `hardware config '${config.name}'`;
    if (config.slots.length === 0) throw dataError(label, "slots", "at least one sub-accelerator", "0");
    if (config.slots.length > MAX_ACCELERATORS) {
      throw dataError(label, "slots", `at most ${MAX_ACCELERATORS} sub-accelerators (the accelerators-per-hardware limit)`, `${config.slots.length} sub-accelerators`);
    }
    config.slots.forEach((slot, i) => {
      if (!(Number.isInteger(slot.numPes) && slot.numPes > 0)) {
        throw dataError(label, `slots[${i}].numPes`, "a positive integer", showValue(slot.numPes));
      }
    });
    next.set(config.name, config);
  }
  return { ...dataset, hardwareConfigs: next };
};

/** The dataset's costs with every cost of `table` added or overriding (per model, layer and class). */
export const withCosts = (dataset: Dataset, table: CostTable): Dataset => {
  for (const model of table.models()) {
    const known = dataset.models.get(model);
    if (known === undefined || known.layers.length !== table.layerCount(model)) {
      throw dataError(
        "<cost table>",
        model,
        known === undefined ? "a model of the dataset" : `${known.layers.length} layers`,
        known === undefined ? "an unknown model" : `costs laid out for ${table.layerCount(model)} layers`,
      );
    }
  }
  return { ...dataset, costs: mergeCostTables(dataset.costs, table) };
};
