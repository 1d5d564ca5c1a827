/**
 * Test builders for policies: hand-made cost tables and scheduler views, small enough to compute
 * every expected decision by hand. For tests only (not exported from the package index).
 *
 *   const view = buildView({
 *     now: 10,
 *     accelerators: [{ idle: true }, { idle: false, busyUntil: 12 }],
 *     models: [{ name: "ES_a", latencyMs: [[1, 1, 1], [2, 2, 2]], jobs: [{ frame: 0 }] }],
 *   });
 *   decideWith(edf, view) // → { dispatches: [...], drops: [...] }
 *
 * Defaults: period 100 ms; frame k released and injected at k·period, deadline (k+1)·period;
 * next layer 0; not running; started when past layer 0 or running; lastRanAt = injectAt; energy
 * equal to latency; accelerators idle; block size 1.
 */
import { jobId } from "../contracts/job-id";
import type { ModelCosts } from "../domain/types";
import { resolvePolicy } from "./catalogue";
import type { AccelView, Decision, JobView, ModelView, PolicyFactory, PolicyParams, SchedulerView } from "./types";
import { optimisticRemaining, wholeCycles } from "../domain/remaining-work";

export interface JobSpec {
  readonly frame: number;
  readonly releaseAt?: number;
  readonly injectAt?: number;
  readonly deadline?: number;
  readonly nextLayer?: number;
  readonly running?: boolean;
  readonly started?: boolean;
  readonly lastRanAt?: number;
}

export interface ModelSpec {
  readonly name: string;
  /** [accelerator][layer] latency, ms. */
  readonly latencyMs: ReadonlyArray<ReadonlyArray<number>>;
  /** [accelerator][layer] energy, mJ (default: the latency values). */
  readonly energyMJ?: ReadonlyArray<ReadonlyArray<number>>;
  /** Canonical model name of the cost table (default: `name`). */
  readonly canonical?: string;
  readonly periodMs?: number;
  readonly dependsOn?: ReadonlyArray<string>;
  readonly completed?: number;
  readonly recentMissRate?: number;
  readonly cascadeRemainingMs?: number;
  readonly lastOnTimeAt?: number | null;
  readonly jobs?: ReadonlyArray<JobSpec>;
}

export interface AccSpec {
  readonly idle?: boolean;
  /** Default: now when idle, now + 1 when busy. */
  readonly busyUntil?: number;
}

export interface ViewSpec {
  readonly now?: number;
  /** Count (all idle) or one spec per accelerator; default: all idle, as many as the cost tables have. */
  readonly accelerators?: number | ReadonlyArray<AccSpec>;
  readonly blockSize?: number;
  /** The run's dispatch quantum, ms (default: none). */
  readonly quantumMs?: number;
  readonly models: ReadonlyArray<ModelSpec>;
}

export const DEFAULT_PERIOD_MS = 100;

/** `perAccelerator[a]` repeated for `layers` layers: [accelerator][layer]. */
export const flatLayers = (layers: number, perAccelerator: ReadonlyArray<number>): number[][] =>
  perAccelerator.map((v) => new Array<number>(layers).fill(v));

/** Dense costs from [accelerator][layer] tables (cycles = latency × 1e6 at 1 GHz). */
export const modelCosts = (
  model: string,
  latencyMs: ReadonlyArray<ReadonlyArray<number>>,
  energyMJ: ReadonlyArray<ReadonlyArray<number>> = latencyMs,
): ModelCosts => {
  const layerCount = latencyMs[0]?.length ?? 0;
  const rows = [...latencyMs, ...energyMJ];
  if (latencyMs.length !== energyMJ.length || rows.some((r) => r.length !== layerCount)) {
    throw new Error(`${model}: latency and energy tables must both be [accelerators][${layerCount} layers]`);
  }
  return {
    model,
    layerCount,
    cycles: latencyMs.map((r) => Float64Array.from(r, (ms) => ms * 1e6)),
    latencyMs: latencyMs.map((r) => Float64Array.from(r)),
    energyMJ: energyMJ.map((r) => Float64Array.from(r)),
  };
};

/** [l] = Σ over layers l..end of each layer's fastest latency (as the runtime computes it: domain/remaining-work). */
export { optimisticRemaining };

const jobOf = (m: ModelSpec, costs: ModelCosts, j: JobSpec): JobView => {
  const period = m.periodMs ?? DEFAULT_PERIOD_MS;
  const releaseAt = j.releaseAt ?? j.frame * period;
  const injectAt = j.injectAt ?? releaseAt;
  const nextLayer = j.nextLayer ?? 0;
  const running = j.running ?? false;
  return {
    id: jobId(m.name, j.frame),
    model: m.name,
    frame: j.frame,
    releaseAt,
    injectAt,
    deadline: j.deadline ?? releaseAt + period,
    nextLayer,
    layerCount: costs.layerCount,
    running,
    started: j.started ?? (running || nextLayer > 0),
    lastRanAt: j.lastRanAt ?? injectAt,
  };
};

const modelOf = (m: ModelSpec): ModelView => {
  const costs = modelCosts(m.canonical ?? m.name, m.latencyMs, m.energyMJ);
  return {
    name: m.name,
    variant: 0,
    periodMs: m.periodMs ?? DEFAULT_PERIOD_MS,
    dependsOn: m.dependsOn ?? [],
    completed: m.completed ?? 0,
    queue: [...(m.jobs ?? [])].sort((a, b) => a.frame - b.frame).map((j) => jobOf(m, costs, j)),
    costs,
    wholeCycles: wholeCycles(costs),
    optimisticRemainingMs: optimisticRemaining(costs),
    cascadeRemainingMs: m.cascadeRemainingMs ?? 0,
    cascadeChildren: [],
    recentMissRate: m.recentMissRate ?? 0,
    lastOnTimeAt: m.lastOnTimeAt ?? null,
  };
};

/** A scheduler view as the runtime would hand it to a policy. */
export const buildView = (spec: ViewSpec): SchedulerView => {
  const now = spec.now ?? 0;
  const models = [...spec.models].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(modelOf);
  const accCount = models[0]?.costs.latencyMs.length ?? (typeof spec.accelerators === "number" ? spec.accelerators : 2);
  for (const m of models) {
    const n = m.costs.latencyMs.length;
    if (n !== accCount) throw new Error(`${m.name}: costs for ${n} accelerators, expected ${accCount}`);
  }
  const accSpecs: ReadonlyArray<AccSpec> =
    spec.accelerators === undefined || typeof spec.accelerators === "number"
      ? new Array<AccSpec>(accCount).fill({})
      : spec.accelerators;
  if (accSpecs.length !== accCount) throw new Error(`${accSpecs.length} accelerator specs for costs of ${accCount} accelerators`);
  const accelerators: AccelView[] = accSpecs.map((a, index) => {
    const idle = a.idle ?? true;
    return { index, id: `acc${index}`, idle, busyUntil: a.busyUntil ?? (idle ? now : now + 1) };
  });
  return {
    now,
    models,
    accelerators,
    completedByModel: new Map(models.map((m) => [m.name, m.completed])),
    blockSize: spec.blockSize ?? 1,
    ...(spec.quantumMs === undefined ? {} : { quantumMs: spec.quantumMs }),
  };
};

/** `factory`'s decision on `view`, with `params` over its defaults (validated as the catalogue does). */
export const decideWith = (factory: PolicyFactory, view: SchedulerView, params: PolicyParams = {}): Decision =>
  resolvePolicy(factory.name, params, new Map([[factory.name, factory]])).decide(view);

/** Dispatches as "job@acc×layers" strings, in decision order (compact to assert on). */
export const dispatchList = (d: Decision): string[] => d.dispatches.map((x) => `${x.job}@${x.acc}x${x.layerCount}`);

/** Ids of the dropped jobs, in decision order. */
export const dropList = (d: Decision): string[] => d.drops.map((x) => x.job);
