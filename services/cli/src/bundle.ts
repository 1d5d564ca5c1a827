/**
 * The built `sdrm3` command's one module (dist/sdrm3.cjs, made by build.mjs; bin/load.cjs loads it
 * with V8's code cache): the command, compare's worker thread, and the warm-up that fills the cache.
 */
import { main, type MainHooks } from "./main";

/** The command's modules have loaded the data module by now: point it at the prebuilt dataset. */
const hooks: MainHooks = { commandLoaded: async () => (await import("./built")).usePrebuiltDataset() };

/**
 * A reader that stops reading (`sdrm3 replay log.jsonl | head -1`) closes the pipe: what the command
 * still writes fails with EPIPE, which Node raises as an unhandled error (a stack trace, exit 1).
 * The output was not wanted any more: exit quietly, as a command killed by SIGPIPE would.
 */
const quietOnClosedPipe = (stream: NodeJS.WriteStream): void => {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(0);
  });
};

/** `sdrm3 <argv>`: the exit code. */
export const cli = (argv: ReadonlyArray<string>): Promise<number> => {
  quietOnClosedPipe(process.stdout);
  return main(argv, undefined, hooks);
};

/** Entry of a worker thread of `sdrm3 compare` (dist/compare-worker-boot.mjs starts it). */
export const compareWorker = async (): Promise<void> => {
  (await import("./built")).usePrebuiltDataset();
  (await import("./compare-worker")).serve();
};

/**
 * Runs the commonest commands once with their output discarded, so that the code cache the build
 * writes afterwards holds the functions they compile (V8 caches what has been compiled so far).
 */
export const warmUp = async (): Promise<void> => {
  const quiet = { out: () => {}, err: () => {} };
  const run = ["run", "--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--duration", "100ms", "--json"];
  for (const argv of [["--help"], ["list", "policies"], [...run, "--policy", "xrbench"], [...run, "--policy", "sdrm3"]]) {
    const code = await main(argv, quiet, hooks);
    if (code !== 0) throw new Error(`warm-up: sdrm3 ${argv.join(" ")} exited ${code}`);
  }
};
