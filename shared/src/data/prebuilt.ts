/**
 * The built-in dataset in one file that loads without parsing its numbers: the `sdrm3` command's
 * build (services/cli/build.mjs) writes it from the sources in shared/data (decoded and checked as
 * usual), and the built command reads it instead of decoding 11 model files, the scenario files
 * and a 1301-row cost CSV on every start (docs/performance.md, "Start-up"). A test holds the file
 * equal to the sources.
 *
 * Layout (little-endian): a uint32 with the byte length of a JSON head (models, scenarios, hardware,
 * dataflow sets and the cost table's index), the head, spaces up to the next multiple of 8 bytes,
 * then the cost table's dense columns as float64 (NaN = no cost), which the loaded table views in
 * place. Before, the columns were JSON arrays: parsing them and copying them into Float64Arrays was
 * about a fifth of a short run's start-up work.
 */
import type { Dataflow, HardwareConfig, Model, Scenario } from "../domain/types";
import { costColumns, costTableFromColumns } from "./costs";
import type { Dataset } from "./types";

/** Bumped when the file's layout changes; a file of another version is refused. */
export const PREBUILT_DATASET_VERSION = 2;

/** Where a class's columns are: `cycles` at float64 index `at`, `energyNJ` right after it (layerCount values each). */
interface PrebuiltCosts {
  readonly classes: ReadonlyArray<string>;
  readonly models: ReadonlyArray<{
    readonly model: string;
    readonly layerCount: number;
    readonly classes: ReadonlyArray<{ readonly costClass: string; readonly at: number }>;
  }>;
  /** Number of float64 values after the head. */
  readonly values: number;
}

interface PrebuiltHead {
  readonly version: number;
  readonly models: ReadonlyArray<Model>;
  readonly scenarios: ReadonlyArray<Scenario>;
  readonly hardwareConfigs: ReadonlyArray<HardwareConfig>;
  readonly dataflowSets: ReadonlyArray<readonly [string, ReadonlyArray<ReadonlyArray<Dataflow>>]>;
  readonly costs: PrebuiltCosts;
}

const LENGTH_BYTES = 4;
const ALIGN = 8;

/** The dataset as the prebuilt file (deterministic: same dataset, same bytes). */
export const datasetToPrebuilt = (ds: Dataset): Uint8Array => {
  const columns = costColumns(ds.costs);
  let values = 0;
  const models = columns.map((m) => ({
    model: m.model,
    layerCount: m.layerCount,
    classes: m.classes.map((c) => {
      const at = values;
      values += 2 * m.layerCount;
      return { costClass: c.costClass, at };
    }),
  }));
  const head: PrebuiltHead = {
    version: PREBUILT_DATASET_VERSION,
    models: [...ds.models.values()],
    scenarios: [...ds.scenarios.values()],
    hardwareConfigs: [...ds.hardwareConfigs.values()],
    dataflowSets: [...ds.dataflowSets.entries()],
    costs: { classes: ds.costs.classes, models, values },
  };
  const json = new TextEncoder().encode(JSON.stringify(head));
  const start = Math.ceil((LENGTH_BYTES + json.length) / ALIGN) * ALIGN;
  const out = new Uint8Array(start + 8 * values).fill(0x20);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  out.set(json, LENGTH_BYTES);
  let offset = start;
  for (const m of columns) {
    for (const c of m.classes) {
      for (const column of [c.cycles, c.energyNJ]) {
        for (const v of column) {
          view.setFloat64(offset, v, true);
          offset += 8;
        }
      }
    }
  }
  return out;
};

/** Whether this machine stores a float64 little-endian, as the file does (1.0's sign and exponent byte last). */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/** The float64 values from byte `start` of `bytes`, viewed in place when aligned on a little-endian machine. */
const float64s = (bytes: Uint8Array, start: number, count: number): Float64Array => {
  const at = bytes.byteOffset + start;
  if (at % ALIGN === 0 && LITTLE_ENDIAN) return new Float64Array(bytes.buffer, at, count);
  const view = new DataView(bytes.buffer, at, 8 * count);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
};

/** The dataset of a prebuilt file written by `datasetToPrebuilt` of the same version; `file` names it in errors. */
export const datasetFromPrebuilt = (bytes: Uint8Array, file: string): Dataset => {
  const refuse = (what: string): never => {
    throw new Error(`${file}: ${what}; rebuild with \`npm run build\``);
  };
  if (bytes.length < LENGTH_BYTES) refuse("not a prebuilt dataset (too short)");
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, LENGTH_BYTES).getUint32(0, true);
  if (LENGTH_BYTES + headLength > bytes.length) refuse("not a prebuilt dataset (its head runs past the end)");
  let head: PrebuiltHead;
  try {
    head = JSON.parse(new TextDecoder().decode(bytes.subarray(LENGTH_BYTES, LENGTH_BYTES + headLength))) as PrebuiltHead;
  } catch {
    return refuse("not a prebuilt dataset (its head is not JSON)");
  }
  if (head.version !== PREBUILT_DATASET_VERSION) refuse(`prebuilt dataset version ${String(head.version)}, this build reads ${PREBUILT_DATASET_VERSION}`);
  const start = Math.ceil((LENGTH_BYTES + headLength) / ALIGN) * ALIGN;
  if (start + 8 * head.costs.values !== bytes.length) refuse(`prebuilt dataset of ${bytes.length} bytes, its head says ${start + 8 * head.costs.values}`);
  const values = float64s(bytes, start, head.costs.values);
  return {
    models: new Map(head.models.map((m) => [m.name, m])),
    scenarios: new Map(head.scenarios.map((s) => [s.name, s])),
    hardwareConfigs: new Map(head.hardwareConfigs.map((c) => [c.name, c])),
    dataflowSets: new Map(head.dataflowSets),
    costs: costTableFromColumns(
      head.costs.classes,
      head.costs.models.map((m) => ({
        model: m.model,
        layerCount: m.layerCount,
        classes: m.classes.map((c) => ({
          costClass: c.costClass,
          cycles: values.subarray(c.at, c.at + m.layerCount),
          energyNJ: values.subarray(c.at + m.layerCount, c.at + 2 * m.layerCount),
        })),
      })),
    ),
  };
};
