/** Durations on the command line: `700ms`, `10s`, `1.5m` (a unit is required). */
import { Sdrm3Error } from "@sdrm3/shared/contracts/errors";

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

export class CliInputError extends Sdrm3Error {
  readonly _tag = "CliInputError";
  readonly failure = "input";
}

export const parseDuration = (text: string, flag = "--duration"): number => {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m)\s*$/.exec(text);
  if (m === null) {
    throw new CliInputError(`${flag}: expected a duration such as 700ms, 10s or 1.5m, got '${text}'`);
  }
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (!(ms > 0) || !Number.isFinite(ms)) throw new CliInputError(`${flag}: expected a positive duration, got '${text}'`);
  return ms;
};

export const formatDuration = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;

export const parseSeed = (text: string): number => {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) {
    throw new CliInputError(`--seed: expected a non-negative integer below 2^32, got '${text}'`);
  }
  return Number(text);
};
