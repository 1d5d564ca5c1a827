/** Flag parsers shared by `sdrm3 run` and `sdrm3 compare`. Bad input throws CliInputError (exit 2). */
import { CliInputError } from "./duration";

/** `--param alpha=1.5` (repeatable) → { alpha: 1.5 }. */
export const parseParams = (items: ReadonlyArray<string>): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(item);
    const value = m === null ? Number.NaN : Number(m[2]);
    if (m === null || !Number.isFinite(value)) {
      throw new CliInputError(`--param: expected name=number, e.g. alpha=1.5, got '${item}'`);
    }
    out[m[1]!] = value;
  }
  return out;
};

export const parseBlockSize = (text: string | undefined): number => {
  if (text === undefined) return 1;
  if (!/^[1-9][0-9]{0,3}$/.test(text)) throw new CliInputError(`--block: expected a positive integer (layers per block), got '${text}'`);
  return Number(text);
};

/** `--supernet on|off` → true / false (undefined when not given). */
export const parseSupernet = (text: string | undefined): boolean | undefined => {
  if (text === undefined) return undefined;
  if (text === "on") return true;
  if (text === "off") return false;
  throw new CliInputError(`--supernet: expected on or off, got '${text}'`);
};
