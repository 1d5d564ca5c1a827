/**
 * Cost resolution with an explicit analytical fallback (docs/cost-model.md).
 *
 * `resolveModelCosts` is strict: every layer needs a table cost on every accelerator class. The
 * resolvers here do the same by default, and with `{ analytical: true }` fill the gaps — user
 * hardware with other PE counts or NoC bandwidths (Quad_2K's 512-PE accelerators,
 * Dual_16K_BigLittle's 12576-PE one), user models without a cost CSV — from the analytical model
 * (shared/src/domain/cost-model.ts), and say so: the result lists every (model, class) pair that
 * is not entirely from the table, with how many layers were anchored or purely analytical.
 *
 * Per layer and class, in this order:
 *   table       the table's cost of the layer on the class;
 *   anchored    (option anchor, default on) the table's cost of the same layer on the nearest class
 *               of the same dataflow (smallest |ln PEs ratio| + 2 |ln NoC-bandwidth ratio|:
 *               anchoring across bandwidths did worst in leave-one-class-out, so the same
 *               bandwidth wins unless the PE counts differ by more than 4×; ties: the table's
 *               class order) ×
 *               analytical(class) / analytical(that class), for cycles and energy separately —
 *               this keeps the table's layer-specific quirks, which the analytical model does not
 *               capture (leave-one-class-out error typically 3–6× smaller than the analytical model
 *               alone, see docs/cost-model.md);
 *   analytical  analyticalLayerCost of the layer on the class.
 */
import { analyticalLayerCost, COST_MODEL_CONSTANTS, parseCostClass } from "../domain/cost-model";
import type { CostModelConstants } from "../domain/cost-model";
import { DATAFLOWS } from "../domain/types";
import type { AcceleratorSpec, Hardware, Layer, LayerCost, Model, ModelCosts, Scenario } from "../domain/types";
import { costClassName } from "./costs";
import type { CostTable } from "./costs";
import { resolveHardware } from "./hardware";
import { dataError } from "./errors";
import { findModel } from "./lookup";
import { checkIdealEnergy, resolveModelCosts } from "./model-costs";
import type { Dataset } from "./types";

export interface CostFallbackOptions {
  /** Fill costs the table lacks with the analytical model. Default false: strict, as resolveModelCosts. */
  readonly analytical?: boolean;
  /** Scale the same layer's table cost from the nearest class of the same dataflow. Default true. */
  readonly anchor?: boolean;
  /** Analytical constants; default the calibrated COST_MODEL_CONSTANTS. */
  readonly constants?: CostModelConstants;
}

export type CostSource = "table" | "anchored" | "analytical";

/** A (model, class) pair whose costs are not all from the table. */
export interface FallbackCostUse {
  /** Canonical model name. */
  readonly model: string;
  readonly costClass: string;
  /** Accelerators of the hardware with this class. */
  readonly accelerators: ReadonlyArray<string>;
  /** Layers of the model, and how many of them are anchored / purely analytical (the rest: table). */
  readonly layers: number;
  readonly anchored: number;
  readonly analytical: number;
  /** Classes the anchored layers were scaled from. */
  readonly anchorClasses: ReadonlyArray<string>;
}

export interface ResolvedModelCosts {
  /** As resolveModelCosts: per scenario model name. */
  readonly costs: ReadonlyMap<string, ModelCosts>;
  /** Every (model, class) pair not entirely from the table; empty when the table covered everything. */
  readonly fallback: ReadonlyArray<FallbackCostUse>;
}

export interface ResolvedHardware {
  readonly hardware: Hardware;
  /** Cost classes of the hardware that the table does not have at all (costs will be analytical). */
  readonly analyticalClasses: ReadonlyArray<string>;
}

/**
 * As resolveHardware, but with `{ analytical: true }` an accelerator whose cost class the table
 * lacks is accepted (its costs will come from the fallback); such classes are listed.
 */
export const resolveHardwareWithFallback = (
  dataset: Dataset,
  spec: string,
  options: CostFallbackOptions = {},
): ResolvedHardware => {
  if (options.analytical !== true) return { hardware: resolveHardware(dataset, spec), analyticalClasses: [] };
  const slash = spec.indexOf("/");
  const config = slash < 0 ? undefined : dataset.hardwareConfigs.get(spec.slice(0, slash));
  const known = new Set(dataset.costs.classes);
  const extra = new Set<string>();
  for (const slot of config?.slots ?? []) {
    for (const dataflow of DATAFLOWS) {
      const costClass = costClassName(dataflow, slot.numPes, slot.nocBw);
      if (!known.has(costClass)) extra.add(costClass);
    }
  }
  const hardware = resolveHardware({ ...dataset, costs: withExtraClasses(dataset.costs, [...extra]) }, spec);
  const analyticalClasses = unique(hardware.accelerators.map((acc) => acc.costClass).filter((c) => !known.has(c)));
  return { hardware, analyticalClasses };
};

/** A view of `table` that also reports `extra` classes (with no costs) — for hardware resolution only. */
const withExtraClasses = (table: CostTable, extra: ReadonlyArray<string>): CostTable => ({
  classes: [...table.classes, ...extra],
  get: (model, layerIndex, costClass) => table.get(model, layerIndex, costClass),
  models: () => table.models(),
  layerCount: (model) => table.layerCount(model),
});

/**
 * As resolveModelCosts (strict, same errors) unless `{ analytical: true }`: then missing costs are
 * anchored or analytical, and `fallback` lists every (model, class) pair concerned.
 */
export const resolveModelCostsWithFallback = (
  dataset: Dataset,
  scenario: Scenario,
  hardware: Hardware,
  options: CostFallbackOptions = {},
): ResolvedModelCosts => {
  if (options.analytical !== true) return { costs: resolveModelCosts(dataset, scenario, hardware), fallback: [] };
  const byCanonical = new Map<string, ModelCosts>();
  const costs = new Map<string, ModelCosts>();
  const fallback: FallbackCostUse[] = [];
  for (const entry of scenario.models) {
    let resolved = byCanonical.get(entry.model);
    if (resolved === undefined) {
      const result = modelCostsWithFallback(dataset, findModel(dataset, entry.model), hardware, options);
      resolved = result.costs;
      fallback.push(...result.fallback);
      byCanonical.set(entry.model, resolved);
    }
    costs.set(entry.name, resolved);
  }
  return { costs, fallback };
};

/**
 * Dense costs of one model (any Model; its table costs are looked up by its name) on `hardware`,
 * with the fallback of `options`. Strict unless `analytical`: a missing cost is a DataError worded
 * as resolveModelCosts words it.
 */
export const modelCostsWithFallback = (
  dataset: Dataset,
  model: Model,
  hardware: Hardware,
  options: CostFallbackOptions = {},
): { readonly costs: ModelCosts; readonly fallback: ReadonlyArray<FallbackCostUse> } => {
  const layerCount = model.layers.length;
  const cycles: Float64Array[] = [];
  const latencyMs: Float64Array[] = [];
  const energyMJ: Float64Array[] = [];
  const uses = new Map<string, { accelerators: string[]; anchored: number; analytical: number; anchors: Set<string> }>();
  const perClass = new Map<string, { sources: CostSource[]; costs: LayerCost[]; anchors: Set<string> }>();
  for (const accelerator of hardware.accelerators) {
    let resolved = perClass.get(accelerator.costClass);
    if (resolved === undefined) {
      const sources: CostSource[] = [];
      const costs: LayerCost[] = [];
      const anchors = new Set<string>();
      for (const layer of model.layers) {
        const found = layerCostWithFallback(dataset, model.name, layer, accelerator, options);
        if (found === undefined) {
          throw dataError(
            "<cost table>",
            `${model.name} layers[${layer.index}] (${layer.name})`,
            `a cost on ${accelerator.id} (class ${accelerator.costClass}) of ${hardware.name}`,
            "none",
          );
        }
        sources.push(found.source);
        costs.push(found.cost);
        if (found.anchorClass !== undefined) anchors.add(found.anchorClass);
      }
      resolved = { sources, costs, anchors };
      perClass.set(accelerator.costClass, resolved);
    }
    const accCycles = new Float64Array(layerCount);
    const accLatency = new Float64Array(layerCount);
    const accEnergy = new Float64Array(layerCount);
    resolved.costs.forEach((cost, i) => {
      accCycles[i] = cost.cycles;
      accLatency[i] = cost.cycles / 1e6;
      accEnergy[i] = cost.energyNJ / 1e6;
    });
    cycles.push(accCycles);
    latencyMs.push(accLatency);
    energyMJ.push(accEnergy);
    const anchored = resolved.sources.filter((s) => s === "anchored").length;
    const analytical = resolved.sources.filter((s) => s === "analytical").length;
    if (anchored + analytical > 0) {
      const use = uses.get(accelerator.costClass) ?? { accelerators: [], anchored, analytical, anchors: resolved.anchors };
      use.accelerators.push(accelerator.id);
      uses.set(accelerator.costClass, use);
    }
  }
  const fallback = [...uses].map(
    ([costClass, use]): FallbackCostUse => ({
      model: model.name,
      costClass,
      accelerators: use.accelerators,
      layers: layerCount,
      anchored: use.anchored,
      analytical: use.analytical,
      anchorClasses: [...use.anchors].sort(),
    }),
  );
  const costs = { model: model.name, layerCount, cycles, latencyMs, energyMJ };
  checkIdealEnergy(costs, model.name, hardware);
  return { costs, fallback };
};

/**
 * One layer's cost on one accelerator: from the table, or — with `{ analytical: true }` — anchored
 * or analytical (see the module comment); undefined when strict and the table has none.
 */
export const layerCostWithFallback = (
  dataset: Dataset,
  modelName: string,
  layer: Layer,
  accelerator: Pick<AcceleratorSpec, "dataflow" | "numPes" | "nocBw" | "costClass">,
  options: CostFallbackOptions = {},
): { readonly cost: LayerCost; readonly source: CostSource; readonly anchorClass?: string } | undefined => {
  const table = dataset.costs.get(modelName, layer.index, accelerator.costClass);
  if (table !== undefined) return { cost: table, source: "table" };
  if (options.analytical !== true) return undefined;
  const constants = options.constants ?? COST_MODEL_CONSTANTS;
  const target = analyticalLayerCost(layer, accelerator.dataflow, accelerator.numPes, accelerator.nocBw, constants);
  if (options.anchor !== false) {
    const anchor = nearestAnchor(dataset.costs, modelName, layer.index, accelerator);
    if (anchor !== undefined) {
      const at = analyticalLayerCost(layer, accelerator.dataflow, anchor.numPes, anchor.nocBw, constants);
      return {
        cost: { cycles: anchor.cost.cycles * ratio(target.cycles, at.cycles), energyNJ: anchor.cost.energyNJ * ratio(target.energyNJ, at.energyNJ) },
        source: "anchored",
        anchorClass: anchor.costClass,
      };
    }
  }
  return { cost: target, source: "analytical" };
};

const ratio = (a: number, b: number): number => (b > 0 && Number.isFinite(a / b) ? a / b : 1);

const nearestAnchor = (
  table: CostTable,
  model: string,
  layerIndex: number,
  accelerator: Pick<AcceleratorSpec, "dataflow" | "numPes" | "nocBw">,
): { costClass: string; numPes: number; nocBw: number; cost: LayerCost } | undefined => {
  let best: { costClass: string; numPes: number; nocBw: number; cost: LayerCost; distance: number } | undefined;
  for (const costClass of table.classes) {
    const spec = parseCostClass(costClass);
    if (spec === undefined || spec.dataflow !== accelerator.dataflow) continue;
    const cost = table.get(model, layerIndex, costClass);
    if (cost === undefined) continue;
    const distance =
      Math.abs(Math.log(accelerator.numPes / spec.numPes)) + 2 * Math.abs(Math.log(accelerator.nocBw / spec.nocBw));
    if (best === undefined || distance < best.distance - 1e-12) best = { costClass, ...spec, cost, distance };
  }
  return best;
};

/** One line per fallback use, for printing beside a run's results. */
export const describeFallback = (fallback: ReadonlyArray<FallbackCostUse>): string[] =>
  fallback.map((use) => {
    const parts = [
      use.anchored > 0 ? `${use.anchored} anchored (table cost scaled from ${use.anchorClasses.join(", ")})` : "",
      use.analytical > 0 ? `${use.analytical} analytical` : "",
    ].filter((part) => part !== "");
    const count = use.anchored + use.analytical;
    return `${use.model} on ${use.costClass} (${use.accelerators.join(", ")}): ${count} of ${use.layers} layers not from the cost table: ${parts.join(", ")}`;
  });

const unique = <A>(values: ReadonlyArray<A>): A[] => [...new Set(values)];
