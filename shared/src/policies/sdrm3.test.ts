/**
 * SDRM3's scores on hand-computed cases (DESIGN.md §8): urgency, fairness, preference, the drop
 * rule with its starvation threshold, the feasibility guard, MapScore and the greedy matching with
 * its tie-breaks.
 */
import { describe, expect, it } from "vitest";
import { resolvePolicy } from "./catalogue";
import { optimisticRemaining } from "../actors/scheduler-kernel";
import type { ModelCosts } from "../domain/types";
import { Prng } from "../domain/prng";
import {
  affinitySkips,
  cascadeWork,
  decideSdrm3,
  fairness,
  fitsByDeadline,
  guardSkips,
  isStarving,
  jobFit,
  preference,
  parallelism,
  queuedAhead,
  queuedAheadFor,
  queuedAheadOf,
  scoreSdrm3,
  shedOverload,
  shouldDrop,
  urgency,
} from "./sdrm3";
import type { AccelView, Dispatch, JobView, ModelView, SchedulerView } from "./types";

const DEFAULTS = resolvePolicy("sdrm3").params;

/** Dispatches without their recorded scores. */
const plain = (ds: ReadonlyArray<Dispatch>) => ds.map(({ job, acc, layerCount }) => ({ job, acc, layerCount }));

/** A model with per-accelerator per-layer latency (ms) and energy (mJ). */
const model = (name: string, periodMs: number, lat: number[][], energy: number[][], extra: Partial<ModelView> = {}): ModelView => {
  const costs: ModelCosts = {
    model: name,
    layerCount: lat[0]!.length,
    cycles: lat.map((l) => Float64Array.from(l, (x) => x * 1e6)),
    latencyMs: lat.map((l) => Float64Array.from(l)),
    energyMJ: energy.map((e) => Float64Array.from(e)),
  };
  return {
    name,
    variant: 0,
    periodMs,
    dependsOn: [],
    completed: 0,
    queue: [],
    costs,
    wholeCycles: Float64Array.from(costs.cycles, (c) => c.reduce((s, x) => s + x, 0)),
    optimisticRemainingMs: optimisticRemaining(costs),
    cascadeRemainingMs: 0,
    cascadeChildren: [],
    recentMissRate: 0,
    lastOnTimeAt: 0,
    ...extra,
  };
};

const job = (m: ModelView, frame: number, deadline: number, extra: Partial<JobView> = {}): JobView => ({
  id: `${m.name}:${frame}`,
  model: m.name,
  frame,
  releaseAt: 0,
  injectAt: 0,
  deadline,
  nextLayer: 0,
  layerCount: m.costs.layerCount,
  running: false,
  started: false,
  lastRanAt: 0,
  ...extra,
});

const accs = (n: number, busy: Record<number, number> = {}, now = 0): AccelView[] =>
  Array.from({ length: n }, (_, index) => ({
    index,
    id: `acc${index}`,
    idle: busy[index] === undefined,
    busyUntil: busy[index] ?? now,
  }));

const view = (now: number, models: ModelView[], accelerators: AccelView[], blockSize = 1): SchedulerView => ({
  now,
  models,
  accelerators,
  completedByModel: new Map(models.map((m) => [m.name, m.completed])),
  blockSize,
});

describe("urgency U = min(1, ToGo* / max(slack, eps))", () => {
  it("is the share of the slack the remaining work needs", () => {
    expect(urgency(5, 10, 0.01)).toBe(0.5);
    expect(urgency(0, 10, 0.01)).toBe(0);
  });
  it("saturates at 1 when the work exceeds the slack", () => {
    expect(urgency(12, 10, 0.01)).toBe(1);
  });
  it("is 1 at zero and negative slack (the floor eps keeps it finite)", () => {
    expect(urgency(5, 0, 0.01)).toBe(1);
    expect(urgency(5, -3, 0.01)).toBe(1);
    expect(urgency(0.001, 0, 0.01)).toBeCloseTo(0.1, 12);
  });
});

describe("fairness F = max(min(1, waited / period), recent miss rate)", () => {
  it("is the share of its period a job has waited since it last ran", () => {
    expect(fairness(10, 5, 20, 0)).toBe(0.25);
  });
  it("is bounded by 1", () => {
    expect(fairness(100, 0, 20, 0)).toBe(1);
  });
  it("takes the model's recent miss share when larger", () => {
    expect(fairness(10, 5, 20, 0.5)).toBe(0.5);
    expect(fairness(10, 0, 20, 0.4)).toBe(0.5);
  });
});

describe("preference P(j, a)", () => {
  // layer 0: acc0 1 ms / 4 mJ (EDP 4), acc1 4 ms / 0.5 mJ (EDP 2)
  const m = model("M", 20, [[1, 1], [4, 1]], [[4, 1], [0.5, 1]]);
  const j = job(m, 0, 20);
  it("relaxed job (U < u*): best EDP over this accelerator's EDP", () => {
    expect(preference(m, j, 0, 1, 0.1, 0.8)).toBe(0.5);
    expect(preference(m, j, 1, 1, 0.1, 0.8)).toBe(1);
  });
  it("urgent job (U >= u*): best latency over this accelerator's latency", () => {
    expect(preference(m, j, 0, 1, 0.8, 0.8)).toBe(1);
    expect(preference(m, j, 1, 1, 0.9, 0.8)).toBe(0.25);
  });
  it("an accelerator on which the layer is much slower scores near 0", () => {
    const slow = model("S", 20, [[1], [100]], [[1], [1]]);
    expect(preference(slow, job(slow, 0, 20), 1, 1, 0.1, 0.8)).toBeCloseTo(0.01, 12);
    expect(preference(slow, job(slow, 0, 20), 1, 1, 0.9, 0.8)).toBeCloseTo(0.01, 12);
  });
  it("measures a block of B layers as a whole", () => {
    // two layers: acc0 1+1 ms, 4+1 mJ (EDP 10); acc1 4+1 ms, 0.5+1 mJ (EDP 7.5)
    expect(preference(m, j, 0, 2, 0.1, 0.8)).toBeCloseTo(0.75, 12);
  });
});

describe("frame drop: ToGo* > threshold * slack", () => {
  it("drops at gamma = 1 when the work exceeds the slack, not otherwise", () => {
    expect(shouldDrop(5, 4, 1, false)).toBe(true);
    expect(shouldDrop(4, 4, 1, false)).toBe(false);
  });
  it("a lenient gamma keeps more frames", () => {
    expect(shouldDrop(5, 4, 1.5, false)).toBe(false);
  });
  it("zero and negative slack always drop", () => {
    expect(shouldDrop(0.1, 0, 1, false)).toBe(true);
    expect(shouldDrop(0.1, -2, 5, true)).toBe(true);
  });
  it("a starving model's threshold is max(gamma, 1), never exempt", () => {
    expect(shouldDrop(3, 4, 0.5, false)).toBe(true);
    expect(shouldDrop(3, 4, 0.5, true)).toBe(false);
    expect(shouldDrop(5, 4, 0.5, true)).toBe(true);
  });
  it("a model is starving when no frame was on time for starveMs", () => {
    const m = model("M", 20, [[1]], [[1]], { lastOnTimeAt: 100 });
    expect(isStarving(m, 1099, 1000)).toBe(false);
    expect(isStarving(m, 1100, 1000)).toBe(true);
    expect(isStarving(model("N", 20, [[1]], [[1]], { lastOnTimeAt: null }), 1000, 1000)).toBe(true);
  });
});

describe("feasibility guard", () => {
  // one layer: acc0 2 ms, acc1 10 ms
  const m = model("M", 20, [[2], [10]], [[1], [1]]);
  it("skips a slow accelerator when a busy fast one would still meet the deadline", () => {
    const j = job(m, 0, 8);
    const v = view(0, [m], accs(2, { 0: 5 })); // acc0 busy until 5: 5 + 2 = 7 <= 8
    expect(guardSkips(v, m, j, 1, 1)).toBe(true);
  });
  it("keeps the pair when no accelerator can meet the deadline", () => {
    const j = job(m, 0, 6);
    const v = view(0, [m], accs(2, { 0: 5 })); // 5 + 2 = 7 > 6, 0 + 10 > 6
    expect(guardSkips(v, m, j, 1, 1)).toBe(false);
  });
  it("keeps the pair when it is feasible itself", () => {
    const j = job(m, 0, 12);
    expect(guardSkips(view(0, [m], accs(2, { 0: 5 })), m, j, 1, 1)).toBe(false);
  });
});

describe("MapScore and greedy matching", () => {
  it("S = U + alpha F + beta P for every (ready job, idle accelerator) pair", () => {
    // A: one layer, acc0 2 ms / 1 mJ, acc1 4 ms / 1 mJ; deadline 10 at now 0 → U = 2/10 = 0.2,
    // waited 5 of period 20 since release → F = 0.25 (now = 5, lastRanAt = 0, deadline 15 → U = 2/10).
    const a = model("A", 20, [[2], [4]], [[1], [1]]);
    const j = job(a, 0, 15);
    const v = view(5, [{ ...a, queue: [j] }], accs(2));
    const { candidates } = scoreSdrm3(v, { ...DEFAULTS, alpha: 2, beta: 3 });
    const on = (acc: number) => candidates.find((c) => c.acc === acc)!;
    expect(on(0).u).toBeCloseTo(0.2, 12);
    expect(on(0).f).toBeCloseTo(0.25, 12);
    expect(on(0).p).toBe(1); // EDP 2 vs 4
    expect(on(1).p).toBe(0.5);
    expect(on(0).score).toBeCloseTo(0.2 + 2 * 0.25 + 3 * 1, 12);
    expect(on(1).score).toBeCloseTo(0.2 + 2 * 0.25 + 3 * 0.5, 12);
  });

  it("assigns the best pair first, then the best of what is left", () => {
    // U: job X urgent (ToGo 8, slack 10 → 0.8), job Y relaxed (ToGo 1, slack 20 → 0.05).
    // X prefers acc0 (fast): P(X,0)=1, P(X,1)=0.5. Y prefers acc1 (energy): EDP acc0 1*4=4, acc1 2*1=2.
    const x = model("X", 20, [[8], [16]], [[1], [1]]);
    const y = model("Y", 40, [[1], [2]], [[4], [1]]);
    const v = view(0, [{ ...x, queue: [job(x, 0, 10)] }, { ...y, queue: [job(y, 0, 20)] }], accs(2));
    const d = decideSdrm3(v, { ...DEFAULTS, alpha: 0, guard: 0 });
    expect(d.drops).toEqual([]);
    expect(plain(d.dispatches)).toEqual([
      { job: "X:0", acc: 0, layerCount: 1 },
      { job: "Y:0", acc: 1, layerCount: 1 },
    ]);
    // the decision carries the scores that drove it: U = 0.8, F = 0 (alpha 0), P = 1 → S = 1.8
    expect(d.dispatches[0]!.scores).toEqual({ S: 1.8, U: 0.8, F: 0, P: 1 });
  });

  it("breaks ties by deadline, then model name, then accelerator index", () => {
    const same = (name: string) => model(name, 20, [[10], [10]], [[1], [1]]);
    const a = same("A");
    const b = same("B");
    const c = same("C");
    // Both jobs saturate U (ToGo 10 > slack) and alpha = beta = 0: equal scores, B has the earlier deadline.
    const v1 = view(0, [{ ...a, queue: [job(a, 0, 8)] }, { ...b, queue: [job(b, 0, 5)] }], accs(1));
    const d1 = decideSdrm3(v1, { ...DEFAULTS, alpha: 0, beta: 0, drop: 0, guard: 0 });
    expect(plain(d1.dispatches)).toEqual([{ job: "B:0", acc: 0, layerCount: 1 }]);
    // Same deadline, same scores: model name order, and the lower accelerator index first.
    const v2 = view(0, [{ ...c, queue: [job(c, 0, 100)] }, { ...a, queue: [job(a, 0, 100)] }], accs(2));
    const d2 = decideSdrm3(v2, DEFAULTS);
    expect(plain(d2.dispatches)).toEqual([
      { job: "A:0", acc: 0, layerCount: 1 },
      { job: "C:0", acc: 1, layerCount: 1 },
    ]);
  });

  it("drops a frame that cannot make its deadline even on the fastest accelerators", () => {
    const m = model("M", 20, [[3, 3], [5, 5]], [[1, 1], [1, 1]]);
    const v = view(15, [{ ...m, queue: [job(m, 0, 20)] }], accs(2)); // ToGo* 6 > slack 5
    const d = decideSdrm3(v, DEFAULTS);
    expect(d.drops.map((x) => x.job)).toEqual(["M:0"]);
    expect(plain(d.dispatches)).toEqual([]);
  });

  it("never drops with drop=0 (ablation)", () => {
    const m = model("M", 20, [[3, 3], [5, 5]], [[1, 1], [1, 1]]);
    const v = view(15, [{ ...m, queue: [job(m, 0, 20)] }], accs(2));
    const d = decideSdrm3(v, { ...DEFAULTS, drop: 0 });
    expect(d.drops).toEqual([]);
    expect(plain(d.dispatches)).toEqual([{ job: "M:0", acc: 0, layerCount: 1 }]);
  });

  it("boosts the feasible jobs of a starving model over a more urgent job", () => {
    const hungry = model("H", 20, [[1], [1]], [[1], [1]], { lastOnTimeAt: null });
    const busy = model("B", 20, [[9], [9]], [[1], [1]], { lastOnTimeAt: 1990 });
    const v = view(2000, [{ ...hungry, queue: [job(hungry, 0, 2019)] }, { ...busy, queue: [job(busy, 0, 2010)] }], accs(1));
    const d = decideSdrm3(v, DEFAULTS);
    expect(plain(d.dispatches)).toEqual([{ job: "H:0", acc: 0, layerCount: 1 }]);
  });

  it("leaves running jobs alone and dispatches blocks of the run's block size", () => {
    const m = model("M", 20, [[1, 1, 1], [1, 1, 1]], [[1, 1, 1], [1, 1, 1]]);
    const v = view(0, [{ ...m, queue: [job(m, 0, 20, { running: true }), job(m, 1, 40)] }], accs(2), 2);
    const d = decideSdrm3(v, DEFAULTS);
    expect(plain(d.dispatches)).toEqual([{ job: "M:1", acc: 0, layerCount: 2 }]);
  });
});

describe("affinity guard (pmin)", () => {
  // one layer: acc0 fast but energy-hungry (1 ms, 10 mJ: EDP 10), acc1 efficient (2 ms, 1 mJ: EDP 2)
  const m = model("M", 100, [[1], [2]], [[10], [1]]);
  it("a relaxed job waits for the efficient accelerator when it is busy but finishes the job in time", () => {
    const j = job(m, 0, 100); // U = 1/100: relaxed; P(acc0) = 2/10 = 0.2 < pmin 0.5
    const v = view(0, [{ ...m, queue: [j] }], accs(2, { 1: 5 })); // acc1 free at 5: 5 + 2 <= 100
    expect(affinitySkips(v, m, j, 0, 1, 0.01, { ustar: 0.8, pmin: 0.5 })).toBe(true);
    expect(plain(decideSdrm3(v, DEFAULTS).dispatches)).toEqual([]);
  });
  it("does not wait when the efficient accelerator would not finish it in time", () => {
    const j = job(m, 0, 6); // acc1 free at 5: 5 + 2 > 6
    const v = view(0, [{ ...m, queue: [j] }], accs(2, { 1: 5 }));
    expect(affinitySkips(v, m, j, 0, 1, 1 / 6, { ustar: 0.8, pmin: 0.5 })).toBe(false);
    expect(plain(decideSdrm3(v, DEFAULTS).dispatches)).toEqual([{ job: "M:0", acc: 0, layerCount: 1 }]);
  });
  it("never holds back an urgent job, and pmin = 0 turns it off", () => {
    const j = job(m, 0, 100);
    const v = view(0, [{ ...m, queue: [j] }], accs(2, { 1: 5 }));
    expect(affinitySkips(v, m, j, 0, 1, 0.9, { ustar: 0.8, pmin: 0.5 })).toBe(false);
    expect(plain(decideSdrm3(v, { ...DEFAULTS, pmin: 0 }).dispatches)).toEqual([{ job: "M:0", acc: 0, layerCount: 1 }]);
  });
});

describe("cascade work in the urgency", () => {
  const parent = model("P", 20, [[1]], [[1]], { cascadeRemainingMs: 4, cascadeChildren: [{ name: "C", expectedWorkMs: 4 }] });
  const child = model("C", 20, [[4]], [[1]], { recentMissRate: 0.25 });
  const byName = new Map([["P", parent], ["C", child]]);
  it("mode 0 ignores the children, 1 counts their expected work, 2 weights it by their recent miss rate", () => {
    expect(cascadeWork(parent, byName, 0)).toBe(0);
    expect(cascadeWork(parent, byName, 1)).toBe(4);
    expect(cascadeWork(parent, byName, 2)).toBe(1);
  });
  it("raises the parent's urgency accordingly (ToGo 1 + 4 over slack 10)", () => {
    const v = view(0, [{ ...parent, queue: [job(parent, 0, 10)] }, child], accs(1));
    const u = (cascade: number) => scoreSdrm3(v, { ...DEFAULTS, cascade }).candidates[0]!.u;
    expect(u(0)).toBeCloseTo(0.1, 12);
    expect(u(1)).toBeCloseTo(0.5, 12);
    expect(u(2)).toBeCloseTo(0.2, 12);
  });
});

describe("jobFit (P and the guards of a job on every accelerator) agrees with the per-pair functions", () => {
  it("on real XRBench layers over busy and idle accelerators, relaxed and urgent jobs", async () => {
    const { resolveRunSpec } = await import("../runtime/spec");
    const { optimisticRemaining: remaining } = await import("../actors/scheduler-kernel");
    const opts = resolveRunSpec({ scenario: "AR_Assistant", hardware: "Quad_8K/WS_OS_WS_OS", policy: "sdrm3", durationMs: 100 });
    let checked = 0;
    for (const [name, costs] of opts.costs) {
      const m = model(name, 33, costs.latencyMs.map((l) => [...l]), costs.energyMJ.map((e) => [...e]));
      expect(remaining(costs)[0]).toBeCloseTo(m.optimisticRemainingMs[0]!, 9);
      for (const [nextLayer, deadline, busy] of [[0, 40, { 1: 3 }], [3, 6, { 0: 2, 2: 1 }], [costs.layerCount - 2, 12, {}]] as const) {
        const j = job(m, 0, deadline, { nextLayer });
        const accelerators = accs(4, busy as Record<number, number>);
        const v = view(0, [m], accelerators);
        for (const u of [0.1, 0.95]) {
          for (const layers of [1, 2]) {
            const fit = jobFit(v, m, j, layers, u, { ustar: 0.8, pmin: 0.5, marginMs: 0.3 });
            for (let a = 0; a < 4; a++) {
              expect(fit.preference[a]).toBe(preference(m, j, a, layers, u, 0.8));
              expect(fit.guardSkips[a] === 1).toBe(guardSkips(v, m, j, a, layers, 0.3));
              expect(fit.affinitySkips[a] === 1).toBe(affinitySkips(v, m, j, a, layers, u, { ustar: 0.8, pmin: 0.5, marginMs: 0.3 }));
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBe(6 * 3 * 2 * 2 * 4);
  });
});

describe("behaviour 2: work ahead, overload shedding, critical jobs (hand-computed)", () => {
  it("queuedAhead: the demand of every other job due no later, over the accelerators", () => {
    const out = new Float64Array(3);
    // deadlines 10, 20, 10; demands 2, 4, 6; 2 accelerators
    queuedAhead(Float64Array.of(10, 20, 10), Float64Array.of(2, 4, 6), 3, 2, out);
    expect([...out]).toEqual([6 / 2, (2 + 6) / 2, 2 / 2]);
  });

  it("queuedAheadFor (four jobs per pass, no branch) gives queuedAheadOf's sums bit for bit, for any subset, with ties and non-finite demands", () => {
    const rand = Prng.forStream(3, "queued-ahead");
    let checked = 0;
    for (let t = 0; t < 300; t++) {
      const count = 1 + Math.floor(rand.next() * 40);
      const deadlines = Float64Array.from({ length: count }, () => 100 + Math.floor(rand.next() * 20) * (rand.next() < 0.5 ? 1 : 0.1 + rand.next()));
      const demand = Float64Array.from({ length: count }, () => (rand.next() < 0.2 ? 0 : rand.next() * 7.3));
      if (t % 10 === 0) demand[Math.floor(rand.next() * count)] = t % 20 === 0 ? Number.POSITIVE_INFINITY : Number.NaN;
      const which = Int32Array.from({ length: count }, (_, i) => i).filter(() => rand.next() < 0.7);
      const out = new Float64Array(count).fill(-1);
      queuedAheadFor(deadlines, demand, count, 3, which, which.length, out);
      for (const i of which) {
        expect(Object.is(out[i], queuedAheadOf(deadlines, demand, count, 3, i))).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3000);
  });

  it("parallelism: what the accelerators are worth to a model, in units of every layer on its fastest accelerator", () => {
    // layers 2 and 4 ms on accelerator 0, 6 and 1 ms on accelerator 1: fastest 2 + 1 = 3 ms;
    // the whole model takes 6 ms on 0 and 7 ms on 1: 3/6 + 3/7 ≈ 0.929 (not 2)
    expect(parallelism(model("H", 20, [[2, 4], [6, 1]], [[1, 1], [1, 1]]).costs)).toBeCloseTo(3 / 6 + 3 / 7, 12);
    // identical accelerators: n
    expect(parallelism(model("I", 20, [[2, 4], [2, 4], [2, 4]], [[1, 1], [1, 1], [1, 1]]).costs)).toBe(3);
  });

  it("shedOverload: the processor-demand test in deadline order sheds the least value per ms, never a started job", () => {
    const shed = new Uint8Array(3);
    const deadlines = Float64Array.of(10, 12, 14);
    const demand = Float64Array.of(6, 7, 2);
    // value per ms: 6/6 = 1, 10/7 ≈ 1.43, 1/2 = 0.5
    const value = Float64Array.of(6, 10, 1);
    // now 0, 1 accelerator: 6 + 7 = 13 > 12 at the second deadline; of the two jobs due by then the
    // first is worth least per ms (the third is cheaper but due later: not in that window); then 7 + 2 ≤ 14
    shedOverload(0, deadlines, demand, value, Uint8Array.of(1, 1, 1), 3, 1, shed);
    expect([...shed]).toEqual([1, 0, 0]);
    // the first has started: the second gives way (6 + 2 ≤ 14 after it)
    shedOverload(0, deadlines, demand, value, Uint8Array.of(0, 1, 1), 3, 1, shed);
    expect([...shed]).toEqual([0, 1, 0]);
    // two accelerators: 13 / 2 ≤ 12 and 15 / 2 ≤ 14, nothing sheds
    shedOverload(0, deadlines, demand, value, Uint8Array.of(1, 1, 1), 3, 2, shed);
    expect([...shed]).toEqual([0, 0, 0]);
    // fitsByDeadline (the decision's test before the walk) agrees: every job fits on 2, not on 1
    const ahead = new Float64Array(3);
    queuedAhead(deadlines, demand, 3, 2, ahead);
    expect(fitsByDeadline(0, deadlines, demand, ahead, 3, 2)).toBe(true);
    queuedAhead(deadlines, demand, 3, 1, ahead);
    expect(fitsByDeadline(0, deadlines, demand, ahead, 3, 1)).toBe(false);
  });

  it("a critical job (laxity shorter than another job's next block) takes the accelerator first", () => {
    // N: 1 ms left, slack 1.5 (laxity 0.5), just ran: S = 1/1.5 + 0 + 1 ≈ 1.67;
    // L: 10 ms left, slack 100, waited a whole period: S = 0.1 + 1 + 1 = 2.1 — L wins the MapScore
    const near = model("N", 20, [[1], [1]], [[1], [1]]);
    const late = model("L", 200, [[10], [10]], [[1], [1]]);
    const v = view(
      300,
      [
        { ...late, queue: [job(late, 0, 400, { lastRanAt: 0 })] },
        { ...near, queue: [job(near, 0, 301.5, { lastRanAt: 300 })] },
      ],
      accs(1, {}, 300),
    );
    expect(plain(decideSdrm3(v, DEFAULTS).dispatches)).toEqual([{ job: "N:0", acc: 0, layerCount: 1 }]);
    // without the rule L takes it; the block guard (behaviour 3) keeps L's 10-ms block off it too, so both are off here
    expect(plain(decideSdrm3(v, { ...DEFAULTS, critical: 0, blockGuard: 0 }).dispatches)).toEqual([{ job: "L:0", acc: 0, layerCount: 1 }]);
    expect(plain(decideSdrm3(v, { ...DEFAULTS, critical: 0 }).dispatches)).toEqual([{ job: "N:0", acc: 0, layerCount: 1 }]);
  });
});
