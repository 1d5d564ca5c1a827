/** For tests: the `sdrm3` command run in this process, its exit code and what it printed. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { main } from "./main";

export interface Ran {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export const sdrm3 = async (...argv: string[]): Promise<Ran> => {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
};

/**
 * A runner of `sdrm3 <base> <flags> --json --record <dir>/<name>.jsonl` that expects exit 0 and
 * returns what it printed and the log it recorded.
 */
export const recordingRunner =
  (dir: string, base: ReadonlyArray<string>) =>
  async (name: string, ...flags: string[]): Promise<{ readonly out: string; readonly log: string }> => {
    const log = join(dir, `${name}.jsonl`);
    const r = await sdrm3(...base, ...flags, "--json", "--record", log);
    expect(r.code, r.err).toBe(0);
    return { out: r.out, log: readFileSync(log, "utf8") };
  };
