/**
 * Glue of the built `sdrm3` command (services/cli/dist, made by build.mjs): the built-in dataset
 * comes from the prebuilt JSON next to the bundle, which parses in milliseconds, instead of being
 * decoded from shared/data on every start. Sources run through tsx (tests) never load this file.
 */
import { readFileSync } from "node:fs";
import { datasetFromJson, setBuiltinDatasetSource } from "@sdrm3/shared/data";

export const PREBUILT_DATASET_FILE = "builtin-dataset.json";

export const usePrebuiltDataset = (): void => {
  const url = new URL(`./${PREBUILT_DATASET_FILE}`, import.meta.url);
  setBuiltinDatasetSource(() => datasetFromJson(readFileSync(url, "utf8"), url.pathname));
};
