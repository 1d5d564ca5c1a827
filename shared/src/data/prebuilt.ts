/**
 * The built-in dataset in one JSON document that parses fast: the `sdrm3` command's build
 * (services/cli/build.mjs) writes it from the sources in shared/data (decoded and checked as
 * usual), and the built command reads it instead of decoding 11 model files, the scenario files
 * and a 1301-row cost CSV on every start (docs/performance.md, "Start-up"). The cost table is
 * stored as dense arrays (null = no cost). A test holds the file equal to the sources.
 */
import type { Dataflow, HardwareConfig, Model, Scenario } from "../domain/types";
import { costColumns, costTableFromColumns } from "./costs";
import type { Dataset } from "./types";

/** Bumped when the document's shape changes; a document of another version is refused. */
export const PREBUILT_DATASET_VERSION = 1;

interface PrebuiltCosts {
  readonly classes: ReadonlyArray<string>;
  readonly models: ReadonlyArray<{
    readonly model: string;
    readonly layerCount: number;
    readonly classes: ReadonlyArray<{ readonly costClass: string; readonly cycles: ReadonlyArray<number | null>; readonly energyNJ: ReadonlyArray<number | null> }>;
  }>;
}

interface PrebuiltDataset {
  readonly version: number;
  readonly models: ReadonlyArray<Model>;
  readonly scenarios: ReadonlyArray<Scenario>;
  readonly hardwareConfigs: ReadonlyArray<HardwareConfig>;
  readonly dataflowSets: ReadonlyArray<readonly [string, ReadonlyArray<ReadonlyArray<Dataflow>>]>;
  readonly costs: PrebuiltCosts;
}

const toJsonArray = (values: Float64Array): Array<number | null> => Array.from(values, (v) => (Number.isNaN(v) ? null : v));
/** A plain loop: `Float64Array.from` with a map function costs a call per value (≈ 10 ms of every start). */
const fromJsonArray = (values: ReadonlyArray<number | null>): Float64Array => {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v === null || v === undefined ? Number.NaN : v;
  }
  return out;
};

/** The dataset as the prebuilt JSON document (deterministic: same dataset, same bytes). */
export const datasetToJson = (ds: Dataset): string => {
  const doc: PrebuiltDataset = {
    version: PREBUILT_DATASET_VERSION,
    models: [...ds.models.values()],
    scenarios: [...ds.scenarios.values()],
    hardwareConfigs: [...ds.hardwareConfigs.values()],
    dataflowSets: [...ds.dataflowSets.entries()],
    costs: {
      classes: ds.costs.classes,
      models: costColumns(ds.costs).map((m) => ({
        model: m.model,
        layerCount: m.layerCount,
        classes: m.classes.map((c) => ({ costClass: c.costClass, cycles: toJsonArray(c.cycles), energyNJ: toJsonArray(c.energyNJ) })),
      })),
    },
  };
  return JSON.stringify(doc);
};

/** The dataset of a prebuilt JSON document written by `datasetToJson` from the same version. */
export const datasetFromJson = (text: string, file: string): Dataset => {
  const doc = JSON.parse(text) as PrebuiltDataset;
  if (doc.version !== PREBUILT_DATASET_VERSION) {
    throw new Error(`${file}: prebuilt dataset version ${String(doc.version)}, this build reads ${PREBUILT_DATASET_VERSION}; rebuild with \`npm run build\``);
  }
  return {
    models: new Map(doc.models.map((m) => [m.name, m])),
    scenarios: new Map(doc.scenarios.map((s) => [s.name, s])),
    hardwareConfigs: new Map(doc.hardwareConfigs.map((c) => [c.name, c])),
    dataflowSets: new Map(doc.dataflowSets),
    costs: costTableFromColumns(
      doc.costs.classes,
      doc.costs.models.map((m) => ({
        model: m.model,
        layerCount: m.layerCount,
        classes: m.classes.map((c) => ({ costClass: c.costClass, cycles: fromJsonArray(c.cycles), energyNJ: fromJsonArray(c.energyNJ) })),
      })),
    ),
  };
};
