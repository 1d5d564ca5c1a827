/** Flag parsers shared by `sdrm3 run` and `sdrm3 compare`. Bad input throws CliInputError (exit 2). */
import { MAX_BLOCK_LAYERS } from "@sdrm3/shared/policies";
import { CliInputError } from "./duration";

/** `--param alpha=1.5` (repeatable) → { alpha: 1.5 }. One parameter given twice is refused. */
export const parseParams = (items: ReadonlyArray<string>): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(item);
    const value = m === null ? Number.NaN : Number(m[2]);
    if (m === null || !Number.isFinite(value)) {
      throw new CliInputError(`--param: expected name=number, e.g. alpha=1.5, got '${item}'`);
    }
    if (Object.hasOwn(out, m[1]!)) throw new CliInputError(`--param: ${m[1]} given twice (${m[1]}=${out[m[1]!]} and ${item}); give it once`);
    out[m[1]!] = value;
  }
  return out;
};

/** `--block B`: layers per dispatch, a whole number in [1, MAX_BLOCK_LAYERS] (policies' block parameters have the same limit). */
export const parseBlockSize = (text: string | undefined): number => {
  if (text === undefined) return 1;
  if (!/^[1-9][0-9]*$/.test(text) || Number(text) > MAX_BLOCK_LAYERS) {
    throw new CliInputError(`--block: expected a positive integer of at most ${MAX_BLOCK_LAYERS} (layers per block), got '${text}'`);
  }
  return Number(text);
};

/** `--supernet on|off` → true / false (undefined when not given). */
export const parseSupernet = (text: string | undefined): boolean | undefined => {
  if (text === undefined) return undefined;
  if (text === "on") return true;
  if (text === "off") return false;
  throw new CliInputError(`--supernet: expected on or off, got '${text}'`);
};

/** `--clock virtual|live` and `--speed x` → the run's live setting (undefined: virtual time). */
export const parseClock = (clock: string | undefined, speed: string | undefined): { readonly speed: number } | undefined => {
  if (clock !== undefined && clock !== "virtual" && clock !== "live") throw new CliInputError(`--clock: expected virtual or live, got '${clock}'`);
  if (clock !== "live") {
    if (speed !== undefined) throw new CliInputError("--speed: only with --clock live");
    return undefined;
  }
  if (speed === undefined) return { speed: 1 };
  const value = Number(speed);
  if (!/^\d*\.?\d+(e-?\d+)?$/i.test(speed) || !(value > 0 && value <= 1000)) {
    throw new CliInputError(`--speed: expected a number in (0, 1000] (0.1 = ten times slower than real), got '${speed}'`);
  }
  return { speed: value };
};
