/**
 * The analytical cost model: its fidelity to the built-in MAESTRO table (the thresholds of
 * docs/cost-model.md), that the committed constants are the least-squares fit the documented
 * procedure gives, the mappings, and the properties every cost must have.
 */
import { describe, expect, it } from "vitest";
import { loadBuiltinDataset } from "../data/index";
import { costSamples, fidelity, spearman } from "./cost-fidelity";
import { fitDataflowConstants, fitLoss } from "./cost-fit";
import { analyticalLayerCost, analyticalUtilisation, COST_MODEL_CONSTANTS, layerMapping, parseCostClass } from "./cost-model";
import type { Layer } from "./types";
import { DATAFLOWS } from "./types";

const dataset = loadBuiltinDataset();
const models = [...dataset.models.values()];
const samples = costSamples(dataset.costs, models);

const layer = (dims: Partial<Layer>): Layer => {
  const l = { index: 0, name: "l", type: "CONV", N: 1, K: 32, C: 32, Y: 34, X: 34, R: 3, S: 3, stride: 1, macs: 0, ...dims };
  const outY = Math.max(0, l.Y - l.R + 1);
  const outX = Math.max(0, l.X - l.S + 1);
  return { ...l, macs: l.N * l.K * l.C * l.R * l.S * outY * outX };
};

/**
 * Thresholds asserted over every (layer, class) of the table: 1301 layers × 7 classes = 9107
 * samples per dataflow. Measured with the committed constants (docs/cost-model.md):
 *   latency  Spearman WS 0.9930 OS 0.9915 RS 0.9950; median ratio 0.962 / 0.954 / 0.984;
 *            within 2× 0.951 / 0.982 / 0.989
 *   energy   Spearman WS 0.9843 OS 0.9956 RS 0.9945; median ratio 0.883 / 0.974 / 0.963;
 *            within 2× 0.931 / 0.976 / 0.967
 */
const THRESHOLDS = {
  latency: { spearman: 0.98, median: [0.9, 1.1], within2x: 0.94 },
  energy: { spearman: 0.98, median: [0.85, 1.15], within2x: 0.92 },
} as const;

describe("fidelity to the MAESTRO table (built-in data)", () => {
  const result = fidelity(dataset.costs, models);

  it.each(DATAFLOWS)("%s: latency and energy within the documented thresholds", (dataflow) => {
    const f = result[dataflow];
    expect(f.samples).toBe(1301 * 7);
    for (const quantity of ["latency", "energy"] as const) {
      const stats = f[quantity];
      const bound = THRESHOLDS[quantity];
      expect(stats.spearman, `${dataflow} ${quantity} Spearman`).toBeGreaterThanOrEqual(bound.spearman);
      expect(stats.medianRatio, `${dataflow} ${quantity} median ratio`).toBeGreaterThanOrEqual(bound.median[0]);
      expect(stats.medianRatio, `${dataflow} ${quantity} median ratio`).toBeLessThanOrEqual(bound.median[1]);
      expect(stats.within2x, `${dataflow} ${quantity} within 2x`).toBeGreaterThanOrEqual(bound.within2x);
    }
  });

  it("is far better than MACs / PEs alone (the mapping matters)", () => {
    for (const dataflow of DATAFLOWS) {
      const mine = samples.filter((s) => s.dataflow === dataflow);
      const naive = spearman(
        mine.map((s) => Math.max(1, s.layer.macs) / s.numPes),
        mine.map((s) => s.cycles),
      );
      expect(result[dataflow].latency.spearman).toBeGreaterThan(naive + 0.1);
    }
  });
});

describe("the committed constants are the documented least-squares fit", () => {
  it.each(DATAFLOWS)("%s: re-fitting from them finds no better optimum and the same costs", (dataflow) => {
    const mine = samples.filter((s) => s.dataflow === dataflow);
    const committed = fitLoss(mine, COST_MODEL_CONSTANTS[dataflow]);
    const refit = fitDataflowConstants(mine, { start: COST_MODEL_CONSTANTS[dataflow] });
    expect(refit.latencyLoss).toBeGreaterThan(committed.latencyLoss * (1 - 1e-4));
    expect(refit.energyLoss).toBeGreaterThan(committed.energyLoss * (1 - 1e-3));
    const refitConstants = { ...COST_MODEL_CONSTANTS, [dataflow]: refit.constants };
    for (const sample of mine.filter((_, i) => i % 97 === 0)) {
      const a = analyticalLayerCost(sample.layer, dataflow, sample.numPes, sample.nocBw);
      const b = analyticalLayerCost(sample.layer, dataflow, sample.numPes, sample.nocBw, refitConstants);
      // the energy optimum is flat along some directions: the same costs within 2 %
      expect(Math.abs(b.cycles / a.cycles - 1)).toBeLessThan(0.02);
      expect(Math.abs(b.energyNJ / a.energyNJ - 1)).toBeLessThan(0.02);
    }
  });

  it("RS: a cold fit from the default start lands on the committed optimum (within 1%)", () => {
    const mine = samples.filter((s) => s.dataflow === "RS");
    const committed = fitLoss(mine, COST_MODEL_CONSTANTS.RS);
    const cold = fitDataflowConstants(mine, { starts: 1 });
    expect(cold.latencyLoss).toBeGreaterThan(committed.latencyLoss * 0.99);
    expect(cold.latencyLoss).toBeLessThan(committed.latencyLoss * 1.01);
  });
});

describe("mappings", () => {
  it("WS: 16 C x 16 K per 256-PE cluster, X' over the clusters", () => {
    const m = layerMapping(layer({ K: 32, C: 40, Y: 34, X: 34 }), "WS", 1024);
    // 4 clusters; C tiles 3, K tiles 2, Y' 32, X' folds ceil(32 / 4) = 8
    expect(m.steps).toBe(3 * 2 * 32 * 8);
    expect(m.macsPerStep).toBe(9);
    expect(m.weightTraffic).toBe(32 * 40 * 9);
    expect(m.kernelClass).toBe(1);
    expect(m.outputTile).toBe(32);
  });

  it("OS: Y' over 64-PE clusters, 4 X' x 16 C each, K temporal", () => {
    const m = layerMapping(layer({ K: 8, C: 16, Y: 10, X: 10, R: 1, S: 1 }), "OS", 256);
    expect(m.steps).toBe(8 * Math.ceil(10 / 4) * Math.ceil(10 / 4) * 1);
    expect(m.inputTraffic).toBe(16 * 10 * 10 * 8);
    expect(m.kernelClass).toBe(0);
  });

  it("RS: K over 64-PE clusters, 16 X' x 4 R each, 4 channels x S per PE", () => {
    const m = layerMapping(layer({ K: 64, C: 10, Y: 20, X: 40, R: 5, S: 5 }), "RS", 2048);
    // 32 clusters: K folds 2; Y' 16, X' 36 -> 3 folds, C 10 -> 3 groups, R 5 -> 2 passes
    expect(m.steps).toBe(16 * 3 * 3 * 2 * 2);
    expect(m.macsPerStep).toBe(4 * 5);
    expect(m.kernelClass).toBe(2);
  });

  it("fewer PEs than one cluster time-multiplex it; a 0-MAC layer still costs", () => {
    const l = layer({});
    expect(layerMapping(l, "WS", 64).steps).toBe(layerMapping(l, "WS", 256).steps * 4);
    const tiny = layer({ Y: 4, X: 5, R: 5, S: 5 });
    expect(tiny.macs).toBe(0);
    const cost = analyticalLayerCost(tiny, "RS", 1024, 128);
    expect(cost.cycles).toBeGreaterThan(0);
    expect(cost.energyNJ).toBeGreaterThan(0);
  });
});

describe("properties of analytical costs", () => {
  const layers = models.flatMap((m) => m.layers);

  it("every cost is finite and positive, for any PE count and bandwidth", () => {
    for (const dataflow of DATAFLOWS) {
      for (const [pes, bw] of [[1, 1], [100, 16], [512, 128], [12576, 256], [65536, 1024]] as const) {
        for (const l of layers) {
          const c = analyticalLayerCost(l, dataflow, pes, bw);
          expect(Number.isFinite(c.cycles) && c.cycles > 0 && Number.isFinite(c.energyNJ) && c.energyNJ > 0).toBe(true);
        }
      }
    }
  });

  it("more PEs or more NoC bandwidth never make a layer slower", () => {
    for (const dataflow of DATAFLOWS) {
      for (const l of layers) {
        const base = analyticalLayerCost(l, dataflow, 1024, 128).cycles;
        expect(analyticalLayerCost(l, dataflow, 2048, 128).cycles).toBeLessThanOrEqual(base);
        expect(analyticalLayerCost(l, dataflow, 1024, 256).cycles).toBeLessThanOrEqual(base);
      }
    }
  });

  it("fewer channels never cost more", () => {
    for (const dataflow of DATAFLOWS) {
      for (const l of layers.filter((_, i) => i % 7 === 0)) {
        const full = analyticalLayerCost(l, dataflow, 4096, 256);
        const half = analyticalLayerCost(layer({ ...l, K: Math.max(1, l.K >> 1), C: Math.max(1, l.C >> 1) }), dataflow, 4096, 256);
        expect(half.cycles).toBeLessThanOrEqual(full.cycles);
        expect(half.energyNJ).toBeLessThanOrEqual(full.energyNJ);
      }
    }
  });

  it("utilisation is in (0, 1] and compute = MACs / (PEs x utilisation)", () => {
    for (const dataflow of DATAFLOWS) {
      for (const l of layers.filter((x) => x.macs > 0)) {
        const u = analyticalUtilisation(l, dataflow, 2048);
        expect(u).toBeGreaterThan(0);
        expect(u).toBeLessThanOrEqual(1);
      }
    }
  });

  it("rejects a non-positive PE count or bandwidth", () => {
    expect(() => analyticalLayerCost(layer({}), "WS", 0, 128)).toThrow(/numPes/);
    expect(() => analyticalLayerCost(layer({}), "WS", 1024, 0)).toThrow(/nocBw/);
  });
});

describe("helpers", () => {
  it("parseCostClass", () => {
    expect(parseCostClass("WS_2048pe_bw128")).toEqual({ dataflow: "WS", numPes: 2048, nocBw: 128 });
    expect(parseCostClass("XY_2048pe_bw128")).toBeUndefined();
    expect(parseCostClass("WS_0pe_bw128")).toBeUndefined();
  });

  it("spearman: ranks with ties averaged", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks a: 1, 2.5, 2.5, 4; b: 1, 2, 3, 4
    expect(spearman([1, 5, 5, 9], [1, 2, 3, 4])).toBeCloseTo(0.9486832980505138, 12);
  });
});
