/**
 * Glue of the built `sdrm3` command (services/cli/dist, made by build.mjs): the built-in dataset
 * comes from the prebuilt file next to the bundle (its numbers are read in place), instead of being
 * decoded from shared/data on every start. Sources run through tsx (tests) never load this file.
 */
import { readFileSync } from "node:fs";
import { datasetFromPrebuilt, setBuiltinDatasetSource } from "@sdrm3/shared/data";

export const PREBUILT_DATASET_FILE = "builtin-dataset.bin";

export const usePrebuiltDataset = (): void => {
  const url = new URL(`./${PREBUILT_DATASET_FILE}`, import.meta.url);
  setBuiltinDatasetSource(() => datasetFromPrebuilt(readFileSync(url), url.pathname));
};
