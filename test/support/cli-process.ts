/**
 * Real `sdrm3` CLI processes for tests: `start(args, env)` spawns `node sdrm3.cjs …` in the repository
 * root through processGroup (test/support/processes.ts), so stdout/stderr are captured, `waitErr`
 * waits for a line and `killAll` (afterAll) ends whatever a failed test left running.
 */
import { type Proc, exitedWithin, processGroup, repoRoot, sdrm3Command } from "./processes";

/** How a finished `sdrm3` process ended: its exit code and everything it wrote. */
export interface CliExit {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

export type CliProcess = Proc;

export const cliProcesses = () => {
  const group = processGroup();
  const start = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): CliProcess => {
    const { command, args: argv } = sdrm3Command(args);
    const name = args[0] === "serve" ? `${args[1]}${args.includes("--name") ? ` ${args[args.indexOf("--name") + 1]}` : ""}` : args[0] ?? "sdrm3";
    return group.start(name, command, argv, { cwd: repoRoot(), env });
  };
  /** Runs `sdrm3 …` to its end; fails after `timeoutMs` naming it with its stderr (exitedWithin). */
  const run = async (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): Promise<CliExit> => {
    const p = start(args, env);
    const [ended] = await exitedWithin([p], timeoutMs);
    return { code: ended!.code, out: p.out(), err: p.err() };
  };
  return { start, run, killAll: () => group.killAll(), all: group.all };
};
