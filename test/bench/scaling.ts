/**
 * Figure 5 — scaling with accelerators (M: 2 → 64) and ready jobs (J: 4 → 256), sdrm3.
 *
 * - Decision time: one `decide` on synthetic views (./views.ts: real XRBench costs, J ready jobs ×
 *   M idle accelerators) over the full grid M × J; p50 per cell (median over batches).
 * - Simulation: `runScenario` (in-process, virtual time, B = 1) of a synthetic scenario — N copies
 *   of ES_RITNet (42 layers, ~2.7 ms whole-model) at 60 FPS each, distinct names — on M
 *   accelerators (Quad_8K's WS and OS 2048-PE classes alternating), 200 ms simulated. Two sweeps:
 *   M = 2 … 64 with N = 16, and N = 4 … 256 with M = 8 (from 8 % to 5× the hardware's capacity:
 *   the ready-job count grows with N, the drop rule sheds the overload). The policy is wrapped to
 *   time its calls and count the ready jobs and idle accelerators it sees.
 * Growth exponents are log-log least-squares slopes (1 = linear).
 */
import { resolveModelCosts } from "@sdrm3/shared/data";
import { type Policy, resolvePolicy } from "@sdrm3/shared/policies";
import { runScenario } from "@sdrm3/shared/runtime";
import { measureDecide } from "./decisions";
import { fmt, logLogSlope, logLogSlope2, median, summarize, type Summary } from "./stats";
import type { FigureResult, Row, Table } from "./types";
import { dataset, syntheticHardware, syntheticScenario, syntheticViews } from "./views";

export const ACCS = [2, 4, 8, 16, 32, 64] as const;
export const JOBS = [4, 16, 64, 256] as const;

export interface ScalingOptions {
  readonly decisionBatches: number;
  readonly decisionMaxMs: number;
  readonly simRuns: number;
  readonly simDurationMs: number;
  readonly sweepAJobs: number;
  readonly sweepBAccs: number;
}

export interface GridCell {
  readonly accs: number;
  readonly jobs: number;
  readonly p50Us: Summary;
  readonly p99Us: Summary;
  readonly calls: number;
}

export interface SimPoint {
  readonly sweep: "accelerators" | "jobs";
  readonly accs: number;
  readonly models: number;
  readonly durationMs: number;
  readonly speed: Summary;
  readonly wallMs: Summary;
  readonly decisions: number;
  readonly decideCalls: number;
  /** Wall µs per kernel decision (whole runtime). */
  readonly usPerDecision: number;
  /** Mean µs per policy.decide call. */
  readonly usPerDecideCall: number;
  /** Share of the wall time spent inside policy.decide. */
  readonly policyShare: number;
  readonly meanReadyJobs: number;
  readonly maxReadyJobs: number;
  readonly meanIdleAccs: number;
}

const instrument = (inner: Policy) => {
  const s = { calls: 0, ms: 0, ready: 0, maxReady: 0, idle: 0 };
  const policy: Policy = {
    ...inner,
    decide: (view) => {
      let ready = 0;
      for (const m of view.models) for (const j of m.queue) if (!j.running) ready++;
      let idle = 0;
      for (const a of view.accelerators) if (a.idle) idle++;
      s.calls++;
      s.ready += ready;
      s.idle += idle;
      if (ready > s.maxReady) s.maxReady = ready;
      const t0 = performance.now();
      const d = inner.decide(view);
      s.ms += performance.now() - t0;
      return d;
    },
  };
  return { policy, s };
};

const ES = { model: "ES_RITNet", fps: 60 };

export const simPoint = async (sweep: SimPoint["sweep"], accs: number, models: number, o: ScalingOptions): Promise<SimPoint> => {
  const scenario = syntheticScenario(`synth_${models}x${accs}`, models, () => ES);
  const hardware = syntheticHardware(accs);
  const costs = resolveModelCosts(dataset(), scenario, hardware);
  const run = async (durationMs: number) => {
    const { policy, s } = instrument(resolvePolicy("sdrm3"));
    const t0 = performance.now();
    const r = await runScenario({ scenario, hardware, costs, policy, durationMs, seed: 1, blockSize: 1 });
    return { wallMs: performance.now() - t0, decisions: r.decisions, s };
  };
  await run(Math.min(50, o.simDurationMs)); // warm-up
  const runs = [];
  for (let i = 0; i < o.simRuns; i++) runs.push(await run(o.simDurationMs));
  const wall = summarize(runs.map((r) => r.wallMs));
  const last = runs[runs.length - 1]!;
  const policyMs = median(runs.map((r) => r.s.ms));
  return {
    sweep,
    accs,
    models,
    durationMs: o.simDurationMs,
    speed: summarize(runs.map((r) => o.simDurationMs / r.wallMs)),
    wallMs: wall,
    decisions: last.decisions,
    decideCalls: last.s.calls,
    usPerDecision: (wall.median * 1000) / Math.max(1, last.decisions),
    usPerDecideCall: (policyMs * 1000) / Math.max(1, last.s.calls),
    policyShare: policyMs / wall.median,
    meanReadyJobs: last.s.ready / Math.max(1, last.s.calls),
    maxReadyJobs: last.s.maxReady,
    meanIdleAccs: last.s.idle / Math.max(1, last.s.calls),
  };
};

const LINEAR_TOLERANCE = 1.1;

export const runScaling = async (o: ScalingOptions): Promise<FigureResult> => {
  const sdrm3 = resolvePolicy("sdrm3");
  const grid: GridCell[] = [];
  for (const accs of ACCS) {
    for (const jobs of JOBS) {
      const set = syntheticViews(jobs, accs, 16);
      const l = measureDecide(sdrm3, set.views, { batches: o.decisionBatches, maxCalls: 20_000, maxMs: o.decisionMaxMs, minCalls: 3 });
      grid.push({ accs, jobs, p50Us: l.p50, p99Us: l.p99, calls: l.calls });
    }
  }
  const overall = logLogSlope(grid.map((c) => c.accs * c.jobs), grid.map((c) => c.p50Us.median));
  const split = logLogSlope2(grid.map((c) => c.jobs), grid.map((c) => c.accs), grid.map((c) => c.p50Us.median));

  const sims: SimPoint[] = [];
  for (const accs of ACCS) sims.push(await simPoint("accelerators", accs, o.sweepAJobs, o));
  for (const models of JOBS) sims.push(await simPoint("jobs", o.sweepBAccs, models, o));
  const a = sims.filter((p) => p.sweep === "accelerators");
  const b = sims.filter((p) => p.sweep === "jobs");
  const slope = (pts: SimPoint[], x: (p: SimPoint) => number, y: (p: SimPoint) => number) => logLogSlope(pts.map(x), pts.map(y)).slope;
  const simSlopes = {
    accelerators: {
      wallPerSimSecond: slope(a, (p) => p.accs, (p) => p.wallMs.median),
      usPerDecision: slope(a, (p) => p.accs, (p) => p.usPerDecision),
      usPerDecideCall: slope(a, (p) => p.accs, (p) => p.usPerDecideCall),
    },
    jobs: {
      wallPerSimSecond: slope(b, (p) => p.models, (p) => p.wallMs.median),
      usPerDecision: slope(b, (p) => p.models, (p) => p.usPerDecision),
      usPerDecideCall: slope(b, (p) => p.models, (p) => p.usPerDecideCall),
      // against the ready jobs the policy actually saw
      usPerDecideCallVsReady: logLogSlope(b.map((p) => p.meanReadyJobs), b.map((p) => p.usPerDecideCall)).slope,
    },
  };

  const rows: Row[] = [
    {
      figure: "5 scaling",
      what: "sdrm3 decision p50 vs J × M (grid 2–64 acc × 4–256 jobs)",
      measured: `slope ${fmt(overall.slope)} (r² ${fmt(overall.r2, 2)}); in J ${fmt(split.bx)}, in M ${fmt(split.bz)}`,
      target: `≤ linear (slope ≤ ${LINEAR_TOLERANCE})`,
      met: overall.slope <= LINEAR_TOLERANCE,
    },
    {
      figure: "5 scaling",
      what: `simulation µs/decision vs M (N = ${o.sweepAJobs}, ${o.simDurationMs} ms sim)`,
      measured: `slope ${fmt(simSlopes.accelerators.usPerDecision)}; ${fmt(a[0]!.usPerDecision)} → ${fmt(a[a.length - 1]!.usPerDecision)} µs`,
      target: `≤ linear (slope ≤ ${LINEAR_TOLERANCE})`,
      met: simSlopes.accelerators.usPerDecision <= LINEAR_TOLERANCE,
    },
    {
      figure: "5 scaling",
      what: `simulation µs/decision vs N (M = ${o.sweepBAccs}, ${o.simDurationMs} ms sim)`,
      measured: `slope ${fmt(simSlopes.jobs.usPerDecision)}; ${fmt(b[0]!.usPerDecision)} → ${fmt(b[b.length - 1]!.usPerDecision)} µs`,
      target: `≤ linear (slope ≤ ${LINEAR_TOLERANCE})`,
      met: simSlopes.jobs.usPerDecision <= LINEAR_TOLERANCE,
    },
  ];

  const gridTable: Table = {
    title: "5a. sdrm3 decision time p50 (µs), J ready jobs × M idle accelerators (synthetic views, real costs)",
    head: ["M \\ J", ...JOBS.map(String)],
    rows: ACCS.map((accs) => [String(accs), ...JOBS.map((jobs) => fmt(grid.find((c) => c.accs === accs && c.jobs === jobs)!.p50Us.median))]),
    notes: [
      `log-log fit over the grid: t ∝ (J·M)^${fmt(overall.slope)} (r² ${fmt(overall.r2, 2)}); separately t ∝ J^${fmt(split.bx)} · M^${fmt(split.bz)}`,
      "every accelerator idle: all J × M pairs scored (the worst case of one call); the guards look at every accelerator per pair",
    ],
  };
  const simTable: Table = {
    title: `5b. Simulation scaling (sdrm3, B = 1, N × ES_RITNet @ 60 FPS, ${o.simDurationMs} ms simulated, median of ${o.simRuns} runs)`,
    head: ["sweep", "M acc", "N models", "sim s / wall s", "wall ms", "decisions", "µs / decision", "µs / decide call", "policy share", "ready jobs mean (max)", "idle acc mean"],
    rows: sims.map((p) => [
      p.sweep,
      String(p.accs),
      String(p.models),
      `${fmt(p.speed.median)}× [${fmt(p.speed.min)}–${fmt(p.speed.max)}]`,
      fmt(p.wallMs.median),
      String(p.decisions),
      fmt(p.usPerDecision),
      fmt(p.usPerDecideCall),
      `${fmt(100 * p.policyShare, 2)} %`,
      `${fmt(p.meanReadyJobs)} (${p.maxReadyJobs})`,
      fmt(p.meanIdleAccs),
    ]),
    notes: [
      `slopes vs M (N = ${o.sweepAJobs}): wall ${fmt(simSlopes.accelerators.wallPerSimSecond)}, µs/decision ${fmt(simSlopes.accelerators.usPerDecision)}, µs/decide call ${fmt(simSlopes.accelerators.usPerDecideCall)}`,
      `slopes vs N (M = ${o.sweepBAccs}): wall ${fmt(simSlopes.jobs.wallPerSimSecond)}, µs/decision ${fmt(simSlopes.jobs.usPerDecision)}, µs/decide call ${fmt(simSlopes.jobs.usPerDecideCall)} (vs mean ready jobs: ${fmt(simSlopes.jobs.usPerDecideCallVsReady)})`,
      "µs / decision = wall time / kernel decisions (dispatches + drops); policy share = time inside policy.decide / wall time",
    ],
  };
  return {
    id: "5",
    rows,
    tables: [gridTable, simTable],
    data: { grid, gridSlope: overall, gridSlopeSplit: split, sims, simSlopes, options: o },
  };
};
