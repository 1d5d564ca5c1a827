/** Durations on the command line: `700ms`, `10s`, `1.5m` (a unit is required). */
import { Sdrm3Error } from "@sdrm3/shared/contracts/errors";
import { MAX_DURATION_MS } from "@sdrm3/shared/runtime";

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

export class CliInputError extends Sdrm3Error {
  readonly _tag = "CliInputError";
  readonly failure = "input";
}

/**
 * A duration flag: a number and its unit with nothing around or between them (as the dispatch
 * durations, flags.ts), positive, and at most `maxMs` when given (`why` says what bounds it).
 */
export const parseDuration = (text: string, flag = "--duration", maxMs = Number.POSITIVE_INFINITY, why = ""): number => {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m)$/.exec(text);
  if (m === null) {
    throw new CliInputError(`${flag}: expected a duration such as 700ms, 10s or 1.5m, got '${text}'`);
  }
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (!(ms > 0) || !Number.isFinite(ms)) throw new CliInputError(`${flag}: expected a positive duration, got '${text}'`);
  if (ms > maxMs) throw new CliInputError(`${flag}: expected a duration of at most ${formatDuration(maxMs)}${why === "" ? "" : ` (${why})`}, got '${text}'`);
  return ms;
};

/** A duration flag that also takes 0 (`0`, `0ms`, `0.0s`: none), else as {@link parseDuration}. */
export const parseDurationOrNone = (text: string, flag: string, maxMs: number, why: string): number =>
  /^0+(\.0*)?(ms|s|m)?$/.test(text) ? 0 : parseDuration(text, flag, maxMs, why);

/** `--duration`: the simulated time of a run, at most MAX_DURATION_MS. */
export const parseRunDuration = (text: string): number =>
  parseDuration(text, "--duration", MAX_DURATION_MS, "a run keeps every frame for its metrics: about 1.2 MB per simulated second");

export const formatDuration = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;

/** A seed as text: an integer in 0..2^32 − 1 (`run --seed`, each of `compare --seeds`). */
export const isSeed = (text: string): boolean => /^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff;

export const parseSeed = (text: string): number => {
  if (!isSeed(text)) {
    throw new CliInputError(`--seed: expected a non-negative integer below 2^32, got '${text}'`);
  }
  return Number(text);
};
