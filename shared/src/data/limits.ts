/**
 * Stated limits of the data files, checked while a file is read (before any run starts). Each is
 * far above what a real XR workload needs (XRBench: at most 6 models per scenario, 4
 * sub-accelerators, 60 FPS, 423 layers, a 0.5 MB cost table) and low enough that a run within
 * them ends. A file beyond one is refused with a DataError naming the limit and the value found.
 * The table in docs/data.md lists them.
 */

/** Models (tasks) of one scenario, after a phased scenario's phases are merged. */
export const MAX_MODELS_PER_SCENARIO = 1000;
/** Phases of one dynamic scenario. */
export const MAX_PHASES = 256;
/** Sub-accelerators of one hardware config (256 run 1 s of AR_gaming; 4096 did not end in 300 s). */
export const MAX_ACCELERATORS = 256;
/** Frames per second of one scenario model. */
export const MAX_FPS = 10_000;
/** Layers of one model. */
export const MAX_LAYERS = 10_000;
/** Size of one JSON data file (scenario, model, hardware). */
export const MAX_JSON_FILE_BYTES = 64 * 1024 * 1024;
/** Size of one per-layer cost CSV (read line by line; an error stops the read at its line). */
export const MAX_CSV_FILE_BYTES = 1024 * 1024 * 1024;
/** Length of one CSV record (a line, or several when a quoted cell spans lines). */
export const MAX_CSV_RECORD_CHARS = 1024 * 1024;
/** Nesting depth of arrays and objects in a JSON data file (the built-in files reach 9). */
export const MAX_JSON_DEPTH = 64;

/** `64 MiB`, `1 GiB`, `200.5 MiB`, `512 bytes`: a byte count for messages (exact ones without decimals). */
export const formatBytes = (bytes: number): string => {
  const units: ReadonlyArray<[string, number]> = [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]];
  for (const [unit, size] of units) {
    if (bytes >= size) return bytes % size === 0 ? `${bytes / size} ${unit}` : `${(bytes / size).toFixed(1)} ${unit}`;
  }
  return `${bytes} bytes`;
};
