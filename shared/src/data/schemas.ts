/**
 * Effect Schemas of the JSON data files: models/<MODEL>.json, scenarios.json (or one scenario),
 * hardware.json (or one config) and dataflows.json. They describe the encoded (file) shape only;
 * extra fields (source notes, derived values) are ignored. Mapping to domain types and the
 * semantic checks that need more than one field live in the per-kind loader modules.
 */
import { Schema } from "effect";

const filtered = (predicate: (n: number) => boolean, description: string) =>
  Schema.Number.pipe(Schema.filter(predicate, { description }));

export const PositiveInt = filtered((n) => Number.isInteger(n) && n > 0, "a positive integer");
export const NonNegativeInt = filtered((n) => Number.isInteger(n) && n >= 0, "a non-negative integer");
export const PositiveNumber = filtered((n) => Number.isFinite(n) && n > 0, "a positive number");
export const Probability = filtered((n) => n > 0 && n <= 1, "a probability in (0, 1]");
export const UnitInterval = filtered((n) => n >= 0 && n <= 1, "a probability in [0, 1]");
export const NonNegativeNumber = filtered((n) => Number.isFinite(n) && n >= 0, "a non-negative number");
export const Name = Schema.String.pipe(
  Schema.filter((s) => s.trim() !== "" && s === s.trim(), {
    description: "a non-empty name without surrounding spaces",
  }),
);

// ---- models/<MODEL>.json ----------------------------------------------------------------------

export const LayerJson = Schema.Struct({
  index: Schema.optional(NonNegativeInt),
  name: Schema.optional(Schema.String),
  type: Schema.optional(Schema.String),
  N: Schema.optional(PositiveInt),
  K: PositiveInt,
  C: PositiveInt,
  Y: PositiveInt,
  X: PositiveInt,
  R: PositiveInt,
  S: PositiveInt,
  stride: Schema.optional(PositiveInt),
  derived_macs: Schema.optional(NonNegativeInt),
});
export type LayerJson = typeof LayerJson.Type;

export const ModelJson = Schema.Struct({
  name: Name,
  task: Schema.optional(Schema.String),
  layers: Schema.Array(LayerJson).pipe(
    Schema.filter((layers) => layers.length > 0, { description: "a non-empty list of layers" }),
  ),
});
export type ModelJson = typeof ModelJson.Type;

// ---- scenarios.json / one scenario ------------------------------------------------------------

export const ScenarioModelJson = Schema.Struct({
  name_in_file: Schema.optional(Name),
  name: Schema.optional(Name),
  model: Schema.optional(Name),
  target_fps: Schema.optional(PositiveNumber),
  fps: Schema.optional(PositiveNumber),
  dependency: Schema.optional(Schema.Array(Name)),
  probability_effective: Schema.optional(Probability),
  probability: Schema.optional(Probability),
  probability_in_file: Schema.optional(Schema.NullOr(Probability)),
  /** Early exits: after layer i the job ends with probability q. */
  exits: Schema.optional(Schema.Array(Schema.Struct({ after_layer: NonNegativeInt, probability: UnitInterval }))),
  /** Skippable layers from..to (inclusive), executed with probability q. */
  skips: Schema.optional(
    Schema.Array(Schema.Struct({ from_layer: NonNegativeInt, to_layer: NonNegativeInt, probability: UnitInterval })),
  ),
});
export type ScenarioModelJson = typeof ScenarioModelJson.Type;

/** One phase of a dynamic scenario: a time window running another scenario's models or its own. */
export const PhaseJson = Schema.Struct({
  name: Schema.optional(Name),
  from_ms: NonNegativeNumber,
  to_ms: Schema.optional(PositiveNumber),
  scenario: Schema.optional(Name),
  models: Schema.optional(Schema.Array(ScenarioModelJson)),
});
export type PhaseJson = typeof PhaseJson.Type;

export const ScenarioJson = Schema.Struct({
  name: Name,
  kind: Schema.optional(Schema.String),
  source_file: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  models: Schema.Array(ScenarioModelJson).pipe(
    Schema.filter((models) => models.length > 0, { description: "a non-empty list of models" }),
  ),
});
export type ScenarioJson = typeof ScenarioJson.Type;

/** A dynamic scenario: phases instead of one list of models. */
export const PhasedScenarioJson = Schema.Struct({
  name: Name,
  description: Schema.optional(Schema.String),
  phases: Schema.Array(PhaseJson).pipe(
    Schema.filter((phases) => phases.length > 0, { description: "a non-empty list of phases" }),
  ),
});
export type PhasedScenarioJson = typeof PhasedScenarioJson.Type;

/** Either form, told apart by the presence of `phases`. */
export const AnyScenarioJson = Schema.Union(PhasedScenarioJson, ScenarioJson);

export const ScenarioListJson = Schema.Struct({ scenarios: Schema.Array(Schema.Unknown) });

// ---- hardware.json / one config ---------------------------------------------------------------

export const SubAcceleratorJson = Schema.Struct({
  index: Schema.optional(NonNegativeInt),
  name: Schema.optional(Name),
  num_pes: PositiveInt,
  top_noc_bw: PositiveInt,
});
export type SubAcceleratorJson = typeof SubAcceleratorJson.Type;

export const HardwareConfigJson = Schema.Struct({
  name: Name,
  group: Schema.optional(Name),
  sub_accelerators: Schema.Array(SubAcceleratorJson).pipe(
    Schema.filter((slots) => slots.length > 0, { description: "at least one sub-accelerator" }),
  ),
});
export type HardwareConfigJson = typeof HardwareConfigJson.Type;

export const HardwareListJson = Schema.Struct({ configs: Schema.Array(HardwareConfigJson) });

// ---- dataflows.json (only what the pairing rule needs) ----------------------------------------

export const DataflowName = Schema.Literal("WS", "OS", "RS").annotations({ description: "WS, OS or RS" });

export const DataflowFilesJson = Schema.Struct({
  files: Schema.Array(
    Schema.Struct({
      file: Schema.String,
      group: Schema.String,
      dataflows: Schema.Array(Schema.Struct({ index: NonNegativeInt, style_from_file_name: DataflowName })),
    }),
  ),
});
