/**
 * Hardware: configurations (hardware.json `{ configs: [...] }` or one config
 * `{ name, group?, sub_accelerators: [{ index?, name?, num_pes, top_noc_bw }] }`), the XRBench
 * pairing of configs with dataflow combinations, and resolution of a hardware spec
 * "<config>/<DF>_<DF>…" (one dataflow per slot, e.g. "Dual_4K/WS_OS") into accelerators
 * acc0, acc1, … with their cost class `<DF>_<num_pes>pe_bw<top_noc_bw>`.
 */
import { DATAFLOWS } from "../domain/types";
import type { AcceleratorSlot, AcceleratorSpec, Dataflow, Hardware, HardwareConfig } from "../domain/types";
import { costClassName } from "./costs";
import { decodeOrThrow, readJson } from "./decode";
import { dataError, joinJsonPath, listNames, showValue } from "./errors";
import { findHardware } from "./lookup";
import { DataflowFilesJson, HardwareConfigJson, HardwareListJson } from "./schemas";
import type { Dataset } from "./types";

/** Groups whose configs XRBench sweeps, in the order listHardware reports them. */
const SWEPT_GROUPS = ["single", "dual", "quad"];

/** Reads a hardware file (either format). */
export const loadHardwareFile = (path: string): ReadonlyArray<HardwareConfig> => decodeHardware(readJson(path), path);

/** Validates a parsed hardware file value of either format. */
export const decodeHardware = (json: unknown, file: string): ReadonlyArray<HardwareConfig> => {
  if (typeof json === "object" && json !== null && !Array.isArray(json) && "configs" in json) {
    const list = decodeOrThrow(HardwareListJson, json, file);
    const configs = list.configs.map((config, i) => toConfig(config, file, `configs[${i}]`));
    checkUniqueConfigNames(configs, file);
    return configs;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw dataError(file, "(root)", "an object (one hardware config, or { configs: [...] })", showValue(json));
  }
  return [toConfig(decodeOrThrow(HardwareConfigJson, json, file), file, "")];
};

const toConfig = (json: HardwareConfigJson, file: string, base: string): HardwareConfig => {
  const slots = json.sub_accelerators.map((slot, position): AcceleratorSlot => ({
    index: slot.index ?? position,
    name: slot.name ?? `Acc${slot.index ?? position}`,
    numPes: slot.num_pes,
    nocBw: slot.top_noc_bw,
  }));
  slots.forEach((slot, position) => {
    if (slot.index !== position) {
      throw dataError(
        file,
        joinJsonPath(base, "sub_accelerators", position, "index"),
        `${position} (indices must be 0, 1, … in list order)`,
        String(slot.index),
      );
    }
  });
  return { name: json.name, group: json.group ?? "user", slots };
};

const checkUniqueConfigNames = (configs: ReadonlyArray<HardwareConfig>, file: string): void => {
  const seen = new Map<string, number>();
  configs.forEach((config, i) => {
    const earlier = seen.get(config.name);
    if (earlier !== undefined) {
      throw dataError(file, `configs[${i}].name`, `a name not used by another config of the file (configs[${earlier}] has it)`, showValue(config.name));
    }
    seen.set(config.name, i);
  });
};

/** Dataflow combinations per group, from dataflows.json's `files` (dataflows/<group>/<DF_DF>.m). */
export const decodeDataflowSets = (
  json: unknown,
  file: string,
): ReadonlyMap<string, ReadonlyArray<ReadonlyArray<Dataflow>>> => {
  const decoded = decodeOrThrow(DataflowFilesJson, json, file, [], "ignore");
  const sets = new Map<string, Dataflow[][]>();
  for (const entry of decoded.files) {
    if (!SWEPT_GROUPS.includes(entry.group)) continue;
    const ordered = [...entry.dataflows].sort((a, b) => a.index - b.index);
    const list = sets.get(entry.group) ?? [];
    list.push(ordered.map((dataflow) => dataflow.style_from_file_name));
    sets.set(entry.group, list);
  }
  return sets;
};

/**
 * Every hardware spec XRBench runs: each config of group single/dual/quad with every dataflow
 * combination of its group, e.g. "Single_4K/WS", "Dual_4K/WS_OS", "Quad_8K/WS_OS_WS_OS".
 * Ordered by group (single, dual, quad), then config name, then dataflow file name.
 */
export const listHardware = (dataset: Dataset): string[] => {
  const specs: string[] = [];
  for (const group of SWEPT_GROUPS) {
    const configs = [...dataset.hardwareConfigs.values()]
      .filter((config) => config.group === group)
      .sort((a, b) => compareText(a.name, b.name));
    const combos = dataset.dataflowSets.get(group) ?? [];
    for (const config of configs) {
      for (const combo of combos) {
        if (combo.length === config.slots.length) specs.push(`${config.name}/${combo.join("_")}`);
      }
    }
  }
  return specs;
};

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Binds a dataflow to every slot of a config: "<config>/<DF>_<DF>…". Checks the dataflow count and
 * names, and that every accelerator's cost class exists in the dataset's cost table.
 */
export const resolveHardware = (dataset: Dataset, spec: string): Hardware => {
  const label = `hardware '${spec}'`;
  const slash = spec.indexOf("/");
  if (slash < 0) {
    throw dataError(label, "", "<config>/<DF>_<DF>… with one dataflow per sub-accelerator (e.g. Dual_4K/WS_OS)", showValue(spec));
  }
  const config = findHardware(dataset, spec.slice(0, slash));
  const dataflows = parseDataflows(spec.slice(slash + 1), config, label);
  const accelerators = config.slots.map((slot, i): AcceleratorSpec => {
    const dataflow = dataflows[i] as Dataflow;
    return { ...slot, id: `acc${i}`, dataflow, costClass: costClassName(dataflow, slot.numPes, slot.nocBw) };
  });
  for (const accelerator of accelerators) {
    if (!dataset.costs.classes.includes(accelerator.costClass)) {
      throw dataError(
        label,
        `${accelerator.id} (${accelerator.name}, ${accelerator.numPes} PEs, NoC ${accelerator.nocBw})`,
        `a cost class of the cost table (${listNames(dataset.costs.classes)})`,
        accelerator.costClass,
      );
    }
  }
  return { name: `${config.name}/${dataflows.join("_")}`, config: config.name, dataflows, accelerators };
};

const parseDataflows = (text: string, config: HardwareConfig, label: string): Dataflow[] => {
  const parts = text.split("_");
  if (parts.length !== config.slots.length) {
    throw dataError(
      label,
      "dataflows",
      `${config.slots.length} dataflow(s) joined by '_' (one per sub-accelerator of ${config.name})`,
      `${parts.length} (${showValue(text)})`,
    );
  }
  return parts.map((part, i) => {
    const dataflow = DATAFLOWS.find((candidate) => candidate === part);
    if (dataflow === undefined) {
      throw dataError(label, `dataflows[${i}]`, listNames(DATAFLOWS).replace(/, (\w+)$/, " or $1"), showValue(part));
    }
    return dataflow;
  });
};
