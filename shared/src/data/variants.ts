/**
 * Supernet variants (DESIGN.md §5, docs/cost-model.md): width-scaled sub-networks of an XRBench
 * model, each with a relative accuracy, and their per-layer costs.
 *
 * Derivation: a variant of width w (0 < w ≤ 1) scales every layer's output channels K and input
 * channels C to max(1, round(w · n)) — or, with `roundTo` = d > 1, to a multiple of d:
 * min(n, max(d, d · round(w · n / d))) — except the first layer's C (the model's input channels, as
 * the layer list writes them) and the last layer's K (its output classes / channels), which stay.
 * XRBench layer lists carry no graph, so "first" and "last" are positional: heads that are not the
 * list's last layer are scaled like any layer, and a concatenation's C may differ by one from the
 * sum of its scaled inputs. The ×1.0 variant has the model's layers unchanged.
 *
 * Accuracy: the caller gives one relative accuracy (accuracy / the full model's accuracy) per
 * width; nothing is assumed silently. MOBILENET_V1_RELATIVE_ACCURACY and
 * DEFAULT_SUPERNET_ACCURACIES are an assumption offered for convenience: the width-multiplier
 * curve of MobileNet v1 on ImageNet (Howard et al. 2017, arXiv:1704.04861, Table 6: top-1 70.6 %
 * at ×1.0, 68.4 % at ×0.75, 63.7 % at ×0.5, 50.6 % at ×0.25), applied to XRBench's tasks, which
 * were never measured this way.
 *
 * Costs (variantCosts): the table has no rows for variant layers, so a variant's layer cost on a
 * class is the table cost of the full model's layer times analytical(variant layer) /
 * analytical(full layer) on that class (cycles and energy separately; the analytical model of
 * shared/src/domain/cost-model.ts). The ×1.0 variant therefore equals the table exactly, and a
 * narrower variant keeps the table's layer-specific level while the analytical model supplies how
 * cost scales with channels (including the dataflows' 16/4-channel tile quantisation).
 */
import { analyticalLayerCost, COST_MODEL_CONSTANTS } from "../domain/cost-model";
import type { Hardware, Layer, Model, ModelCosts, RunVariant, Scenario } from "../domain/types";
import { dataError, joinJsonPath, showValue } from "./errors";
import { layerCostWithFallback } from "./fallback-costs";
import type { CostFallbackOptions, FallbackCostUse } from "./fallback-costs";
import { findModel } from "./lookup";
import { layerMacs } from "./models";
import type { Dataset } from "./types";

/** A sub-network of a supernet model. */
export interface ModelVariant {
  /** Variant name, `x<width>` (e.g. `x0.75`) unless given. */
  readonly name: string;
  /** The full model's name (its table costs are the base of the variant's). */
  readonly base: string;
  /** Channel width multiplier in (0, 1]. */
  readonly width: number;
  /** Accuracy relative to the full model, in (0, 1]. */
  readonly accuracy: number;
  /** The scaled model, named `<base>@<name>` (layer names and indices as the base's). */
  readonly model: Model;
}

export interface SupernetVariantSpec {
  readonly width: number;
  readonly accuracy: number;
  readonly name?: string;
}

/** A supernet: a model of the dataset and its variants; e.g. from a user JSON file (decodeSupernetSpec). */
export interface SupernetSpec {
  readonly model: string;
  readonly variants: ReadonlyArray<SupernetVariantSpec>;
  /** Round scaled channel counts to multiples of this (default 1). */
  readonly roundTo?: number;
}

/** Relative ImageNet top-1 of MobileNet v1 by width multiplier (Howard et al. 2017, Table 6). An assumption for other tasks. */
export const MOBILENET_V1_RELATIVE_ACCURACY: ReadonlyArray<{ readonly width: number; readonly accuracy: number }> = [
  { width: 1, accuracy: 1 },
  { width: 0.75, accuracy: 68.4 / 70.6 },
  { width: 0.5, accuracy: 63.7 / 70.6 },
  { width: 0.25, accuracy: 50.6 / 70.6 },
];

/** The default supernet widths ×1.0, ×0.75, ×0.5 … */
export const DEFAULT_SUPERNET_WIDTHS: ReadonlyArray<number> = [1, 0.75, 0.5];
/** … and their relative accuracies from MOBILENET_V1_RELATIVE_ACCURACY (1, 0.969, 0.902; an assumption). */
export const DEFAULT_SUPERNET_ACCURACIES: ReadonlyArray<number> = [1, 68.4 / 70.6, 63.7 / 70.6];

/**
 * Relative accuracy at `width` by linear interpolation of MOBILENET_V1_RELATIVE_ACCURACY (an
 * assumption; defined for widths in [0.25, 1]).
 */
export const mobileNetV1RelativeAccuracy = (width: number): number => {
  const points = [...MOBILENET_V1_RELATIVE_ACCURACY].sort((a, b) => a.width - b.width);
  const lowest = points[0];
  if (lowest === undefined || !(width >= lowest.width && width <= 1)) {
    throw new RangeError(`width: expected a number in [${lowest?.width ?? 0}, 1], got ${width}`);
  }
  for (let i = 1; i < points.length; i++) {
    const lo = points[i - 1];
    const hi = points[i];
    if (lo !== undefined && hi !== undefined && width <= hi.width) {
      return lo.accuracy + ((width - lo.width) / (hi.width - lo.width)) * (hi.accuracy - lo.accuracy);
    }
  }
  return 1;
};

const LABEL = (model: string) => `supernet '${model}'`;

/**
 * The variants of `model` at `widths`, with `accuracies[i]` the relative accuracy of `widths[i]`.
 * DataError (file `supernet '<model>'`) on: no width, a width outside (0, 1], a repeated width, a
 * missing accuracy or one outside (0, 1], more accuracies than widths, a bad roundTo.
 */
export const deriveVariants = (
  model: Model,
  widths: ReadonlyArray<number>,
  accuracies: ReadonlyArray<number | undefined>,
  options: { readonly roundTo?: number; readonly names?: ReadonlyArray<string | undefined> } = {},
): ModelVariant[] => {
  const label = LABEL(model.name);
  if (widths.length === 0) throw dataError(label, "widths", "at least one width", "none");
  if (accuracies.length > widths.length) {
    throw dataError(label, `accuracies[${widths.length}]`, `one accuracy per width (${widths.length} widths)`, showValue(accuracies[widths.length]));
  }
  return deriveChecked(
    model,
    widths.map((width, i) => ({ width, accuracy: accuracies[i], name: options.names?.[i] })),
    options.roundTo,
    (i, field) => (field === "width" ? `widths[${i}]` : field === "accuracy" ? `accuracies[${i}]` : `names[${i}]`),
  );
};

/** The variants of a supernet spec's model (looked up in `dataset`); errors name `variants[i].<field>`. */
export const deriveSupernet = (dataset: Dataset, spec: SupernetSpec): ModelVariant[] =>
  deriveSupernetAs(dataset, spec, LABEL(spec.model));

const deriveSupernetAs = (dataset: Dataset, spec: SupernetSpec, label: string): ModelVariant[] => {
  const model = findModel(dataset, spec.model);
  if (spec.variants.length === 0) throw dataError(label, "variants", "at least one variant", "none");
  return deriveChecked(model, spec.variants, spec.roundTo, (i, field) => joinJsonPath("variants", i, field), label);
};

/**
 * Validates a parsed supernet JSON value: `{ "model": "<name>", "roundTo"?: d, "variants": [ {
 * "width": 0.75, "accuracy": 0.97, "name"?: "..." }, … ] }`; `file` names it in errors. The model
 * must exist in `dataset`; the variants are checked as deriveSupernet checks them.
 */
export const decodeSupernetSpec = (json: unknown, file: string, dataset: Dataset): SupernetSpec => {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw dataError(file, "(root)", "an object { model, variants: [...] }", showValue(json));
  }
  const record = json as Record<string, unknown>;
  const model = record["model"];
  if (typeof model !== "string" || !dataset.models.has(model)) {
    throw dataError(file, "model", `the name of a model of the dataset (${[...dataset.models.keys()].join(", ")})`, showValue(model));
  }
  const variants = record["variants"];
  if (!Array.isArray(variants) || variants.length === 0) {
    throw dataError(file, "variants", "a non-empty list of { width, accuracy }", showValue(variants));
  }
  const roundTo = record["roundTo"];
  const parsed: SupernetVariantSpec[] = variants.map((entry: unknown, i) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw dataError(file, joinJsonPath("variants", i), "an object { width, accuracy, name? }", showValue(entry));
    }
    const v = entry as Record<string, unknown>;
    const name = v["name"];
    if (name !== undefined && typeof name !== "string") throw dataError(file, joinJsonPath("variants", i, "name"), "a string", showValue(name));
    return { width: v["width"] as number, accuracy: v["accuracy"] as number, ...(name === undefined ? {} : { name }) };
  });
  const spec: SupernetSpec = { model, variants: parsed, ...(roundTo === undefined ? {} : { roundTo: roundTo as number }) };
  deriveSupernetAs(dataset, spec, file);
  return spec;
};

type Field = "width" | "accuracy" | "name";

const deriveChecked = (
  model: Model,
  entries: ReadonlyArray<{ readonly width: unknown; readonly accuracy: unknown; readonly name?: string | undefined }>,
  roundTo: unknown,
  at: (index: number, field: Field) => string,
  label: string = LABEL(model.name),
): ModelVariant[] => {
  if (roundTo !== undefined && !(typeof roundTo === "number" && Number.isInteger(roundTo) && roundTo >= 1)) {
    throw dataError(label, "roundTo", "a positive integer", showValue(roundTo));
  }
  const seenWidth = new Map<number, number>();
  const seenName = new Map<string, number>();
  return entries.map((entry, i) => {
    const { width, accuracy } = entry;
    if (typeof width !== "number" || !(width > 0 && width <= 1)) {
      throw dataError(label, at(i, "width"), "a width in (0, 1]", showValue(width));
    }
    const earlier = seenWidth.get(width);
    if (earlier !== undefined) {
      throw dataError(label, at(i, "width"), `a width no other variant has (${at(earlier, "width")} is ${width})`, showValue(width));
    }
    seenWidth.set(width, i);
    if (typeof accuracy !== "number" || !(accuracy > 0 && accuracy <= 1)) {
      throw dataError(label, at(i, "accuracy"), `a relative accuracy in (0, 1] for width ${width}`, showValue(accuracy));
    }
    const name = entry.name ?? `x${width}`;
    const earlierName = seenName.get(name);
    if (name === "" || earlierName !== undefined) {
      throw dataError(label, at(i, "name"), "a non-empty name no other variant has", showValue(name));
    }
    seenName.set(name, i);
    return {
      name,
      base: model.name,
      width,
      accuracy,
      model: { name: `${model.name}@${name}`, task: model.task, layers: scaleLayers(model.layers, width, roundTo ?? 1) },
    };
  });
};

const scaleLayers = (layers: ReadonlyArray<Layer>, width: number, roundTo: number): Layer[] => {
  if (width === 1) return [...layers];
  const last = layers.length - 1;
  return layers.map((layer, i) => {
    const K = i === last ? layer.K : scaleChannels(layer.K, width, roundTo);
    const C = i === 0 ? layer.C : scaleChannels(layer.C, width, roundTo);
    const scaled = { ...layer, K, C };
    return { ...scaled, macs: layerMacs(scaled) };
  });
};

/** max(1, round(w·n)), or with d > 1 a multiple of d: min(n, max(d, d·round(w·n/d))). */
export const scaleChannels = (channels: number, width: number, roundTo = 1): number => {
  if (roundTo <= 1) return Math.max(1, Math.round(channels * width));
  return Math.min(channels, Math.max(roundTo, roundTo * Math.round((channels * width) / roundTo)));
};

/**
 * Per-layer costs of a variant on every accelerator of `hardware`: the full model's table cost of
 * each layer × analytical(variant layer) / analytical(full layer) on the accelerator's class.
 * Strict: the full model needs a table cost on every class (DataError otherwise), unless
 * resolveVariantCosts is used with `{ analytical: true }`.
 */
export const variantCosts = (dataset: Dataset, variant: ModelVariant, hardware: Hardware): ModelCosts =>
  resolveVariantCosts(dataset, variant, hardware).costs;

/**
 * variantCosts with the fallback of `options` for the full model's costs (see fallback-costs.ts);
 * `fallback` lists the (full model, class) pairs whose base costs were anchored or analytical.
 */
export const resolveVariantCosts = (
  dataset: Dataset,
  variant: ModelVariant,
  hardware: Hardware,
  options: CostFallbackOptions = {},
): { readonly costs: ModelCosts; readonly fallback: ReadonlyArray<FallbackCostUse> } => {
  const base = findModel(dataset, variant.base);
  if (base.layers.length !== variant.model.layers.length) {
    throw dataError(LABEL(variant.base), `variant ${variant.name}`, `${base.layers.length} layers (as the model)`, `${variant.model.layers.length}`);
  }
  const constants = options.constants ?? COST_MODEL_CONSTANTS;
  const layerCount = base.layers.length;
  const cycles: Float64Array[] = [];
  const latencyMs: Float64Array[] = [];
  const energyMJ: Float64Array[] = [];
  const uses = new Map<string, { accelerators: string[]; anchored: number; analytical: number; anchors: Set<string> }>();
  for (const accelerator of hardware.accelerators) {
    const accCycles = new Float64Array(layerCount);
    const accEnergy = new Float64Array(layerCount);
    let anchored = 0;
    let analytical = 0;
    const anchors = new Set<string>();
    base.layers.forEach((layer, i) => {
      const found = layerCostWithFallback(dataset, base.name, layer, accelerator, options);
      if (found === undefined) {
        throw dataError(
          "<cost table>",
          `${base.name} layers[${layer.index}] (${layer.name})`,
          `a cost on ${accelerator.id} (class ${accelerator.costClass}) of ${hardware.name} (needed by variant ${variant.name})`,
          "none",
        );
      }
      if (found.source === "anchored") anchored++;
      if (found.source === "analytical") analytical++;
      if (found.anchorClass !== undefined) anchors.add(found.anchorClass);
      const scaled = variant.model.layers[i] as Layer;
      let cycles = found.cost.cycles;
      let energy = found.cost.energyNJ;
      if (scaled !== layer) {
        const full = analyticalLayerCost(layer, accelerator.dataflow, accelerator.numPes, accelerator.nocBw, constants);
        const part = analyticalLayerCost(scaled, accelerator.dataflow, accelerator.numPes, accelerator.nocBw, constants);
        cycles *= ratio(part.cycles, full.cycles);
        energy *= ratio(part.energyNJ, full.energyNJ);
      }
      accCycles[i] = cycles;
      accEnergy[i] = energy;
    });
    cycles.push(accCycles);
    latencyMs.push(accCycles.map((c) => c / 1e6));
    energyMJ.push(accEnergy.map((e) => e / 1e6));
    if (anchored + analytical > 0) {
      const use = uses.get(accelerator.costClass) ?? { accelerators: [], anchored, analytical, anchors };
      use.accelerators.push(accelerator.id);
      uses.set(accelerator.costClass, use);
    }
  }
  const fallback = [...uses].map(
    ([costClass, use]): FallbackCostUse => ({
      model: base.name,
      costClass,
      accelerators: use.accelerators,
      layers: layerCount,
      anchored: use.anchored,
      analytical: use.analytical,
      anchorClasses: [...use.anchors].sort(),
    }),
  );
  return { costs: { model: variant.model.name, layerCount, cycles, latencyMs, energyMJ }, fallback };
};

const ratio = (a: number, b: number): number => (b > 0 && Number.isFinite(a / b) ? a / b : 1);

/**
 * The supernet variants a run with `--supernet on` gives every model of `scenario` (DESIGN.md §5,
 * docs/supernets.md): widths DEFAULT_SUPERNET_WIDTHS (×1.0, ×0.75, ×0.5) with
 * DEFAULT_SUPERNET_ACCURACIES (the MobileNet v1 assumption), costs on `hardware` by variantCosts
 * (strict: the full model needs table costs). Keyed by scenario model name; index 0 is the full
 * model, whose costs are `fullCosts`' entry when given (the table exactly, as resolveModelCosts
 * resolved it), else variantCosts of the ×1.0 variant (equal to the table).
 */
export const scenarioVariants = (
  dataset: Dataset,
  scenario: Scenario,
  hardware: Hardware,
  fullCosts?: ReadonlyMap<string, ModelCosts>,
  options: { readonly widths?: ReadonlyArray<number>; readonly accuracies?: ReadonlyArray<number>; readonly fallback?: CostFallbackOptions } = {},
): Map<string, RunVariant[]> => {
  const widths = options.widths ?? DEFAULT_SUPERNET_WIDTHS;
  const accuracies = options.accuracies ?? DEFAULT_SUPERNET_ACCURACIES;
  if (widths[0] !== 1) throw dataError("supernet", "widths[0]", "1 (index 0 is the full model)", showValue(widths[0]));
  const byCanonical = new Map<string, RunVariant[]>();
  const out = new Map<string, RunVariant[]>();
  for (const entry of scenario.models) {
    let variants = byCanonical.get(entry.model);
    if (variants === undefined) {
      const derived = deriveVariants(findModel(dataset, entry.model), widths, accuracies);
      variants = derived.map((v, i) => ({
        width: v.width,
        accuracy: v.accuracy,
        costs: (i === 0 ? fullCosts?.get(entry.name) : undefined) ?? resolveVariantCosts(dataset, v, hardware, options.fallback ?? {}).costs,
      }));
      byCanonical.set(entry.model, variants);
    }
    out.set(entry.name, variants);
  }
  return out;
};
