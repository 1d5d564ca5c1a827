/** The machine a benchmark ran on (written into bench.json and printed). */
import { execFileSync } from "node:child_process";
import os from "node:os";

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly os: string;
  readonly totalMemoryMB: number;
  /** 1, 5 and 15 minute load averages when the bench started. */
  readonly loadAverageAtStart: readonly [number, number, number];
  readonly hostname: string;
  readonly git: string;
}

const gitDescribe = (): string => {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return dirty === "" ? head : `${head} (with uncommitted changes)`;
  } catch {
    return "unknown";
  }
};

const round2 = (x: number) => Math.round(x * 100) / 100;

export const machineInfo = (): MachineInfo => {
  const cpus = os.cpus();
  const [l1, l5, l15] = os.loadavg();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    totalMemoryMB: Math.round(os.totalmem() / 2 ** 20),
    loadAverageAtStart: [round2(l1 ?? 0), round2(l5 ?? 0), round2(l15 ?? 0)],
    hostname: os.hostname(),
    git: gitDescribe(),
  };
};

export const loadAverage = (): [number, number, number] => {
  const [l1, l5, l15] = os.loadavg();
  return [round2(l1 ?? 0), round2(l5 ?? 0), round2(l15 ?? 0)];
};
