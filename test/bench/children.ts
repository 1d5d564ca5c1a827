/**
 * Child processes the bench started: stopped (SIGTERM, by pid; a figure process then stops its own) if the bench process exits before
 * it stopped them itself — including on SIGINT / SIGTERM, which `exitOnSignals` turns into an exit.
 */
import type { ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();
let hooked = false;

export const track = (child: ChildProcess): ChildProcess => {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    });
  }
  return child;
};

/** Makes Ctrl-C / SIGTERM run the process's exit hooks (they do not on a default signal death). */
export const exitOnSignals = (): void => {
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => process.exit(130));
};
