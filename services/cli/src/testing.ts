/** For tests: the `sdrm3` command run in this process, its exit code and what it printed. */
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
