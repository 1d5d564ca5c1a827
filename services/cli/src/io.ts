/** Where a command writes (stdout/stderr, or a test's capture), and small option helpers. */
import type { Command } from "commander";

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** commander's accumulator for a repeatable option. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * Refuses a flag given twice (`--seed 1 --seed 2`, `--json --json`) on every command of
 * `program`: exit 2 through commander, naming the flag. Repeatable flags (--param, --scenario-file,
 * …: their parser collects the values into a list) stay repeatable. Call it once per parse (the
 * CLI builds its program per invocation), after every option is added: commander emits
 * `option:<name>` for each occurrence, and the second one of a single-valued flag is refused.
 */
export const refuseRepeatedFlags = (program: Command): void => {
  const commands = (c: Command): Command[] => [c, ...c.commands.flatMap(commands)];
  for (const cmd of commands(program)) {
    for (const option of cmd.options) {
      let seen = 0;
      cmd.on(`option:${option.name()}`, () => {
        if (++seen === 1 || Array.isArray(cmd.getOptionValue(option.attributeName()))) return;
        cmd.error(`error: option '${option.flags}' given more than once; give it once`, { exitCode: 2, code: "sdrm3.repeatedOption" });
      });
    }
  }
};
