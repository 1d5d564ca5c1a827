/**
 * sdrm3's supernet load rule (policies/supernet.ts, docs/supernets.md), on hand-made views whose
 * every figure is computed by hand:
 *
 *   load L = Σ over ready jobs of ToGo* / (accelerators × horizonMs)
 *   L ≤ λ1 (0.8): full model;  λ1 < L ≤ λ2 (1.2): ×0.75;  L > λ2: ×0.5     (horizonMs 50)
 *
 * Model A (2 layers, 2 accelerators) is a supernet: ToGo* from layer 0 is 10 + 10 = 20 ms at ×1.0,
 * 6 + 6 = 12 ms at ×0.75 and 3 + 3 = 6 ms at ×0.5. Model B (one layer, no variants, period 1 s)
 * adds load: with two idle accelerators and horizon 50 ms, L = (20 + ToGo*(B)) / 100.
 */
import { describe, expect, it } from "vitest";
import { blockLatencyMs, toGoMs } from "./common";
import { edf } from "./edf";
import { sdrm3, SDRM3_PARAMS, scoreSdrm3 } from "./sdrm3";
import { SUPERNET_DEFAULTS, SUPERNET_PARAMS, supernetLoad, variantForLoad, variantView } from "./supernet";
import { buildView, decideWith, modelCosts, optimisticRemaining } from "./testing";
import type { ModelView, SchedulerView, VariantView } from "./types";

const WIDTHS = [1, 0.75, 0.5];
const ACCURACIES = [1, 0.969, 0.902];
/** A's per-layer latency (ms) on both accelerators, per variant: ×1.0 10, ×0.75 6, ×0.5 3. */
const A_LATENCY = [10, 6, 3];

const variantsOfA = (): VariantView[] =>
  A_LATENCY.map((ms, i) => {
    const costs = modelCosts(`A@x${WIDTHS[i]}`, [
      [ms, ms],
      [ms, ms],
    ]);
    return {
      width: WIDTHS[i]!,
      accuracy: ACCURACIES[i]!,
      costs,
      wholeCycles: Float64Array.from(costs.cycles, (r) => r.reduce((s, c) => s + c, 0)),
      optimisticRemainingMs: optimisticRemaining(costs),
    };
  });

/** A's full view gets its variants (what the kernel gives a supernet model's full view). */
const withVariants = (view: SchedulerView): SchedulerView => ({
  ...view,
  models: view.models.map((m) => (m.name === "A" ? { ...m, variants: variantsOfA() } : m)),
});

/** A:0 (not started, deadline 100) and B:0 with ToGo* `bToGo` ms (deadline 1000), both accelerators idle, now 0. */
const loadedView = (bToGo: number): SchedulerView =>
  withVariants(
    buildView({
      models: [
        { name: "A", latencyMs: [[10, 10], [10, 10]], jobs: [{ frame: 0 }] },
        { name: "B", periodMs: 1000, latencyMs: [[bToGo], [bToGo]], jobs: [{ frame: 0 }] },
      ],
    }),
  );

const dispatchOf = (view: SchedulerView, job: string, params = {}) => decideWith(sdrm3, view, params).dispatches.find((d) => d.job === job);

describe("the load rule's parameters", () => {
  it("are sdrm3 parameters with the documented defaults (λ1 0.8, λ2 1.2, horizon 50 ms, supernet off)", () => {
    const byName = new Map(SDRM3_PARAMS.map((p) => [p.name, p]));
    for (const p of SUPERNET_PARAMS) expect(byName.get(p.name)).toEqual(p);
    expect(Object.fromEntries(SUPERNET_PARAMS.map((p) => [p.name, p.default]))).toEqual({ supernet: 0, ...SUPERNET_DEFAULTS });
  });
});

describe("supernetLoad and variantForLoad (hand-computed)", () => {
  it("L = Σ ToGo* of ready jobs / (accelerators × horizon): (20 + 50) / (2 × 50) = 0.7", () => {
    expect(supernetLoad(loadedView(50), 50)).toBeCloseTo(0.7, 12);
    expect(supernetLoad(loadedView(50), 100)).toBeCloseTo(0.35, 12);
  });

  it("a job with a block in flight is not ready and does not count", () => {
    const view = withVariants(
      buildView({
        accelerators: [{ idle: false, busyUntil: 5 }, { idle: true }],
        models: [
          { name: "A", latencyMs: [[10, 10], [10, 10]], jobs: [{ frame: 0, running: true }] },
          { name: "B", periodMs: 1000, latencyMs: [[30], [30]], jobs: [{ frame: 0 }] },
        ],
      }),
    );
    expect(supernetLoad(view, 50)).toBeCloseTo(30 / 100, 12);
  });

  it("a started job counts at its own variant (its view's costs): ×0.5 from layer 1 is 3 ms", () => {
    const base = loadedView(50);
    const a = base.models.find((m) => m.name === "A")!;
    const started = { ...a.queue[0]!, started: true, nextLayer: 1 };
    const view: SchedulerView = { ...base, models: [{ ...a, queue: [] }, { ...variantView(a, 2), queue: [started] }, base.models[1]!] };
    expect(supernetLoad(view, 50)).toBeCloseTo((3 + 50) / 100, 12);
  });

  it("thresholds: L ≤ λ1 → 0, λ1 < L ≤ λ2 → 1, L > λ2 → 2; never beyond the last variant", () => {
    expect([0, 0.5, 0.8, 0.8000001, 1, 1.2, 1.2000001, 5].map((l) => variantForLoad(l, 0.8, 1.2, 3))).toEqual([0, 0, 0, 1, 1, 1, 2, 2]);
    expect(variantForLoad(5, 0.8, 1.2, 2)).toBe(1);
    expect(variantForLoad(5, 0.8, 1.2, 1)).toBe(0);
  });
});

describe("sdrm3 picks the variant of a starting job by the load", () => {
  it("load below λ1 (L = (20 + 50) / 100 = 0.7): the full model", () => {
    const d = dispatchOf(loadedView(50), "A:0");
    expect(d?.variant).toBe(0);
    expect(d?.scores?.L).toBeCloseTo(0.7, 12);
  });

  it("load between λ1 and λ2 (L = (20 + 80) / 100 = 1.0): ×0.75, scored with its costs (U = 12 / 100)", () => {
    const view = loadedView(80);
    const d = dispatchOf(view, "A:0");
    expect(d?.variant).toBe(1);
    expect(d?.scores?.L).toBeCloseTo(1.0, 12);
    expect(d?.scores?.U).toBeCloseTo(12 / 100, 12);
    const c = scoreSdrm3(view, sdrm3.create({}).params).candidates.find((x) => x.job.id === "A:0")!;
    expect(c.model.variant).toBe(1);
    expect(c.model.costs.model).toBe("A@x0.75");
  });

  it("load above λ2 (L = (20 + 110) / 100 = 1.3): ×0.5 (U = 6 / 100)", () => {
    const d = dispatchOf(loadedView(110), "A:0");
    expect(d?.variant).toBe(2);
    expect(d?.scores?.L).toBeCloseTo(1.3, 12);
    expect(d?.scores?.U).toBeCloseTo(6 / 100, 12);
  });

  it("the thresholds and the horizon are parameters: horizon 100 ms halves L (1.3 → 0.65: full); λ1 = 0.5 makes 0.7 downgrade", () => {
    expect(dispatchOf(loadedView(110), "A:0", { horizonMs: 100 })?.variant).toBe(0);
    expect(dispatchOf(loadedView(50), "A:0", { lambda1: 0.5 })?.variant).toBe(1);
    expect(dispatchOf(loadedView(50), "A:0", { lambda1: 0.5, lambda2: 0.6 })?.variant).toBe(2);
  });

  it("a model without variants is never given one (B's dispatch names none), nor is any job of a run without supernets", () => {
    expect(dispatchOf(loadedView(110), "B:0")?.variant).toBeUndefined();
    const plain = buildView({ models: [{ name: "A", latencyMs: [[10, 10], [10, 10]], jobs: [{ frame: 0 }] }] });
    const d = dispatchOf(plain, "A:0");
    expect(d?.variant).toBeUndefined();
    expect(d?.scores?.L).toBeUndefined();
  });
});

describe("the view trick: a started job of variant v > 0 has a view of its own, with v's costs", () => {
  /** A:0 started at ×0.5 (next layer 1, deadline 100) as the kernel shows it, at now = 10. */
  const trickView = (): SchedulerView => {
    const base = withVariants(buildView({ now: 10, models: [{ name: "A", latencyMs: [[10, 10], [10, 10]], jobs: [{ frame: 0, nextLayer: 1 }] }] }));
    const full = base.models[0]!;
    const half: ModelView = { ...variantView(full, 2), queue: full.queue };
    return { ...base, models: [{ ...full, queue: [] }, half] };
  };

  it("sdrm3 scores the started ×0.5 job with ×0.5 costs: U = ToGo*(×0.5, layer 1) / slack = 3 / 90", () => {
    const view = trickView();
    const d = dispatchOf(view, "A:0");
    expect(d?.variant).toBeUndefined(); // started: the kernel keeps its variant
    expect(d?.scores?.U).toBeCloseTo(3 / 90, 12);
    expect(d?.scores?.L).toBeUndefined();
  });

  it("policies that know nothing of variants read ×0.5 costs through the usual helpers: the block lasts 3 ms, not 10", () => {
    const view = trickView();
    const half = view.models[1]!;
    const job = half.queue[0]!;
    expect(half.variant).toBe(2);
    expect(blockLatencyMs(half, 0, job.nextLayer, 1)).toBe(3);
    expect(toGoMs(half, job)).toBe(3);
    expect(decideWith(edf, view).dispatches.map((d) => [d.job, d.layerCount])).toEqual([["A:0", 1]]);
  });
});
