/** `sdrm3 list scenarios|hardware|policies`. */
import type { Command } from "commander";
import { POLICIES } from "@sdrm3/shared/policies";
import { listHardware, loadBuiltinDataset } from "@sdrm3/shared/data";
import { CliInputError } from "./duration";
import type { Io } from "./io";

const listOf = (names: Iterable<string>) => [...names].join(", ");

const executeList = (what: string, io: Io): number => {
  const ds = loadBuiltinDataset();
  const lists: Record<string, () => string[]> = {
    scenarios: () => [...ds.scenarios.values()].map((s) => `${s.name.padEnd(22)} ${s.models.map((m) => `${m.name}@${m.fps}`).join(", ")}`),
    hardware: () => listHardware(ds),
    policies: () =>
      [...POLICIES.values()].flatMap((p) => [
        `${p.name.padEnd(12)} ${p.description}`,
        ...p.params.map((q) => `${"".padEnd(14)}${q.name}=${q.default}  [${q.min}, ${q.max}]  ${q.description}`),
      ]),
  };
  const list = lists[what];
  if (list === undefined) throw new CliInputError(`unknown list '${what}'; valid: ${listOf(Object.keys(lists))}`);
  io.out(`${list().join("\n")}\n`);
  return 0;
};

export const registerList = (program: Command, io: Io, setResult: (code: number) => void): void => {
  program
    .command("list")
    .description("list what exists")
    .argument("<what>", "scenarios | hardware | policies")
    .action((what: string) => setResult(executeList(what, io)));
};
