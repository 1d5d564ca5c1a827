/**
 * Figure 1 — simulation speed in-process: simulated seconds per wall second of `runScenario` (all
 * actors on the in-memory bus, virtual time, layer granularity B = 1, sdrm3 policy) for every
 * shipped XRBench usage scenario on Quad_8K/WS_OS_WS_OS. Wall time covers the run only (actor
 * set-up, the run, metrics); resolving the data is done once before. One untimed warm-up run per
 * scenario (JIT), then RUNS timed runs; the median and the min–max are reported.
 */
import { type ResolvedRun, resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";
import { cpuWaitMeter, fmt, fmtPct, fmtSummary, median, summarize } from "./stats";
import type { FigureResult, Row } from "./types";

export const XRBENCH_SCENARIOS = [
  "AR_Assistant",
  "AR_gaming",
  "VR_gaming",
  "outdoor_activity_A",
  "outdoor_activity_B",
  "social_interactionA",
  "social_interactionB",
] as const;

export const HARDWARE = "Quad_8K/WS_OS_WS_OS";
const TARGETS: Readonly<Record<string, number>> = { AR_Assistant: 20, VR_gaming: 100 };

export interface SimSpeedOptions {
  readonly runs: number;
  /** Simulated time per timed run, ms. */
  readonly durationMs: number;
  readonly warmupMs: number;
}

export const timeRun = async (resolved: ResolvedRun): Promise<{ wallMs: number; decisions: number; frames: number; cpuWait: number | null }> => {
  const meter = cpuWaitMeter();
  const t0 = performance.now();
  const r = await runScenario(resolved);
  const wallMs = performance.now() - t0;
  return { wallMs, decisions: r.decisions, frames: r.frames.length, cpuWait: meter.stop() };
};

export const runSimSpeed = async (opts: SimSpeedOptions): Promise<FigureResult> => {
  const rows: Row[] = [];
  const detail: string[][] = [];
  const data: unknown[] = [];
  for (const scenario of XRBENCH_SCENARIOS) {
    const spec = { scenario, hardware: HARDWARE, policy: "sdrm3", blockSize: 1, seed: 1 };
    await timeRun(resolveRunSpec({ ...spec, durationMs: opts.warmupMs }));
    const resolved = resolveRunSpec({ ...spec, durationMs: opts.durationMs });
    const speeds: number[] = [];
    const walls: number[] = [];
    const waits: number[] = [];
    let decisions = 0;
    for (let i = 0; i < opts.runs; i++) {
      const r = await timeRun(resolved);
      walls.push(r.wallMs);
      speeds.push(opts.durationMs / r.wallMs);
      decisions = r.decisions;
      if (r.cpuWait !== null) waits.push(r.cpuWait);
    }
    const cpuWait = waits.length === 0 ? null : median(waits);
    const s = summarize(speeds);
    const w = summarize(walls);
    const target = TARGETS[scenario];
    rows.push({
      figure: "1 sim speed",
      what: `${scenario} (${opts.durationMs / 1000} s sim)`,
      measured: fmtSummary(s, "×"),
      target: target === undefined ? "—" : `≥ ${target}×`,
      met: target === undefined ? null : s.median >= target,
    });
    detail.push([
      scenario,
      fmtSummary(s, "×"),
      fmtSummary(w, " ms"),
      String(decisions),
      fmt((w.median * 1000) / decisions),
      fmtPct(cpuWait),
    ]);
    data.push({ scenario, hardware: HARDWARE, policy: "sdrm3", blockSize: 1, durationMs: opts.durationMs, runs: opts.runs, speed: s, wallMs: w, decisions, cpuWaitShare: cpuWait });
  }
  return {
    id: "1",
    rows,
    tables: [
      {
        title: `1. Simulation speed in-process (${HARDWARE}, sdrm3, B = 1, ${opts.durationMs / 1000} s simulated, median [min–max] of ${opts.runs} runs)`,
        head: ["scenario", "sim s / wall s", "wall per run", "decisions", "µs / decision", "CPU wait"],
        rows: detail,
        notes: [
          "decisions = dispatches + drops recorded by the scheduler kernel; µs / decision = median wall time / decisions (whole runtime, not only the policy)",
          "CPU wait = share of the run's wall time the bench thread was runnable but waiting for a core (/proc/thread-self/schedstat): other load on the machine; 0 % on an idle machine",
        ],
      },
    ],
    data,
  };
};
