/**
 * Dense per-layer costs of a scenario's models on a resolved hardware: for every scenario model
 * (keyed by its scenario name), cycles / latencyMs (= cycles / 1e6 at 1 GHz) / energyMJ
 * (= nJ / 1e6, XRBench's "mJ") indexed [accelerator index][layer index]. Every layer must have a
 * cost on every accelerator's class.
 */
import type { Hardware, ModelCosts, Scenario } from "../domain/types";
import { dataError } from "./errors";
import { findModel } from "./lookup";
import type { Dataset } from "./types";

const COST_TABLE_LABEL = "<cost table>";

/** Costs of every model of `scenario` on every accelerator of `hardware`. */
export const resolveModelCosts = (
  dataset: Dataset,
  scenario: Scenario,
  hardware: Hardware,
): ReadonlyMap<string, ModelCosts> => {
  const byCanonical = new Map<string, ModelCosts>();
  const result = new Map<string, ModelCosts>();
  for (const entry of scenario.models) {
    let costs = byCanonical.get(entry.model);
    if (costs === undefined) {
      costs = modelCosts(dataset, entry.model, hardware, entry.name);
      byCanonical.set(entry.model, costs);
    }
    result.set(entry.name, costs);
  }
  return result;
};

const modelCosts = (dataset: Dataset, modelName: string, hardware: Hardware, scenarioName: string): ModelCosts => {
  const model = findModel(dataset, modelName);
  const layerCount = model.layers.length;
  const cycles: Float64Array[] = [];
  const latencyMs: Float64Array[] = [];
  const energyMJ: Float64Array[] = [];
  for (const accelerator of hardware.accelerators) {
    const accCycles = new Float64Array(layerCount);
    const accLatency = new Float64Array(layerCount);
    const accEnergy = new Float64Array(layerCount);
    for (const layer of model.layers) {
      const cost = dataset.costs.get(model.name, layer.index, accelerator.costClass);
      if (cost === undefined) {
        const who = scenarioName === model.name ? model.name : `${scenarioName} (model ${model.name})`;
        throw dataError(
          COST_TABLE_LABEL,
          `${who} layers[${layer.index}] (${layer.name})`,
          `a cost on ${accelerator.id} (class ${accelerator.costClass}) of ${hardware.name}`,
          "none",
        );
      }
      accCycles[layer.index] = cost.cycles;
      accLatency[layer.index] = cost.cycles / 1e6;
      accEnergy[layer.index] = cost.energyNJ / 1e6;
    }
    cycles.push(accCycles);
    latencyMs.push(accLatency);
    energyMJ.push(accEnergy);
  }
  const costs = { model: model.name, layerCount, cycles, latencyMs, energyMJ };
  checkIdealEnergy(costs, scenarioName === model.name ? model.name : `${scenarioName} (model ${model.name})`, hardware);
  return costs;
};

/**
 * A model's ideal frame energy (each layer at its cheapest accelerator) must be positive: UXCost
 * divides by it, so costs that are all zero would leave every energy figure undefined.
 */
export const checkIdealEnergy = (costs: ModelCosts, who: string, hardware: Hardware): void => {
  let ideal = 0;
  for (let l = 0; l < costs.layerCount; l++) {
    let cheapest = Number.POSITIVE_INFINITY;
    for (const energy of costs.energyMJ) cheapest = Math.min(cheapest, energy[l]!);
    ideal += cheapest;
  }
  if (!(ideal > 0)) {
    throw dataError(
      COST_TABLE_LABEL,
      who,
      `a positive ideal frame energy on ${hardware.name} (some layer with energy above 0 on every accelerator)`,
      `${ideal} (every layer costs 0 nJ on some accelerator)`,
    );
  }
};
