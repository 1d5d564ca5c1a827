/** Output of `sdrm3 run`: a per-model table and the run summary (human), or one JSON object. */
import Table from "cli-table3";
import type { RunResult } from "@sdrm3/shared/runtime";
import { describeDispatch } from "./flags";

const f = (x: number | null, digits = 3) => (x === null ? "-" : x.toFixed(digits));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

const plainTable = (head: string[]) =>
  new Table({ head, style: { head: [], border: [] }, chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" } });

export const formatRunHuman = (r: RunResult): string => {
  const t = plainTable([
    "model",
    "target fps",
    "released",
    "on time",
    "late",
    "dropped",
    "unfinished",
    "miss rate",
    "energy mJ",
    "lat mean ms",
    "lat p99 ms",
    "RT score",
    "EN score",
    "UX score",
    "UX_m",
    "accuracy",
  ]);
  for (const m of r.models) {
    t.push([
      m.feasible ? m.name : `${m.name} (infeasible)`,
      f(m.targetFps, 1),
      m.released,
      m.onTime,
      m.late,
      m.dropped,
      m.unfinished,
      pct(m.deadlineMissRate),
      f(m.energyMJ, 1),
      f(m.latencyMeanMs, 2),
      f(m.latencyP99Ms, 2),
      f(m.rtScore, 6),
      f(m.energyScore, 6),
      f(m.uxScore, 6),
      f(m.uxCost, 3),
      f(m.accuracy, 3),
    ]);
  }
  const s = r.summary;
  const lines = [
    `sdrm3 run  scenario=${r.scenario}  hardware=${r.hardware}  policy=${r.policy}  seed=${r.seed}  duration=${r.durationMs}ms (ended at ${f(r.endedAtMs, 3)}ms)`,
    ...(Object.keys(r.params).length === 0
      ? []
      : [`parameters: ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(", ")}`]),
    t.toString(),
    `XRBench overall score : ${s.xrbenchScore.toFixed(6)}`,
    `UXCost                : ${f(s.uxCost, 4)}${s.infeasibleModels.length > 0 ? `  (infeasible, left out: ${s.infeasibleModels.join(", ")})` : ""}`,
    `accuracy              : ${f(s.accuracy, 4)}  (${accuracyNote(r)})`,
    `deadline-miss rate    : ${pct(s.deadlineMissRate)}  (${s.late} late + ${s.dropped} dropped of ${s.released} released; ${s.unfinished} unfinished at end)`,
    `energy                : ${s.energyMJ.toFixed(1)} mJ  (${s.energyMJPerS.toFixed(1)} mJ/s)`,
    `decisions             : ${r.decisions}`,
    ...liveLines(r),
    ...tuningLines(r),
    `UXCost definition     : ${r.uxCostDefinition}`,
  ];
  return `${lines.join("\n")}\n`;
};

/** What the accuracy line means for this run: supernet variants in use, or full models only. */
const accuracyNote = (r: RunResult): string => {
  const downgraded = r.frames.filter((fr) => (fr.variant ?? 0) > 0).length;
  return r.supernet
    ? `mean relative accuracy of on-time frames over models, supernet variants; ${downgraded} of ${r.frames.length} frames ran a narrower variant`
    : "supernet off: every frame ran the full model";
};

/** Live runs: the clock and the scheduler lag (handling time − due completion of each block). */
const liveLines = (r: RunResult): string[] => {
  if (r.live === undefined) return [];
  const l = r.live.lag;
  const d = r.live.dispatch;
  const w = r.live.warmUp;
  return [
    `clock                 : live, speed ${r.live.speed} (${r.live.speed === 1 ? "real time" : r.live.speed < 1 ? `${f(1 / r.live.speed, 3)}× slower than real` : `${f(r.live.speed, 3)}× faster than real`})`,
    ...(d === undefined
      ? []
      : [`dispatch              : ${describeDispatch(d, true)}`]),
    `scheduler lag         : p50 ${f(l.p50Ms, 4)} ms  p99 ${f(l.p99Ms, 4)} ms  max ${f(l.maxMs, 4)} ms  over ${l.blocks} blocks (run-time ms from a block's due completion to its retirement, when its accelerator is free again)`,
    `lag, summed           : mean ${f(l.meanMs, 4)} ms per block, ${l.share === null ? "-" : `${f(100 * l.share, 3)}%`} of the accelerators' run time (the summed lag over accelerators × duration)`,
    r.live.toleranceMs === undefined
      ? "timing tolerance      : none (--tolerance 0: every event at the clock reading)"
      : `timing tolerance      : ${r.live.toleranceMs} ms of wall time absorbed; ${l.beyondTolerance ?? 0} of ${l.blocks} blocks retired later than that (their lateness beyond it changed the run)`,
    ...(w === undefined
      ? []
      : [`warm-up               : ${w.simulatedMs === 0 ? "none (--warm-up 0)" : `${w.simulatedMs} ms of the spec in virtual time before the clock started, ${Math.round(w.wallMs)} ms of wall time (its result not used)`}`]),
  ];
};

const TUNED = ["alpha", "beta", "gamma"] as const;

/** The online tuning trajectory: step, time, θ, look-ahead and windowed UXCost. */
const tuningLines = (r: RunResult): string[] => {
  if (r.tuning.length === 0) return [];
  const t = plainTable(["step", "at ms", ...TUNED, "step size", "look-ahead UXCost", "windowed UXCost"]);
  for (const s of r.tuning) {
    t.push([
      s.step,
      f(s.at, 1),
      ...TUNED.map((p) => f(s.params[p] ?? null, 3)),
      f(s.info.delta ?? null, 4),
      f(s.info.lookaheadUxCost ?? null, 4),
      f(s.info.windowUxCost ?? null, 4),
    ]);
  }
  return ["tuning trajectory (online, look-ahead coordinate search):", t.toString()];
};

/** The `--json` form: stable field names, documented in the README. */
export const runToJson = (r: RunResult) => ({
  scenario: r.scenario,
  hardware: r.hardware,
  policy: r.policy,
  params: { ...r.params },
  seed: r.seed,
  durationMs: r.durationMs,
  endedAtMs: r.endedAtMs,
  models: r.models.map((m) => ({
    name: m.name,
    targetFps: m.targetFps,
    released: m.released,
    onTime: m.onTime,
    late: m.late,
    dropped: m.dropped,
    unfinished: m.unfinished,
    deadlineMissRate: m.deadlineMissRate,
    energyMJ: m.energyMJ,
    latencyMeanMs: m.latencyMeanMs,
    latencyP99Ms: m.latencyP99Ms,
    achievedFps: m.achievedFps,
    rtScore: m.rtScore,
    energyScore: m.energyScore,
    uxScore: m.uxScore,
    xrbenchScore: m.xrbenchScore,
    uxCost: m.uxCost,
    accuracy: m.accuracy,
    feasible: m.feasible,
  })),
  summary: {
    xrbenchScore: r.summary.xrbenchScore,
    uxCost: r.summary.uxCost,
    accuracy: r.summary.accuracy,
    deadlineMissRate: r.summary.deadlineMissRate,
    energyMJ: r.summary.energyMJ,
    energyMJPerS: r.summary.energyMJPerS,
    released: r.summary.released,
    onTime: r.summary.onTime,
    late: r.summary.late,
    dropped: r.summary.dropped,
    unfinished: r.summary.unfinished,
    infeasibleModels: r.summary.infeasibleModels,
  },
  decisions: r.decisions,
  supernet: r.supernet,
  ...(r.live === undefined ? {} : { live: r.live }),
  ...(r.tuning.length === 0 ? {} : { tuning: r.tuning }),
  uxCostDefinition: r.uxCostDefinition,
});
