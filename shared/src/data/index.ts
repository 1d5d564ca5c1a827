/**
 * Public surface of the data module: the built-in XRBench dataset, user data files (models,
 * scenarios, hardware configs, per-layer cost CSVs), hardware-spec resolution and dense per-layer
 * costs for a run. Everything else in this folder is internal.
 */
export type { Dataset } from "./types";
export type { CostTable } from "./costs";
export type { DataIssue, DataLoadError } from "./errors";
export type { UserDataFiles } from "./dataset";
export type {
  CostFallbackOptions,
  CostSource,
  FallbackCostUse,
  ResolvedHardware,
  ResolvedModelCosts,
} from "./fallback-costs";
export type { ModelVariant, SupernetSpec, SupernetVariantSpec } from "./variants";
export type { FpsChoice, SyntheticHardware, SyntheticHardwareOptions, SyntheticScenarioOptions } from "./synthetic";

export { DataError, UnknownNameError } from "./errors";
export {
  MAX_ACCELERATORS,
  MAX_CSV_FILE_BYTES,
  MAX_CSV_RECORD_CHARS,
  MAX_FPS,
  MAX_JSON_DEPTH,
  MAX_JSON_FILE_BYTES,
  MAX_LAYERS,
  MAX_MODELS_PER_SCENARIO,
  MAX_PHASES,
} from "./limits";
export { costClassName } from "./costs";
export {
  builtinDataDir,
  extendDataset,
  loadBuiltinDataset,
  loadCostCsv,
  readBuiltinSources,
  setBuiltinDatasetSource,
  withCosts,
  withHardwareConfig,
  withModel,
  withScenario,
} from "./dataset";
export { PREBUILT_DATASET_VERSION, datasetFromPrebuilt, datasetToPrebuilt } from "./prebuilt";
export { listHardware, loadHardwareFile, resolveHardware } from "./hardware";
export { findHardware, findModel, findScenario } from "./lookup";
export { layerMacs, loadModelFile } from "./models";
export { resolveModelCosts } from "./model-costs";
export { loadScenarioFile } from "./scenarios";
export {
  CASCADE_PROBABILITIES,
  DEFAULT_SYNTHETIC_FPS,
  generateHardware,
  generateScenario,
  hardwareJson,
  scenarioJson,
} from "./synthetic";
export {
  describeFallback,
  layerCostWithFallback,
  modelCostsWithFallback,
  resolveHardwareWithFallback,
  resolveModelCostsWithFallback,
} from "./fallback-costs";
export {
  DEFAULT_SUPERNET_ACCURACIES,
  DEFAULT_SUPERNET_WIDTHS,
  MOBILENET_V1_RELATIVE_ACCURACY,
  decodeSupernetSpec,
  deriveSupernet,
  deriveVariants,
  mobileNetV1RelativeAccuracy,
  resolveVariantCosts,
  scaleChannels,
  scenarioVariants,
  variantCosts,
} from "./variants";
