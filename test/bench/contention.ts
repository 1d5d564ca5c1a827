/**
 * How often the list-scheduling baselines can differ (issue 14, docs/baselines.md): runs one
 * baseline (edf with drop=1) on the direct engine and, at every decision point where an
 * accelerator is idle and a job is ready, counts whether the point is contended (more ready jobs
 * than idle accelerators: only then can a priority order matter) and whether the list baselines
 * with drop=1 (fcfs, rr, edf, llf, sjf, prema, planaria) would dispatch differently on that same view.
 *
 *   node --import tsx test/bench/contention.ts [durationMs=10000] [seed=1]
 */
import { resolvePolicy } from "@sdrm3/shared/policies";
import type { Decision, SchedulerView } from "@sdrm3/shared/policies";
import { resolveRunSpec, simulateDirect } from "@sdrm3/shared/runtime";

const SCENARIOS = ["VR_gaming", "AR_gaming", "social_interactionA", "outdoor_activity_A", "AR_Assistant"];
const HARDWARE = ["Dual_4K/WS_OS", "Quad_8K/WS_OS_WS_OS"];
const LIST = ["fcfs", "rr", "edf", "llf", "sjf", "prema", "planaria"];
const durationMs = Number(process.argv[2] ?? 10_000);
const seed = Number(process.argv[3] ?? 1);

const key = (d: Decision) => d.dispatches.map((x) => `${x.job}@${x.acc}x${x.layerCount}`).sort().join(" ");
const others = LIST.map((name) => resolvePolicy(name, { drop: 1 }));

console.log(`| scenario | hardware | decision points (idle accelerator, ready job) | contended (ready > idle) | list baselines disagree |`);
console.log(`|---|---|---:|---:|---:|`);
for (const scenario of SCENARIOS) {
  for (const hardware of HARDWARE) {
    const opts = resolveRunSpec({ scenario, hardware, policy: "edf", params: { drop: 1 }, durationMs, seed });
    let points = 0;
    let contended = 0;
    let disagree = 0;
    const inner = opts.policy.decide;
    const decide = (view: SchedulerView): Decision => {
      const idle = view.accelerators.filter((a) => a.idle).length;
      let ready = 0;
      for (const m of view.models) for (const j of m.queue) if (!j.running) ready++;
      if (idle > 0 && ready > 0) {
        points++;
        if (ready > idle) contended++;
        const keys = new Set(others.map((p) => key(p.decide(view))));
        if (keys.size > 1) disagree++;
      }
      return inner(view);
    };
    simulateDirect({ ...opts, policy: { ...opts.policy, decide } });
    const share = (n: number) => `${n} (${((100 * n) / Math.max(1, points)).toFixed(1)}%)`;
    console.log(`| ${scenario} | ${hardware} | ${points} | ${share(contended)} | ${share(disagree)} |`);
  }
}
