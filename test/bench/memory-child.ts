/**
 * One memory measurement in a fresh process (so that peaks of different runs never mix):
 * resolves the run, records the RSS before it (modules, tsx, data loaded), runs it in-process and
 * prints one JSON line: peak RSS (VmHWM from /proc/self/status, else resourceUsage().maxRSS),
 * RSS before the run, wall time.
 *
 *   node --import tsx test/bench/memory-child.ts <scenario> <hardware> <durationMs>
 */
import { readFileSync } from "node:fs";
import { resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";

const vmHwmMB = (): number | null => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
};

const [scenario, hardware, duration] = process.argv.slice(2);
if (scenario === undefined || hardware === undefined || duration === undefined) throw new Error("usage: memory-child.ts <scenario> <hardware> <durationMs>");
const durationMs = Number(duration);
const resolved = resolveRunSpec({ scenario, hardware, policy: "sdrm3", durationMs, blockSize: 1 });
const beforeMB = process.memoryUsage().rss / 2 ** 20;
const beforePeakMB = vmHwmMB() ?? process.resourceUsage().maxRSS / 1024;
const t0 = performance.now();
const result = await runScenario(resolved);
const wallMs = performance.now() - t0;
const hwm = vmHwmMB();
process.stdout.write(
  `${JSON.stringify({
    scenario,
    hardware,
    durationMs,
    wallMs,
    decisions: result.decisions,
    frames: result.frames.length,
    rssBeforeRunMB: beforeMB,
    peakBeforeRunMB: beforePeakMB,
    peakRssMB: hwm ?? process.resourceUsage().maxRSS / 1024,
    peakSource: hwm === null ? "resourceUsage().maxRSS" : "VmHWM",
    heapUsedAfterMB: process.memoryUsage().heapUsed / 2 ** 20,
  })}\n`,
);
