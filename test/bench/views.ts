/**
 * Synthetic but realistic inputs for the decision and scaling benchmarks.
 *
 * - Hardware with M accelerators: the two accelerator classes of Quad_8K/WS_OS_WS_OS
 *   (WS_2048pe_bw256, OS_2048pe_bw256) alternating, ids acc0…acc{M-1}.
 * - Models: copies of the real XRBench models (their layers and MAESTRO per-layer costs on those
 *   classes, from the built-in dataset), named "m007_ES_RITNet", each at the FPS it has in the
 *   shipped scenarios.
 * - Scheduler views (policy input) with J ready jobs over M accelerators: one job per model copy
 *   (J copies cycling through the 11 XRBench models), at a random layer in its first 60 %, with a
 *   deadline drawn so that its urgency ToGo* ÷ slack is uniform in [0.05, 0.95] (every job feasible,
 *   so none is dropped and every policy scores all J × M pairs), recent miss rate in [0, 0.2], no
 *   model starving; every accelerator idle — the full J × M matrix (the worst case of one call).
 *   Views are seeded, so runs are repeatable.
 */
import { loadBuiltinDataset, resolveModelCosts } from "@sdrm3/shared/data";
import type { Dataset } from "@sdrm3/shared/data";
import type { AcceleratorSpec, Dataflow, Hardware, ModelCosts, Scenario, ScenarioModel } from "@sdrm3/shared/domain";
import type { AccelView, JobView, ModelView, SchedulerView } from "@sdrm3/shared/policies";
import { prng } from "./stats";

let cached: Dataset | undefined;
export const dataset = (): Dataset => (cached ??= loadBuiltinDataset());

const CLASSES: ReadonlyArray<{ dataflow: Dataflow; costClass: string }> = [
  { dataflow: "WS", costClass: "WS_2048pe_bw256" },
  { dataflow: "OS", costClass: "OS_2048pe_bw256" },
];

/** M accelerators alternating the WS and OS classes of Quad_8K (2048 PEs, NoC 256). */
export const syntheticHardware = (m: number): Hardware => {
  const accelerators: AcceleratorSpec[] = [];
  for (let i = 0; i < m; i++) {
    const c = CLASSES[i % CLASSES.length]!;
    accelerators.push({ index: i, name: `Acc${i}_2K`, numPes: 2048, nocBw: 256, id: `acc${i}`, dataflow: c.dataflow, costClass: c.costClass });
  }
  return { name: `Synth_${m}x2K/${accelerators.map((a) => a.dataflow).join("_")}`, config: `Synth_${m}x2K`, dataflows: accelerators.map((a) => a.dataflow), accelerators };
};

/** The canonical XRBench models in name order, with the FPS each has in the shipped scenarios. */
export const xrbenchModels = (): Array<{ model: string; fps: number }> => {
  const fps = new Map<string, number>();
  for (const s of dataset().scenarios.values()) for (const m of s.models) if (!fps.has(m.model)) fps.set(m.model, m.fps);
  return [...dataset().models.keys()].sort().filter((m) => fps.has(m)).map((model) => ({ model, fps: fps.get(model)! }));
};

export const copyName = (i: number, model: string): string => `m${String(i).padStart(3, "0")}_${model}`;

/** A static scenario of N model copies (no cascades). `pick(i)` gives copy i's model and FPS. */
export const syntheticScenario = (name: string, n: number, pick: (i: number) => { model: string; fps: number }): Scenario => {
  const models: ScenarioModel[] = [];
  for (let i = 0; i < n; i++) {
    const p = pick(i);
    models.push({ name: copyName(i, p.model), model: p.model, fps: p.fps, dependsOn: [], probability: 1 });
  }
  return { name, description: `synthetic: ${n} model copies`, models };
};

const optimisticRemaining = (c: ModelCosts): Float64Array => {
  const out = new Float64Array(c.layerCount + 1);
  for (let l = c.layerCount - 1; l >= 0; l--) {
    let best = Number.POSITIVE_INFINITY;
    for (const lat of c.latencyMs) best = Math.min(best, lat[l]!);
    out[l] = out[l + 1]! + best;
  }
  return out;
};

export interface ViewSet {
  readonly jobs: number;
  readonly accelerators: number;
  readonly views: ReadonlyArray<SchedulerView>;
}

/** `count` seeded views of `jobs` ready jobs (one per model copy) × `accs` idle accelerators. */
export const syntheticViews = (jobs: number, accs: number, count: number, seed = 1): ViewSet => {
  const base = xrbenchModels();
  const scenario = syntheticScenario(`views_${jobs}x${accs}`, jobs, (i) => base[i % base.length]!);
  const hardware = syntheticHardware(accs);
  const costs = resolveModelCosts(dataset(), scenario, hardware);
  const statics = scenario.models
    .map((m) => {
      const c = costs.get(m.name)!;
      return {
        name: m.name,
        periodMs: 1000 / m.fps,
        costs: c,
        wholeCycles: Float64Array.from(c.cycles, (r) => r.reduce((s, x) => s + x, 0)),
        optimisticRemainingMs: optimisticRemaining(c),
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rand = prng(seed * 7919 + jobs * 131 + accs);
  const views: SchedulerView[] = [];
  const now = 10_000;
  for (let v = 0; v < count; v++) {
    const models: ModelView[] = statics.map((s) => {
      const nextLayer = Math.floor(rand() * 0.6 * s.costs.layerCount);
      const toGo = s.optimisticRemainingMs[nextLayer]!;
      const u = 0.05 + 0.9 * rand();
      const deadline = now + toGo / u;
      const releaseAt = Math.min(now, deadline - s.periodMs);
      const frame = Math.floor(releaseAt / s.periodMs);
      const started = nextLayer > 0;
      const job: JobView = {
        id: `${s.name}:${frame}`,
        model: s.name,
        frame,
        releaseAt,
        injectAt: releaseAt,
        deadline,
        nextLayer,
        layerCount: s.costs.layerCount,
        running: false,
        started,
        lastRanAt: started ? now - rand() * 0.5 * s.periodMs : releaseAt,
      };
      return {
        name: s.name,
        variant: 0,
        periodMs: s.periodMs,
        dependsOn: [],
        completed: 100,
        queue: [job],
        costs: s.costs,
        wholeCycles: s.wholeCycles,
        optimisticRemainingMs: s.optimisticRemainingMs,
        cascadeRemainingMs: 0,
        cascadeChildren: [],
        recentMissRate: rand() < 0.5 ? 0 : 0.2 * rand(),
        lastOnTimeAt: now - 200 * rand(),
      };
    });
    const accelerators: AccelView[] = hardware.accelerators.map((a) => ({ index: a.index, id: a.id, idle: true, busyUntil: now }));
    views.push({ now, models, accelerators, completedByModel: new Map(models.map((m) => [m.name, m.completed])), blockSize: 1 });
  }
  return { jobs, accelerators: accs, views };
};
