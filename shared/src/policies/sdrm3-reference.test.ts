/**
 * sdrm3's decision (P and both guards computed once per job into buffers, the scored pairs as
 * columns, greedy matching by per-job order) against its definition written out pair by pair:
 * P by a scan over the accelerators, each guard by its own scan, one candidate object per
 * (ready job, idle accelerator) pair, one full sort by the matching order (score descending,
 * deadline, model name bytes, frame, accelerator) and the greedy scan. Dispatches, drops and
 * recorded scores must be equal byte for byte (as JSON), on every view of real runs and on seeded
 * views with busy accelerators, tight deadlines, margins and every guard setting. The work queued
 * ahead of a job (contend) is a sum over every other job, the overload shedding a scan over the
 * deadline-sorted jobs for each shed, the affordable test a sum over the layers; the blocking terms
 * of behaviour 3 (affordableUrgent, blockGuard) scans over every other job and accelerator.
 */
import { describe, expect, it } from "vitest";
import { optimisticRemaining } from "../actors/scheduler-kernel";
import { Prng } from "../domain/prng";
import { resolveRunSpec } from "../runtime/spec";
import { simulateDirect } from "../runtime/direct";
import { resolvePolicy } from "./catalogue";
import { blockEnergyMJ, blockLatencyMs, byteCompare, nextBlockLayers, toGoMs } from "./common";
import { affinitySkips, blockSizeOf, cascadeWork, decideSdrm3, fairness, guardSkips, isStarving, jobFit, preference, scoreSdrm3, shouldDrop, urgency } from "./sdrm3";
import { SUPERNET_DEFAULTS, offersVariants, supernetLoad, variantForLoad, variantView } from "./supernet";
import type { AccelView, Decision, Dispatch, Drop, JobView, ModelView, PolicyParams, SchedulerView } from "./types";

// ─── the reference: the definitions, pair by pair ────────────────────────────────────────────

const refPreference = (model: ModelView, job: JobView, acc: number, layers: number, u: number, ustar: number): number => {
  let best = Number.POSITIVE_INFINITY;
  let mine = Number.NaN;
  for (let a = 0; a < model.costs.latencyMs.length; a++) {
    const lat = blockLatencyMs(model, a, job.nextLayer, layers);
    const metric = u < ustar ? lat * blockEnergyMJ(model, a, job.nextLayer, layers) : lat;
    if (metric < best) best = metric;
    if (a === acc) mine = metric;
  }
  return mine === 0 ? 1 : best / mine;
};

const finishOn = (view: SchedulerView, model: ModelView, job: JobView, layers: number, a: AccelView, aheadMs: number): number =>
  Math.max(view.now, a.busyUntil) + blockLatencyMs(model, a.index, job.nextLayer, layers) + (model.optimisticRemainingMs[job.nextLayer + layers]! + aheadMs);

const refGuardSkips = (view: SchedulerView, model: ModelView, job: JobView, acc: number, layers: number, marginMs: number, aheadMs = 0): boolean => {
  const due = job.deadline - marginMs;
  if (!(finishOn(view, model, job, layers, view.accelerators[acc]!, aheadMs) > due)) return false;
  return view.accelerators.some((a) => a.index !== acc && finishOn(view, model, job, layers, a, aheadMs) <= due);
};

const refAffinitySkips = (
  view: SchedulerView,
  model: ModelView,
  job: JobView,
  acc: number,
  layers: number,
  u: number,
  ustar: number,
  pmin: number,
  marginMs: number,
  aheadMs = 0,
): boolean => {
  if (pmin <= 0 || u >= ustar) return false;
  if (refPreference(model, job, acc, layers, u, ustar) >= pmin) return false;
  const rest = job.layerCount - job.nextLayer;
  return view.accelerators.some(
    (a) =>
      a.index !== acc &&
      refPreference(model, job, a.index, layers, u, ustar) >= pmin &&
      Math.max(view.now, a.busyUntil) + blockLatencyMs(model, a.index, job.nextLayer, rest) <= job.deadline - marginMs - aheadMs,
  );
};

/** Latency of the rest of the job, each layer on its least-EDP accelerator (lowest index on ties): the sum from the last layer back to l, at the next layer minus at the end. */
const refEdpRest = (model: ModelView, job: JobView): number => {
  const from = (l0: number): number => {
    let sum = 0;
    for (let l = model.costs.layerCount - 1; l >= l0; l--) {
      let best = 0;
      for (let a = 1; a < model.costs.latencyMs.length; a++) {
        if (model.costs.latencyMs[a]![l]! * model.costs.energyMJ[a]![l]! < model.costs.latencyMs[best]![l]! * model.costs.energyMJ[best]![l]!) best = a;
      }
      sum = sum + model.costs.latencyMs[best]![l]!;
    }
    return sum;
  };
  return from(job.nextLayer) - from(Math.min(job.layerCount, model.costs.layerCount));
};

/** Per accelerator a: latency of those of the job's remaining layers whose least-EDP accelerator is a (summed from the last layer back). */
const refEdpRestOn = (model: ModelView, job: JobView): number[] => {
  const n = model.costs.latencyMs.length;
  const from = (l0: number): number[] => {
    const sums = new Array<number>(n).fill(0);
    for (let l = model.costs.layerCount - 1; l >= l0; l--) {
      let best = 0;
      for (let a = 1; a < n; a++) {
        if (model.costs.latencyMs[a]![l]! * model.costs.energyMJ[a]![l]! < model.costs.latencyMs[best]![l]! * model.costs.energyMJ[best]![l]!) best = a;
      }
      sums[best] = sums[best]! + model.costs.latencyMs[best]![l]!;
    }
    return sums;
  };
  const start = from(job.nextLayer);
  const end = from(Math.min(job.layerCount, model.costs.layerCount));
  return start.map((x, a) => x - end[a]!);
};

interface RefJob {
  readonly id: string;
  readonly deadline: number;
  /** Behaviour 3: laxity (NaN when dropped), least-EDP work per accelerator (+ cascade work spread), longest next block, next layer's latency per accelerator. */
  readonly laxity: number;
  readonly edpOn: number[];
  readonly hold: number;
  readonly nextLat: number[];
  /** ToGo* plus the cascade children's expected work, × n / parallelism; 0 for a job the drop rule drops now. */
  readonly demand: number;
  readonly value: number;
  readonly sheddable: boolean;
}

/** Σ over accelerators of (the model, every layer on its fastest accelerator) / (the whole model on that accelerator). */
const refParallelism = (model: ModelView): number => {
  const { latencyMs, layerCount } = model.costs;
  const layers = Array.from({ length: layerCount }, (_, l) => l);
  const fastest = layers.reduce((sum, l) => sum + Math.min(...latencyMs.map((row) => row[l]!)), 0);
  return latencyMs.reduce((p, row) => {
    const total = layers.reduce((sum, l) => sum + row[l]!, 0);
    return p + (total > 0 ? fastest / total : 1);
  }, 0);
};

/** Work ahead of `j`: the demand of every other job with a deadline at or before its own, over the accelerators. */
const refAhead = (jobs: ReadonlyArray<RefJob>, j: RefJob, accelerators: number): number => {
  let sum = 0;
  for (const k of jobs) if (k !== j && k.deadline <= j.deadline) sum += k.demand;
  return sum / accelerators;
};

/** The shed jobs: in deadline order (ties: view order), while a job is predicted late, shed the least value per ms of demand up to it. */
const refShed = (now: number, jobs: ReadonlyArray<RefJob>, accelerators: number): Set<string> => {
  const sorted = jobs.map((j, i) => ({ j, i })).sort((x, y) => x.j.deadline - y.j.deadline || x.i - y.i).map((x) => x.j);
  const shed = new Set<string>();
  for (let x = 0; x < sorted.length; x++) {
    const k = sorted[x]!;
    const late = () => {
      let ahead = 0;
      for (let y = 0; y <= x; y++) if (y !== x && !shed.has(sorted[y]!.id)) ahead += sorted[y]!.demand;
      return now + (k.demand + ahead) / accelerators > k.deadline;
    };
    while (!shed.has(k.id) && late()) {
      const candidates = sorted.slice(0, x + 1).filter((v) => !shed.has(v.id) && v.sheddable && v.demand > 0);
      if (candidates.length === 0) break;
      // least value per ms; ties: the later in deadline order
      let victim = candidates[0]!;
      for (const v of candidates) if (v.value / v.demand <= victim.value / victim.demand) victim = v;
      shed.add(victim.id);
    }
  }
  return shed;
};

interface RefCandidate {
  readonly job: JobView;
  readonly model: ModelView;
  readonly variant: number | undefined;
  readonly acc: number;
  readonly score: number;
  readonly u: number;
  readonly f: number;
  readonly p: number;
}

const refDecide = (view: SchedulerView, params: PolicyParams): Decision => {
  const { alpha, beta, gamma, ustar, eps, starveMs, boost, drop, guard, pmin, margin, cascade, contend, affordable, overload, critical, affordableUrgent, blockGuard } = params as Record<string, number>;
  const loadTerms = contend === 1 || (drop === 1 && overload! > 0);
  const idle = view.accelerators.filter((a) => a.idle);
  const byName = new Map(view.models.filter((m) => m.variant === 0).map((m) => [m.name, m]));
  const load = offersVariants(view) ? supernetLoad(view, params.horizonMs ?? SUPERNET_DEFAULTS.horizonMs) : 0;
  const candidates: RefCandidate[] = [];
  const drops: Drop[] = [];
  const n = view.accelerators.length;
  // every unfinished job, running ones included
  const all: RefJob[] = [];
  for (const full of view.models) {
    const starving = isStarving(full, view.now, starveMs!);
    const chosen = full.variants === undefined ? undefined : variantForLoad(load, params.lambda1 ?? SUPERNET_DEFAULTS.lambda1, params.lambda2 ?? SUPERNET_DEFAULTS.lambda2, full.variants.length);
    for (const job of full.queue) {
      const model = job.started || chosen === undefined ? full : variantView(full, chosen);
      const toGo = toGoMs(model, job);
      const dropped = drop === 1 && !job.running && shouldDrop(toGo, job.deadline - view.now, gamma!, starving);
      const left = job.nextLayer < job.layerCount;
      const layers = nextBlockLayers(job, blockSizeOf(view, params));
      const childWork = cascadeWork(full, byName, cascade!);
      all.push({
        id: job.id,
        deadline: job.deadline,
        laxity: dropped ? Number.NaN : job.deadline - view.now - toGo,
        edpOn: dropped ? new Array<number>(n).fill(0) : refEdpRestOn(model, job).map((x) => x + childWork / n),
        hold: dropped || !left ? 0 : Math.max(0, ...view.accelerators.map((a) => blockLatencyMs(model, a.index, job.nextLayer, layers))),
        nextLat: view.accelerators.map((a) => (left ? model.costs.latencyMs[a.index]![job.nextLayer]! : 0)),
        demand: dropped ? 0 : ((toGo + cascadeWork(full, byName, cascade!)) * n) / refParallelism(model),
        value: full.periodMs / Math.max(0.1, 1 - full.recentMissRate),
        sheddable: !(job.started || job.running || starving || dropped),
      });
    }
  }
  const shedding = drop === 1 ? overload! : 0;
  const shed = shedding > 0 ? refShed(view.now, all, n) : new Set<string>();
  // every scored job: its laxity and its shortest next block on an idle accelerator (for the critical rank)
  const scored: Array<{ id: string; laxity: number; minBlock: number }> = [];
  const refJob = new Map(all.map((j) => [j.id, j]));
  for (const full of view.models) {
    const starving = isStarving(full, view.now, starveMs!);
    const childWork = cascadeWork(full, byName, cascade!);
    const chosen = full.variants === undefined ? undefined : variantForLoad(load, params.lambda1 ?? SUPERNET_DEFAULTS.lambda1, params.lambda2 ?? SUPERNET_DEFAULTS.lambda2, full.variants.length);
    for (const job of full.queue) {
      if (job.running) continue;
      const model = job.started || chosen === undefined ? full : variantView(full, chosen);
      const slack = job.deadline - view.now;
      const toGo = toGoMs(model, job);
      if (drop === 1 && shouldDrop(toGo, slack, gamma!, starving)) {
        const threshold = starving ? Math.max(gamma!, 1) : gamma!;
        drops.push({ job: job.id, reason: `ToGo* ${toGo.toFixed(3)} ms > ${threshold} x slack ${slack.toFixed(3)} ms`, scores: { toGo, slack, threshold } });
        continue;
      }
      if (idle.length === 0) continue;
      if (shedding === 2 && shed.has(job.id)) continue;
      const ahead = contend === 1 ? refAhead(all, refJob.get(job.id)!, n) : 0;
      const u = urgency(toGo + childWork, slack, eps!);
      const f = fairness(view.now, job.lastRanAt, model.periodMs, model.recentMissRate);
      const layers = nextBlockLayers(job, blockSizeOf(view, params));
      const marginMs = margin! * model.periodMs;
      // relaxed only while the rest at its least-EDP fit still meets the deadline
      let relaxedU = affordable === 1 && u < ustar! && refEdpRest(model, job) + ahead + childWork > slack - marginMs ? ustar! : u;
      const me = refJob.get(job.id)!;
      const others = all.filter((k) => k !== me);
      // behaviour 3: an urgent job keeps the efficient fit when its least-EDP rest meets the deadline behind the longest block
      // another job can hold and the others' least-EDP work due no later on the accelerator it loads most
      if (!(affordable === 1 && u < ustar!) && affordableUrgent === 1 && loadTerms && u >= ustar!) {
        const blocking = Math.max(0, ...others.map((k) => k.hold));
        let busiest = 0;
        for (let a = 0; a < n; a++) {
          let sum = 0;
          for (const k of others) if (k.deadline <= me.deadline) sum += k.edpOn[a]!;
          if (sum > busiest) busiest = sum;
        }
        if (refEdpRest(model, job) + (blocking + busiest) + childWork <= slack - marginMs) relaxedU = -1;
      }
      // the block guard: a block on a longer than the laxity of a job due earlier, for which a is the only idle accelerator as fast as any
      const holdsUp = (a: number, blockMs: number): boolean =>
        others.some((x) => {
          if (!(x.deadline < me.deadline && x.laxity >= 0 && x.laxity < blockMs)) return false;
          const fastest = Math.min(...x.nextLat);
          return x.nextLat[a]! <= fastest && !idle.some((b) => b.index !== a && x.nextLat[b.index]! <= fastest);
        });
      scored.push({ id: job.id, laxity: slack - toGo, minBlock: Math.min(...idle.map((a) => blockLatencyMs(model, a.index, job.nextLayer, layers))) });
      for (const a of idle) {
        if (guard === 1 && refGuardSkips(view, model, job, a.index, layers, marginMs, ahead)) continue;
        if (refAffinitySkips(view, model, job, a.index, layers, relaxedU, ustar!, pmin!, marginMs, ahead)) continue;
        if (blockGuard === 1 && loadTerms && holdsUp(a.index, blockLatencyMs(model, a.index, job.nextLayer, layers))) continue;
        const p = refPreference(model, job, a.index, layers, relaxedU, ustar!);
        const score = u + alpha! * f + beta! * p + (starving && toGo <= slack ? boost! : 0) - (shedding === 1 && shed.has(job.id) ? 1000 : 0);
        candidates.push({ job, model, variant: job.started ? undefined : chosen, acc: a.index, score, u, f, p });
      }
    }
  }
  // critical jobs: 0 ≤ laxity < the longest shortest-next-block among the other scored jobs
  const isCritical = (id: string): boolean => {
    const me = scored.find((x) => x.id === id)!;
    const others = scored.filter((x) => x.id !== id);
    return critical === 1 && others.length > 0 && me.laxity >= 0 && me.laxity < Math.max(...others.map((x) => x.minBlock));
  };
  const ranked = candidates.map((c) => (isCritical(c.job.id) ? { ...c, score: c.score + 100 } : c));
  const sorted = [...ranked].sort(
    (x, y) =>
      y.score - x.score || x.job.deadline - y.job.deadline || byteCompare(x.model.name, y.model.name) || x.job.frame - y.job.frame || x.acc - y.acc,
  );
  const usedJobs = new Set<string>();
  const usedAccs = new Set<number>();
  const dispatches: Dispatch[] = [];
  for (const c of sorted) {
    if (usedJobs.has(c.job.id) || usedAccs.has(c.acc)) continue;
    usedJobs.add(c.job.id);
    usedAccs.add(c.acc);
    const scores = { S: c.score, U: c.u, F: c.f, P: c.p, ...(c.variant === undefined ? {} : { L: load }) };
    dispatches.push({ job: c.job.id, acc: c.acc, layerCount: nextBlockLayers(c.job, blockSizeOf(view, params)), ...(c.variant === undefined ? {} : { variant: c.variant }), scores });
  }
  return { dispatches, drops };
};

// ─── seeded views over real XRBench costs ────────────────────────────────────────────────────

const DEFAULTS = resolvePolicy("sdrm3").params;

/** `count` views of the models of AR_Assistant on Quad_8K: ready jobs at random layers and deadlines, some accelerators busy. */
const seededViews = (count: number, seed: number, maxJobs = 2): SchedulerView[] => {
  const opts = resolveRunSpec({ scenario: "AR_Assistant", hardware: "Quad_8K/WS_OS_WS_OS", policy: "sdrm3", durationMs: 100 });
  const rand = Prng.forStream(seed, "sdrm3-reference");
  const costs = [...opts.costs.entries()].sort(([a], [b]) => byteCompare(a, b));
  const views: SchedulerView[] = [];
  const now = 1000;
  for (let v = 0; v < count; v++) {
    const models: ModelView[] = costs.map(([name, c]) => {
      const periodMs = 10 + 40 * rand.next();
      const remaining = optimisticRemaining(c);
      const queue: JobView[] = [];
      const jobs = Math.floor(rand.next() * (maxJobs + 1));
      for (let frame = 0; frame < jobs; frame++) {
        const nextLayer = Math.floor(rand.next() * c.layerCount);
        // urgency ToGo*/slack from 0.05 to beyond 1 (some dropped, some where only some accelerators are on time)
        const deadline = now + remaining[nextLayer]! / (0.05 + 1.2 * rand.next());
        queue.push({
          id: `${name}:${frame}`,
          model: name,
          frame,
          releaseAt: deadline - periodMs,
          injectAt: deadline - periodMs,
          deadline,
          nextLayer,
          layerCount: c.layerCount,
          running: rand.next() < 0.1,
          started: nextLayer > 0,
          lastRanAt: now - periodMs * rand.next(),
        });
      }
      return {
        name,
        variant: 0,
        periodMs,
        dependsOn: [],
        completed: 10,
        queue,
        costs: c,
        wholeCycles: Float64Array.from(c.cycles, (r) => r.reduce((s, x) => s + x, 0)),
        optimisticRemainingMs: remaining,
        cascadeRemainingMs: 0,
        cascadeChildren: [],
        recentMissRate: rand.next() < 0.5 ? 0 : 0.3 * rand.next(),
        lastOnTimeAt: now - 1500 * rand.next(),
      };
    });
    const accelerators: AccelView[] = opts.hardware.accelerators.map((a, index) => {
      const busy = rand.next() < 0.4;
      return { index, id: a.id, idle: !busy, busyUntil: busy ? now + 20 * rand.next() : now };
    });
    views.push({ now, models, accelerators, completedByModel: new Map(models.map((m) => [m.name, m.completed])), blockSize: 1 + Math.floor(3 * rand.next()) });
  }
  return views;
};

const PARAM_SETS: ReadonlyArray<PolicyParams> = [
  {},
  { margin: 0.1, pmin: 0.8 },
  { pmin: 0, guard: 0 },
  { ustar: 0.3, gamma: 0.5, alpha: 0, beta: 3 },
  { drop: 0, starveMs: 0, boost: 2, block: 4 },
  { contend: 0, affordable: 0, overload: 0 },
  { overload: 1, cascade: 1 },
  { contend: 0, overload: 2, ustar: 0.95, critical: 0 },
  { affordableUrgent: 0, ustar: 0.5 },
  { blockGuard: 0, margin: 0.05 },
];

describe("sdrm3's decision equals its pair-by-pair definition", () => {
  it("on seeded views over real XRBench costs, for several parameter sets", () => {
    let dispatches = 0;
    let drops = 0;
    const views = seededViews(120, 7);
    for (const set of PARAM_SETS) {
      const params = { ...DEFAULTS, ...set };
      for (const v of views) {
        const fast = decideSdrm3(v, params);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(refDecide(v, params)));
        dispatches += fast.dispatches.length;
        drops += fast.drops.length;
      }
    }
    // the views exercise both: matches and drops
    expect(dispatches).toBeGreaterThan(500);
    expect(drops).toBeGreaterThan(50);
  });

  it("with many unfinished jobs (more than 16: the overload walk's bisection, the queued-ahead sums four jobs at a time)", () => {
    let many = 0;
    const views = seededViews(60, 13, 8);
    for (const set of [{}, { overload: 1 }, { ustar: 0.95, critical: 0 }]) {
      const params = { ...DEFAULTS, ...set };
      for (const v of views) {
        expect(JSON.stringify(decideSdrm3(v, params))).toBe(JSON.stringify(refDecide(v, params)));
        if (v.models.reduce((n, m) => n + m.queue.length, 0) > 16) many++;
      }
    }
    expect(many).toBeGreaterThan(100);
  });

  it.each([
    ["social_interactionA", "Dual_4K/WS_OS", {}, false, 1],
    ["VR_to_AR_switch", "Quad_8K/WS_OS_WS_OS", { cascade: 2, margin: 0.05 }, true, 3],
    ["AR_gaming_ramp", "Dual_4K/WS_OS", { pmin: 0.8, block: 4 }, false, 1],
  ] as const)("on every view of a run: %s on %s %j (supernets %s, block %i)", (scenario, hardware, params, supernet, blockSize) => {
    const opts = resolveRunSpec({ scenario, hardware, policy: "sdrm3", params, supernet, durationMs: 1500, seed: 2, blockSize });
    const policy = opts.policy;
    let views = 0;
    const mismatches: string[] = [];
    simulateDirect({
      ...opts,
      run: "ref",
      policy: {
        ...policy,
        decide: (v) => {
          const decision = policy.decide(v);
          const fast = JSON.stringify(decision);
          const ref = JSON.stringify(refDecide(v, policy.params));
          if (fast !== ref && mismatches.length < 3) mismatches.push(`at ${v.now}: ${fast} vs ${ref}`);
          views++;
          return decision;
        },
      },
    });
    expect(mismatches).toEqual([]);
    expect(views).toBeGreaterThan(1000);
  });

  it("P and the guards of jobFit, preference, guardSkips and affinitySkips equal the pair-by-pair scans", () => {
    let checked = 0;
    for (const v of seededViews(40, 11)) {
      for (const m of v.models) {
        for (const j of m.queue) {
          for (const [u, layers, marginMs] of [[0.1, 1, 0], [0.95, 2, 0.3], [0.5, 3, 1]] as const) {
            const fit = jobFit(v, m, j, Math.min(layers, j.layerCount - j.nextLayer), u, { ustar: 0.8, pmin: 0.5, marginMs });
            const n = Math.min(layers, j.layerCount - j.nextLayer);
            for (let a = 0; a < v.accelerators.length; a++) {
              const p = refPreference(m, j, a, n, u, 0.8);
              const guarded = refGuardSkips(v, m, j, a, n, marginMs);
              const affinity = refAffinitySkips(v, m, j, a, n, u, 0.8, 0.5, marginMs);
              expect(fit.preference[a]).toBe(p);
              expect(preference(m, j, a, n, u, 0.8)).toBe(p);
              expect(fit.guardSkips[a] === 1).toBe(guarded);
              expect(guardSkips(v, m, j, a, n, marginMs)).toBe(guarded);
              expect(fit.affinitySkips[a] === 1).toBe(affinity);
              expect(affinitySkips(v, m, j, a, n, u, { ustar: 0.8, pmin: 0.5, marginMs })).toBe(affinity);
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it("scoreSdrm3 lists the pairs the decision matched from, with their terms", () => {
    for (const v of seededViews(30, 5)) {
      const { candidates, drops } = scoreSdrm3(v, DEFAULTS);
      const d = decideSdrm3(v, DEFAULTS);
      expect(drops).toEqual(d.drops);
      for (const x of d.dispatches) {
        const c = candidates.find((c) => c.job.id === x.job && c.acc === x.acc)!;
        expect({ S: c.score, U: c.u, F: c.f, P: c.p }).toEqual(x.scores);
      }
    }
  });
});
