/**
 * Supernet variants: width scaling of an XRBench model (first C and last K kept), relative
 * accuracies, costs scaled from the table by the analytical model (×1.0 = the table exactly), and
 * every refused input, each a DataError naming the field.
 */
import { describe, expect, it } from "vitest";
import { analyticalLayerCost } from "../domain/cost-model";
import type { Model } from "../domain/types";
import {
  DataError,
  DEFAULT_SUPERNET_ACCURACIES,
  DEFAULT_SUPERNET_WIDTHS,
  decodeSupernetSpec,
  deriveSupernet,
  deriveVariants,
  findModel,
  findScenario,
  loadBuiltinDataset,
  mobileNetV1RelativeAccuracy,
  resolveHardware,
  resolveHardwareWithFallback,
  resolveModelCosts,
  resolveVariantCosts,
  scaleChannels,
  variantCosts,
} from "./index";

const dataset = loadBuiltinDataset();
const ritnet = findModel(dataset, "ES_RITNet");
const dual4k = resolveHardware(dataset, "Dual_4K/WS_OS");

/** Runs `f`, which must throw a DataError, and returns its message. */
const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return (error as DataError).message;
  }
  throw new Error("expected a DataError");
};

const total = (rows: ReadonlyArray<Float64Array>): number[] => rows.map((row) => row.reduce((a, b) => a + b, 0));

describe("deriveVariants", () => {
  const variants = deriveVariants(ritnet, DEFAULT_SUPERNET_WIDTHS, DEFAULT_SUPERNET_ACCURACIES);

  it("names, widths and accuracies (MobileNet v1 curve by default: 1, 0.969, 0.902)", () => {
    expect(variants.map((v) => [v.name, v.base, v.width, v.model.name])).toEqual([
      ["x1", "ES_RITNet", 1, "ES_RITNet@x1"],
      ["x0.75", "ES_RITNet", 0.75, "ES_RITNet@x0.75"],
      ["x0.5", "ES_RITNet", 0.5, "ES_RITNet@x0.5"],
    ]);
    expect(variants.map((v) => Number(v.accuracy.toFixed(3)))).toEqual([1, 0.969, 0.902]);
  });

  it("×1.0 keeps the layers; ×0.5 halves K and C except the first C and the last K", () => {
    const [full, , half] = variants;
    expect(full?.model.layers).toEqual(ritnet.layers);
    const layers = half?.model.layers ?? [];
    expect(layers).toHaveLength(ritnet.layers.length);
    ritnet.layers.forEach((layer, i) => {
      const scaled = layers[i];
      expect(scaled?.name).toBe(layer.name);
      expect(scaled?.C).toBe(i === 0 ? layer.C : Math.max(1, Math.round(layer.C / 2)));
      expect(scaled?.K).toBe(i === ritnet.layers.length - 1 ? layer.K : Math.max(1, Math.round(layer.K / 2)));
      expect([scaled?.Y, scaled?.X, scaled?.R, scaled?.S]).toEqual([layer.Y, layer.X, layer.R, layer.S]);
      const outY = Math.max(0, layer.Y - layer.R + 1);
      const outX = Math.max(0, layer.X - layer.S + 1);
      expect(scaled?.macs).toBe((scaled?.K ?? 0) * (scaled?.C ?? 0) * layer.R * layer.S * outY * outX);
    });
    const macs = (m: Model | undefined) => (m?.layers ?? []).reduce((s, l) => s + l.macs, 0);
    expect(macs(half?.model) / macs(full?.model)).toBeGreaterThan(0.24);
    expect(macs(half?.model) / macs(full?.model)).toBeLessThan(0.3);
  });

  it("roundTo: channel counts in multiples of d, never above the original", () => {
    expect(scaleChannels(32, 0.75)).toBe(24);
    expect(scaleChannels(3, 0.5)).toBe(2);
    expect(scaleChannels(1, 0.25)).toBe(1);
    expect(scaleChannels(32, 0.75, 16)).toBe(32);
    expect(scaleChannels(96, 0.5, 16)).toBe(48);
    expect(scaleChannels(8, 0.5, 16)).toBe(8);
    const [v] = deriveVariants(ritnet, [0.6], [0.93], { roundTo: 8 });
    for (const layer of v?.model.layers.slice(1, -1) ?? []) {
      expect(layer.K % 8 === 0 || layer.K <= 8).toBe(true);
      expect(layer.C % 8 === 0 || layer.C <= 8).toBe(true);
    }
  });

  it("mobileNetV1RelativeAccuracy interpolates the cited curve on [0.25, 1]", () => {
    expect(mobileNetV1RelativeAccuracy(1)).toBe(1);
    expect(mobileNetV1RelativeAccuracy(0.75)).toBeCloseTo(68.4 / 70.6, 12);
    expect(mobileNetV1RelativeAccuracy(0.625)).toBeCloseTo((68.4 / 70.6 + 63.7 / 70.6) / 2, 12);
    expect(() => mobileNetV1RelativeAccuracy(0.1)).toThrow(RangeError);
  });
});

describe("refused variants (DataError naming the field)", () => {
  const cases: ReadonlyArray<[string, () => unknown, string]> = [
    ["no width", () => deriveVariants(ritnet, [], []), "supernet 'ES_RITNet': widths: expected at least one width, got none"],
    ["width 0", () => deriveVariants(ritnet, [1, 0], [1, 0.9]), "supernet 'ES_RITNet': widths[1]: expected a width in (0, 1], got 0"],
    ["width above 1", () => deriveVariants(ritnet, [1.5], [1]), "supernet 'ES_RITNet': widths[0]: expected a width in (0, 1], got 1.5"],
    ["width NaN", () => deriveVariants(ritnet, [Number.NaN], [1]), "supernet 'ES_RITNet': widths[0]: expected a width in (0, 1], got NaN"],
    [
      "duplicate width",
      () => deriveVariants(ritnet, [1, 0.5, 0.5], [1, 0.9, 0.9]),
      "supernet 'ES_RITNet': widths[2]: expected a width no other variant has (widths[1] is 0.5), got 0.5",
    ],
    [
      "missing accuracy",
      () => deriveVariants(ritnet, [1, 0.5], [1]),
      "supernet 'ES_RITNet': accuracies[1]: expected a relative accuracy in (0, 1] for width 0.5, got nothing",
    ],
    [
      "accuracy above 1",
      () => deriveVariants(ritnet, [1, 0.75], [1, 1.2]),
      "supernet 'ES_RITNet': accuracies[1]: expected a relative accuracy in (0, 1] for width 0.75, got 1.2",
    ],
    [
      "accuracy 0",
      () => deriveVariants(ritnet, [0.5], [0]),
      "supernet 'ES_RITNet': accuracies[0]: expected a relative accuracy in (0, 1] for width 0.5, got 0",
    ],
    [
      "more accuracies than widths",
      () => deriveVariants(ritnet, [1], [1, 0.9]),
      "supernet 'ES_RITNet': accuracies[1]: expected one accuracy per width (1 widths), got 0.9",
    ],
    ["bad roundTo", () => deriveVariants(ritnet, [1], [1], { roundTo: 0 }), "supernet 'ES_RITNet': roundTo: expected a positive integer, got 0"],
    [
      "duplicate name",
      () => deriveVariants(ritnet, [1, 0.5], [1, 0.9], { names: ["big", "big"] }),
      "supernet 'ES_RITNet': names[1]: expected a non-empty name no other variant has, got \"big\"",
    ],
  ];

  it.each(cases)("%s", (_, f, message) => {
    expect(messageOf(f)).toBe(message);
  });

  it("supernet specs name variants[i].<field>; files name the file", () => {
    expect(messageOf(() => deriveSupernet(dataset, { model: "ES_RITNet", variants: [{ width: 1, accuracy: 1 }, { width: 0.5 } as never] }))).toBe(
      "supernet 'ES_RITNet': variants[1].accuracy: expected a relative accuracy in (0, 1] for width 0.5, got nothing",
    );
    expect(messageOf(() => deriveSupernet(dataset, { model: "ES_RITNet", variants: [] }))).toBe(
      "supernet 'ES_RITNet': variants: expected at least one variant, got none",
    );
    const file = "supernet.json";
    expect(messageOf(() => decodeSupernetSpec({ model: "ES_RITNet", variants: [{ width: 0.5, accuracy: 0.9 }, { width: 0.5, accuracy: 0.9 }] }, file, dataset))).toBe(
      "supernet.json: variants[1].width: expected a width no other variant has (variants[0].width is 0.5), got 0.5",
    );
    expect(messageOf(() => decodeSupernetSpec({ model: "Nope", variants: [] }, file, dataset))).toMatch(/^supernet\.json: model: expected the name of a model of the dataset/);
    expect(messageOf(() => decodeSupernetSpec({ model: "ES_RITNet", variants: "all" }, file, dataset))).toBe(
      'supernet.json: variants: expected a non-empty list of { width, accuracy }, got "all"',
    );
    const spec = decodeSupernetSpec({ model: "ES_RITNet", variants: [{ width: 1, accuracy: 1 }, { width: 0.5, accuracy: 0.9, name: "half" }] }, file, dataset);
    expect(deriveSupernet(dataset, spec).map((v) => v.model.name)).toEqual(["ES_RITNet@x1", "ES_RITNet@half"]);
  });
});

describe("variantCosts", () => {
  const [full, threeQuarters, half] = deriveVariants(ritnet, DEFAULT_SUPERNET_WIDTHS, DEFAULT_SUPERNET_ACCURACIES);
  if (full === undefined || threeQuarters === undefined || half === undefined) throw new Error("variants");

  it("×1.0 equals the table exactly", () => {
    const table = resolveModelCosts(dataset, findScenario(dataset, "VR_gaming"), dual4k).get("ES_RITNet");
    const costs = variantCosts(dataset, full, dual4k);
    expect(costs.model).toBe("ES_RITNet@x1");
    expect(costs.cycles).toEqual(table?.cycles);
    expect(costs.latencyMs).toEqual(table?.latencyMs);
    expect(costs.energyMJ).toEqual(table?.energyMJ);
  });

  it("a narrower variant: table cost of the full layer × analytical(variant) / analytical(full)", () => {
    const costs = variantCosts(dataset, half, dual4k);
    dual4k.accelerators.forEach((acc, a) => {
      ritnet.layers.forEach((layer, i) => {
        const table = dataset.costs.get("ES_RITNet", i, acc.costClass);
        const scaled = half.model.layers[i];
        if (table === undefined || scaled === undefined) throw new Error("missing");
        const ratio = (x: number, y: number) => x / y;
        const part = analyticalLayerCost(scaled, acc.dataflow, acc.numPes, acc.nocBw);
        const whole = analyticalLayerCost(layer, acc.dataflow, acc.numPes, acc.nocBw);
        expect(costs.cycles[a]?.[i]).toBeCloseTo(table.cycles * ratio(part.cycles, whole.cycles), 6);
        expect(costs.energyMJ[a]?.[i]).toBeCloseTo((table.energyNJ * ratio(part.energyNJ, whole.energyNJ)) / 1e6, 9);
      });
    });
  });

  it("narrower is never costlier, on every accelerator and model", () => {
    for (const model of dataset.models.values()) {
      const [v1, v75, v50] = deriveVariants(model, DEFAULT_SUPERNET_WIDTHS, DEFAULT_SUPERNET_ACCURACIES);
      if (v1 === undefined || v75 === undefined || v50 === undefined) throw new Error("variants");
      const [c1, c75, c50] = [v1, v75, v50].map((v) => variantCosts(dataset, v, dual4k));
      for (const key of ["cycles", "energyMJ"] as const) {
        const [t1, t75, t50] = [c1, c75, c50].map((c) => total(c?.[key] ?? []));
        t1?.forEach((value, acc) => {
          expect(t75?.[acc]).toBeLessThanOrEqual(value * (1 + 1e-12));
          expect(t50?.[acc]).toBeLessThanOrEqual((t75?.[acc] ?? 0) * (1 + 1e-12));
        });
      }
      // ×0.5 saves a real share of energy everywhere
      const e1 = total(c1?.energyMJ ?? []);
      total(c50?.energyMJ ?? []).forEach((value, acc) => expect(value).toBeLessThan((e1[acc] ?? 0) * 0.8));
    }
  });

  it("on hardware the table lacks: strict by default, explicit with { analytical: true }", () => {
    const { hardware } = resolveHardwareWithFallback(dataset, "Quad_2K/WS_OS_WS_OS", { analytical: true });
    expect(messageOf(() => variantCosts(dataset, half, hardware))).toBe(
      "<cost table>: ES_RITNet layers[0] (conv1): expected a cost on acc0 (class WS_512pe_bw128) of Quad_2K/WS_OS_WS_OS (needed by variant x0.5), got none",
    );
    const resolved = resolveVariantCosts(dataset, half, hardware, { analytical: true });
    expect(resolved.fallback.map((u) => [u.model, u.costClass, u.accelerators, u.anchored, u.anchorClasses])).toEqual([
      ["ES_RITNet", "WS_512pe_bw128", ["acc0", "acc2"], ritnet.layers.length, ["WS_1024pe_bw128"]],
      ["ES_RITNet", "OS_512pe_bw128", ["acc1", "acc3"], ritnet.layers.length, ["OS_1024pe_bw128"]],
    ]);
    expect(resolved.costs.cycles.every((row) => row.every((c) => Number.isFinite(c) && c > 0))).toBe(true);
  });
});
