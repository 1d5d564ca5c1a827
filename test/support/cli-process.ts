/**
 * Real `sdrm3` CLI processes for tests: spawn, capture stdout/stderr, wait for a line on stderr,
 * and the exit (code, signal, wall ms). Every process started is killed by `killAll` (afterAll).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = join(ROOT, "services/cli/bin/sdrm3.mjs");

export interface CliProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  out(): string;
  err(): string;
  /** Resolves when stderr matches `re` (at least `count` times); throws if the process exits first or on timeout. */
  waitErr(re: RegExp, timeoutMs: number, count?: number): Promise<void>;
}

export const cliProcesses = () => {
  const children: ChildProcess[] = [];
  const start = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): CliProcess => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal, ms: Date.now() - started })),
    );
    const waitErr = async (re: RegExp, timeoutMs: number, count = 1) => {
      const t0 = Date.now();
      const global = new RegExp(re.source, re.flags.includes("g") ? re.flags : `${re.flags}g`);
      while ((err.match(global) ?? []).length < count) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`process exited before ${re}: ${err}`);
        if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${re} on stderr: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    return { child, exited, out: () => out, err: () => err, waitErr };
  };
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  };
  return { start, killAll, children };
};
