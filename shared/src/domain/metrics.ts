/**
 * Run metrics (DESIGN.md §7): per model and per run — frames released, on time, late, dropped,
 * deadline-miss rate, energy, latency, the official XRBench scores, UXCost and accuracy (the mean
 * relative accuracy of the on-time frames, variant-weighted; docs/supernets.md).
 *
 * Pure functions of the frame records a run produced; no I/O.
 */

export type FrameOutcome = "onTime" | "late" | "dropped" | "unfinished";

/** Everything a run knows about one released frame once the run is over. */
export interface FrameRecord {
  readonly model: string;
  readonly frame: number;
  /** Nominal release. */
  readonly releaseAt: number;
  /** When it entered the scheduler's queue. */
  readonly injectAt: number;
  readonly deadline: number;
  readonly outcome: FrameOutcome;
  /** First dispatch (undefined if it never started). */
  readonly dispatchAt: number | undefined;
  /** Completion time (undefined unless completed). */
  readonly completionAt: number | undefined;
  /** Accelerator of the last block (undefined if it never started). */
  readonly acc: number | undefined;
  /** Energy spent on this frame, mJ (everything executed, including for late/dropped frames). */
  readonly energyMJ: number;
  /** Supernet runs: the variant the frame ran (0 = the full model); absent when its model has no variants or it never started. */
  readonly variant?: number;
  /** Supernet runs: that variant's accuracy relative to the full model (absent: 1). */
  readonly accuracy?: number;
}

/** What metrics need to know about a model besides its frames. */
export interface ModelInfo {
  readonly name: string;
  readonly periodMs: number;
  readonly targetFps: number;
  /** e*: sum over layers of the layer's minimum energy over the hardware's accelerators, mJ. */
  readonly idealFrameEnergyMJ: number;
  /** Optimistic isolated latency: every layer on its fastest accelerator, ms. */
  readonly optimisticLatencyMs: number;
}

export interface ModelMetrics {
  readonly name: string;
  readonly released: number;
  readonly onTime: number;
  readonly late: number;
  readonly dropped: number;
  /** Released but neither completed nor dropped when the run ended (xrbench mode only). */
  readonly unfinished: number;
  readonly deadlineMissRate: number;
  readonly energyMJ: number;
  readonly latencyMeanMs: number | null;
  readonly latencyP99Ms: number | null;
  readonly achievedFps: number;
  readonly targetFps: number;
  readonly rtScore: number;
  readonly energyScore: number;
  readonly uxScore: number;
  /** XRBench per-model score: Σ(RT·EN)/logged · UX. */
  readonly xrbenchScore: number;
  /** UX_m (see UXCOST_DEFINITION); null when the model released no frame. */
  readonly uxCost: number | null;
  readonly idealFrameEnergyMJ: number;
  /** False when even the optimistic isolated latency exceeds the period. */
  readonly feasible: boolean;
  /**
   * Mean relative accuracy of the on-time frames (each frame: its supernet variant's accuracy, 1
   * for the full model; so 1 without supernets); null when no frame was on time.
   */
  readonly accuracy: number | null;
}

export interface RunSummary {
  readonly xrbenchScore: number;
  readonly uxCost: number | null;
  readonly deadlineMissRate: number;
  readonly energyMJ: number;
  readonly energyMJPerS: number;
  readonly released: number;
  readonly onTime: number;
  readonly late: number;
  readonly dropped: number;
  readonly unfinished: number;
  readonly infeasibleModels: ReadonlyArray<string>;
  /** Mean of the per-model accuracy over the models with on-time frames (null: none had one). */
  readonly accuracy: number | null;
}

/** XRBench constants (XRBench-MAESTRO.cpp): real-time score steepness and energy budget. */
export const XRBENCH_K_PER_MS = 15;
export const XRBENCH_EMAX_MJ = 1500;

export const UXCOST_DEFINITION =
  "UXCost = geomean over feasible models m with released frames of UX_m, " +
  "UX_m = max(1, E_m / (S_m * e*_m)) * (N_m / S_m); N_m = frames released, " +
  "S_m = frames on time (floored at 1/2), E_m = energy spent on m's frames (incl. late/dropped work), " +
  "e*_m = m's ideal frame energy (each layer at its minimum energy over the accelerators). 1.0 = perfect; lower is better.";

export const realtimeScore = (completionAt: number, deadline: number): number =>
  1 / (1 + Math.exp(XRBENCH_K_PER_MS * (completionAt - deadline)));

export const energyScore = (energyMJ: number): number => (XRBENCH_EMAX_MJ - energyMJ) / XRBENCH_EMAX_MJ;

/** p-quantile by the nearest-rank method. */
export const quantile = (sorted: ReadonlyArray<number>, p: number): number | null => {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? null;
};

/**
 * Geometric mean (UXCost over models, over seeds). Null when it is undefined: nothing to average, a
 * value missing (null), or a value not positive (no logarithm; UX values are ≥ 1).
 */
export const geomean = (xs: ReadonlyArray<number | null>): number | null => {
  if (xs.length === 0 || xs.some((x) => x === null || !(x > 0))) return null;
  return Math.exp(xs.reduce<number>((s, x) => s + Math.log(x as number), 0) / xs.length);
};

export const modelMetrics = (info: ModelInfo, frames: ReadonlyArray<FrameRecord>, durationMs: number): ModelMetrics => {
  let onTime = 0;
  let late = 0;
  let dropped = 0;
  let unfinished = 0;
  let energy = 0;
  let rtSum = 0;
  let enSum = 0;
  let rtEnSum = 0;
  let accuracySum = 0;
  const latencies: number[] = [];
  for (const f of frames) {
    energy += f.energyMJ;
    switch (f.outcome) {
      case "onTime":
      case "late": {
        if (f.outcome === "onTime") {
          onTime++;
          accuracySum += f.accuracy ?? 1;
        } else late++;
        const completion = f.completionAt ?? f.deadline;
        const rt = realtimeScore(completion, f.deadline);
        const en = energyScore(f.energyMJ);
        rtSum += rt;
        enSum += en;
        rtEnSum += rt * en;
        latencies.push(completion - f.releaseAt);
        break;
      }
      case "dropped":
        dropped++;
        break;
      case "unfinished":
        unfinished++;
        break;
    }
  }
  const released = frames.length;
  const completed = onTime + late;
  const logged = completed + dropped;
  const ux = logged === 0 ? 0 : 1 - dropped / logged;
  latencies.sort((a, b) => a - b);
  const feasible = info.optimisticLatencyMs <= info.periodMs;
  const s = Math.max(onTime, 0.5);
  const uxCost =
    released === 0 ? null : Math.max(1, energy / (s * info.idealFrameEnergyMJ)) * (released / s);
  return {
    name: info.name,
    released,
    onTime,
    late,
    dropped,
    unfinished,
    deadlineMissRate: released === 0 ? 0 : (late + dropped) / released,
    energyMJ: energy,
    latencyMeanMs: latencies.length === 0 ? null : latencies.reduce((a, b) => a + b, 0) / latencies.length,
    latencyP99Ms: quantile(latencies, 0.99),
    achievedFps: durationMs > 0 ? (onTime * 1000) / durationMs : 0,
    targetFps: info.targetFps,
    rtScore: completed === 0 ? 0 : rtSum / completed,
    energyScore: completed === 0 ? 0 : enSum / completed,
    uxScore: ux,
    xrbenchScore: logged === 0 ? 0 : (rtEnSum / logged) * ux,
    uxCost,
    idealFrameEnergyMJ: info.idealFrameEnergyMJ,
    feasible,
    accuracy: onTime === 0 ? null : accuracySum / onTime,
  };
};

export const runSummary = (models: ReadonlyArray<ModelMetrics>, durationMs: number): RunSummary => {
  const logged = models.filter((m) => m.onTime + m.late + m.dropped > 0);
  const counted = models.filter((m) => m.feasible && m.uxCost !== null);
  const sum = (f: (m: ModelMetrics) => number) => models.reduce((s, m) => s + f(m), 0);
  const released = sum((m) => m.released);
  const missed = sum((m) => m.late + m.dropped);
  const energy = sum((m) => m.energyMJ);
  const accurate = models.flatMap((m) => (m.accuracy === null ? [] : [m.accuracy]));
  return {
    xrbenchScore: logged.length === 0 ? 0 : (100 * logged.reduce((s, m) => s + m.xrbenchScore, 0)) / logged.length,
    uxCost: geomean(counted.map((m) => m.uxCost as number)),
    deadlineMissRate: released === 0 ? 0 : missed / released,
    energyMJ: energy,
    energyMJPerS: durationMs > 0 ? (energy * 1000) / durationMs : 0,
    released,
    onTime: sum((m) => m.onTime),
    late: sum((m) => m.late),
    dropped: sum((m) => m.dropped),
    unfinished: sum((m) => m.unfinished),
    infeasibleModels: models.filter((m) => !m.feasible).map((m) => m.name),
    accuracy: accurate.length === 0 ? null : accurate.reduce((s, a) => s + a, 0) / accurate.length,
  };
};
