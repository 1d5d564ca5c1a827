/**
 * Name lookups in a Dataset. An unknown name is an UnknownNameError whose message lists the valid
 * names, ready to print: "unknown scenario 'X'; valid: AR_Assistant, AR_gaming, …".
 */
import type { HardwareConfig, Model, Scenario } from "../domain/types";
import { UnknownNameError } from "./errors";
import type { Dataset } from "./types";

const find = <A>(map: ReadonlyMap<string, A>, kind: string, name: string): A => {
  const found = map.get(name);
  if (found === undefined) throw new UnknownNameError({ kind, name, valid: [...map.keys()] });
  return found;
};

export const findScenario = (dataset: Dataset, name: string): Scenario => find(dataset.scenarios, "scenario", name);

export const findModel = (dataset: Dataset, name: string): Model => find(dataset.models, "model", name);

export const findHardware = (dataset: Dataset, name: string): HardwareConfig =>
  find(dataset.hardwareConfigs, "hardware config", name);
