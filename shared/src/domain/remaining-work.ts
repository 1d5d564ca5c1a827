/**
 * What is left of a frame, in the figures policies rank by: a model's whole-model cycles per
 * accelerator, its optimistic remaining time per layer (each layer on its fastest accelerator,
 * expected over early exits and skippable layers) and the expected work its cascade descendants
 * add to a frame. The scheduler kernel builds its views from these; policy tests build theirs from
 * the same functions. Pure.
 */
import type { ModelCosts } from "./types";

/** A model's early exits and skippable layers (ScenarioModel's), as far as remaining work is concerned. */
export interface WorkDynamics {
  readonly exits?: ReadonlyArray<{ readonly afterLayer: number; readonly probability: number }> | undefined;
  readonly skips?: ReadonlyArray<{ readonly fromLayer: number; readonly toLayer: number; readonly probability: number }> | undefined;
}

/** Whole-model latency in cycles on each accelerator. */
export const wholeCycles = (costs: ModelCosts): Float64Array =>
  Float64Array.from(costs.cycles, (perLayer) => perLayer.reduce((s, c) => s + c, 0));

/**
 * [l] = optimistic time of layers l..end, each on its fastest accelerator. With early exits and
 * skippable layers it is the expected remaining work, given the job has reached layer l:
 * E[l] = p_exec(l)·min_a lat(l, a) + (1 − q_exit(l))·E[l+1] (document: docs/architecture.md).
 */
export const optimisticRemaining = (costs: ModelCosts, dynamics: WorkDynamics = {}): Float64Array => {
  const out = new Float64Array(costs.layerCount + 1);
  // P(no exit after l | reached l). The task draws every exit separately (task-logic pathOf), so
  // exits after the same layer combine: 1 − q_exit(l) = Π(1 − q_i).
  const stayAfter = new Float64Array(costs.layerCount).fill(1);
  const execute = new Float64Array(costs.layerCount).fill(1);
  for (const x of dynamics.exits ?? []) stayAfter[x.afterLayer] = stayAfter[x.afterLayer]! * (1 - x.probability);
  for (const x of dynamics.skips ?? []) for (let l = x.fromLayer; l <= x.toLayer; l++) execute[l] = x.probability;
  for (let l = costs.layerCount - 1; l >= 0; l--) {
    let best = Number.POSITIVE_INFINITY;
    for (const lat of costs.latencyMs) best = Math.min(best, lat[l]!);
    out[l] = execute[l]! * best + stayAfter[l]! * out[l + 1]!;
  }
  return out;
};

/** A model of a cascade as far as its figures go: its name, parents, trigger probability and whole optimistic work. */
export interface CascadeNode {
  readonly name: string;
  readonly dependsOn: ReadonlyArray<string>;
  /** Trigger probability of its frames as a cascade child; default 1. */
  readonly probability?: number;
  /** Optimistic time of the whole model (optimisticRemaining(…)[0]). */
  readonly workMs: number;
}

export interface CascadeFigures {
  /** Per direct child: its expected work (trigger probability × its work and its descendants'). */
  readonly children: ReadonlyArray<{ readonly name: string; readonly expectedWorkMs: number }>;
  /** Expected optimistic work of a frame's cascade descendants (Σ of `children`). */
  readonly remainingMs: number;
}

/**
 * Every model's cascade figures: for each direct child, p_child × (its whole optimistic work + its
 * own descendants'), a model on a path counted once (cycles are cut). Keyed by model name.
 */
export const cascadeFigures = (nodes: ReadonlyArray<CascadeNode>): ReadonlyMap<string, CascadeFigures> => {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const childrenOf = new Map(nodes.map((n) => [n.name, nodes.filter((c) => c.dependsOn.includes(n.name)).map((c) => c.name)]));
  const descendantsWork = (name: string, seen: ReadonlySet<string>): number => {
    let total = 0;
    for (const c of childrenOf.get(name) ?? []) {
      if (seen.has(c)) continue;
      const child = byName.get(c)!;
      total += (child.probability ?? 1) * (child.workMs + descendantsWork(c, new Set(seen).add(c)));
    }
    return total;
  };
  const out = new Map<string, CascadeFigures>();
  for (const n of nodes) {
    const children = (childrenOf.get(n.name) ?? []).map((name) => {
      const child = byName.get(name)!;
      return { name, expectedWorkMs: (child.probability ?? 1) * (child.workMs + descendantsWork(name, new Set([n.name, name]))) };
    });
    out.set(n.name, { children, remainingMs: children.reduce((sum, c) => sum + c.expectedWorkMs, 0) });
  }
  return out;
};
