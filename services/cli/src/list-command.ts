/** `sdrm3 list scenarios|hardware|policies` (policies with their capabilities and parameters: kind, default, range). */
import type { Command } from "commander";
import { POLICIES, type ParamSpec, type PolicyFactory, kindOf } from "@sdrm3/shared/policies";
import { listHardware, loadBuiltinDataset } from "@sdrm3/shared/data";
import { CliInputError, formatDuration } from "./duration";
import type { Io } from "./io";

/** `switch 0|1`, `integer [0, 512]`, `number [0, 100]`. */
const valueText = (q: ParamSpec): string => (kindOf(q) === "switch" ? "switch 0|1" : `${kindOf(q)} [${q.min}, ${q.max}]`);

const capabilityLine = (p: PolicyFactory): string => {
  const c = p.capabilities;
  const switches = [
    ...(c.switches.supernet === undefined ? [] : [`--supernet (${c.switches.supernet})`]),
    ...(c.switches.tune === undefined ? [] : [`--tune (${c.switches.tune.on}; tunes ${c.tunable.join(", ")})`]),
  ];
  return [
    `${c.semantics} semantics`,
    `default duration ${formatDuration(c.defaultDurationMs)}`,
    c.live.can ? "runs live" : "virtual time only",
    ...(switches.length === 0 ? [] : [`switches ${switches.join(", ")}`]),
  ].join("; ");
};

export const policyListing = (catalogue: ReadonlyMap<string, PolicyFactory> = POLICIES): string[] =>
  [...catalogue.values()].flatMap((p) => [
    `${p.name.padEnd(12)} ${p.description}`,
    `${"".padEnd(14)}(${capabilityLine(p)})`,
    ...p.params.map((q) => `${"".padEnd(14)}${q.name}=${q.default}  ${valueText(q)}  ${q.description}`),
  ]);

const listOf = (names: Iterable<string>) => [...names].join(", ");

const executeList = (what: string, io: Io): number => {
  const ds = loadBuiltinDataset();
  const lists: Record<string, () => string[]> = {
    scenarios: () => [...ds.scenarios.values()].map((s) => `${s.name.padEnd(22)} ${s.models.map((m) => `${m.name}@${m.fps}`).join(", ")}`),
    hardware: () => listHardware(ds),
    policies: () => policyListing(),
  };
  const list = Object.hasOwn(lists, what) ? lists[what] : undefined; // not `constructor`, `__proto__`, … of the object
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
