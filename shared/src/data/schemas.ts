/**
 * Effect Schemas of the JSON data files: models/<MODEL>.json, scenarios.json (or one scenario),
 * hardware.json (or one config) and dataflows.json. They describe the encoded (file) shape only.
 * Files are exact: a field no schema names is refused (decodeOrThrow), so a misspelt field cannot
 * be ignored quietly. The provenance notes and derived values the XRBench files carry are named
 * (as `Note`, accepted and not used) so that those files, and copies of them, still load.
 * Sizes are bounded by the limits of ./limits. Mapping to domain types and the semantic checks
 * that need more than one field live in the per-kind loader modules.
 */
import { Schema } from "effect";
import { isValidToken } from "../contracts/subjects";
import { MAX_ACCELERATORS, MAX_FPS, MAX_LAYERS, MAX_MODELS_PER_SCENARIO, MAX_PHASES } from "./limits";

/**
 * Annotation of a limit refinement: how to show the refused value (`300 models` rather than the
 * list itself). Read by decodeOrThrow.
 */
export const ShowActual = Symbol.for("sdrm3/data/ShowActual");

/**
 * A list of at most `max` items; `what` names them ("models"), `limit` the limit. The length is
 * checked before any item is decoded, so an oversized list is refused at once.
 */
const atMost = <A, I>(item: Schema.Schema<A, I, never>, what: string, max: number, limit: string) =>
  Schema.compose(
    Schema.Array(Schema.Unknown).pipe(
      Schema.filter((items) => items.length <= max, {
        description: `at most ${max} ${what} (the ${limit} limit)`,
        [ShowActual]: (items: ReadonlyArray<unknown>) => `${items.length} ${what}`,
      }),
    ),
    Schema.Array(item),
    { strict: false },
  );

/** A list of at least one and at most `max` items; `nonEmpty` describes the first rule. */
const boundedList = <A, I>(item: Schema.Schema<A, I, never>, what: string, nonEmpty: string, max: number, limit: string) =>
  atMost(item, what, max, limit).pipe(Schema.filter((items) => items.length > 0, { description: nonEmpty }));

/** A documentation or derived field of the XRBench files: accepted, not used. */
const Note = Schema.optional(Schema.Unknown);

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

/**
 * A model name (a model file's name, a scenario entry's name and model): a task's name is a token
 * of its bus subject, so it must be one (checked here, at load, rather than when a run starts).
 */
export const ModelName = Schema.String.pipe(
  Schema.filter(isValidToken, { description: "a model name of 1-64 letters, digits, '_' or '-'" }),
);

/** A scenario name: `compare --scenarios` takes a comma-separated list of them. */
export const ScenarioName = Name.pipe(
  Schema.filter((s) => !s.includes(","), { description: "a scenario name without ','" }),
);

/** A hardware config name: a hardware spec is `<config>/<dataflows>` and compare lists are comma-separated. */
export const ConfigName = Name.pipe(
  Schema.filter((s) => !s.includes("/") && !s.includes(","), { description: "a hardware config name without '/' or ','" }),
);

/** Frames per second: positive, at most MAX_FPS. */
const Fps = PositiveNumber.pipe(
  Schema.filter((n) => n <= MAX_FPS, { description: `at most ${MAX_FPS} frames per second (the frames-per-second limit)` }),
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
  /** The layer's MACs as the domain Layer writes them (checked like derived_macs). */
  macs: Schema.optional(NonNegativeInt),
  derived_out_Y: Note,
  derived_out_X: Note,
});
export type LayerJson = typeof LayerJson.Type;

export const ModelJson = Schema.Struct({
  name: ModelName,
  task: Schema.optional(Schema.String),
  layers: boundedList(LayerJson, "layers", "a non-empty list of layers", MAX_LAYERS, "layers-per-model"),
  task_source: Note,
  source_repository: Note,
  source_commit: Note,
  source_files: Note,
  source_note: Note,
  aliases_in_source: Note,
  num_layers: Note,
  layer_type_counts: Note,
  kernel_size_counts: Note,
  total_derived_macs: Note,
  notes: Note,
});
export type ModelJson = typeof ModelJson.Type;

// ---- scenarios.json / one scenario ------------------------------------------------------------

export const ScenarioModelJson = Schema.Struct({
  name_in_file: Schema.optional(ModelName),
  name: Schema.optional(ModelName),
  model: Schema.optional(ModelName),
  target_fps: Schema.optional(Fps),
  fps: Schema.optional(Fps),
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
  runtime_inference_interval_ms: Note,
  num_layers: Note,
});
export type ScenarioModelJson = typeof ScenarioModelJson.Type;

/** One phase of a dynamic scenario: a time window running another scenario's models or its own. */
export const PhaseJson = Schema.Struct({
  name: Schema.optional(Name),
  from_ms: NonNegativeNumber,
  to_ms: Schema.optional(PositiveNumber),
  scenario: Schema.optional(Name),
  models: Schema.optional(atMost(ScenarioModelJson, "models", MAX_MODELS_PER_SCENARIO, "models-per-scenario")),
});
export type PhaseJson = typeof PhaseJson.Type;

export const ScenarioJson = Schema.Struct({
  name: ScenarioName,
  kind: Schema.optional(Schema.String),
  source_file: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  models: boundedList(ScenarioModelJson, "models", "a non-empty list of models", MAX_MODELS_PER_SCENARIO, "models-per-scenario"),
});
export type ScenarioJson = typeof ScenarioJson.Type;

/** A dynamic scenario: phases instead of one list of models. */
export const PhasedScenarioJson = Schema.Struct({
  name: ScenarioName,
  description: Schema.optional(Schema.String),
  phases: boundedList(PhaseJson, "phases", "a non-empty list of phases", MAX_PHASES, "phases-per-scenario"),
});
export type PhasedScenarioJson = typeof PhasedScenarioJson.Type;

/** Either form, told apart by the presence of `phases`. */
export const AnyScenarioJson = Schema.Union(PhasedScenarioJson, ScenarioJson);

/** A scenario list file; each entry is decoded on its own (either form). */
export const ScenarioListJson = Schema.Struct({
  scenarios: Schema.Array(Schema.Unknown),
  about: Note,
  source_repository: Note,
  source_commit: Note,
  field_meanings: Note,
  runtime_semantics_note: Note,
  "runtime_defaults_in_XRBench-MAESTRO.cpp": Note,
});

// ---- hardware.json / one config ---------------------------------------------------------------

export const SubAcceleratorJson = Schema.Struct({
  index: Schema.optional(NonNegativeInt),
  name: Schema.optional(Name),
  num_pes: PositiveInt,
  top_noc_bw: PositiveInt,
  offchip_bw: Note,
  top_noc_latency: Note,
  top_noc_multicast: Note,
  col_noc_bw: Note,
  col_noc_latency: Note,
  col_noc_multicast: Note,
  global_shared_memory_bytes: Note,
  PE_local_memory_bytes: Note,
});
export type SubAcceleratorJson = typeof SubAcceleratorJson.Type;

export const HardwareConfigJson = Schema.Struct({
  name: ConfigName,
  group: Schema.optional(Name),
  sub_accelerators: boundedList(SubAcceleratorJson, "sub-accelerators", "at least one sub-accelerator", MAX_ACCELERATORS, "accelerators-per-hardware"),
  used_by_run_evals_py: Note,
  source_file: Note,
  num_sub_accelerators: Note,
  total_pes: Note,
});
export type HardwareConfigJson = typeof HardwareConfigJson.Type;

export const HardwareListJson = Schema.Struct({
  configs: Schema.Array(HardwareConfigJson),
  source_repository: Note,
  source_commit: Note,
  clock: Note,
  field_meanings: Note,
  pairing_rule: Note,
  name_quirks: Note,
});

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
