/**
 * Quantum blocks (docs/live.md "Quantum blocks"): the grouping rule on hand-computed cost tables,
 * and the policies sizing their blocks with it (policies/common blockLayers).
 */
import { describe, expect, it } from "vitest";
import { MAX_BLOCK_LAYERS } from "./capabilities";
import { blockLayers, fastestLayerMs, quantumLayers } from "./common";
import { edf } from "./edf";
import { herald } from "./herald";
import { sdrm3 } from "./sdrm3";
import { buildView, decideWith, dispatchList } from "./testing";

const row = (...ms: number[]) => Float64Array.from(ms);

describe("quantumLayers: consecutive layers until their latency reaches the quantum", () => {
  // layers: 0.1, 0.05, 0.2, 0.3, 0.05 ms
  const lat = row(0.1, 0.05, 0.2, 0.3, 0.05);

  it("takes layers in order until the sum reaches the quantum, the layer that reaches it included", () => {
    expect(quantumLayers(lat, 0, 5, 0.25)).toBe(3); // 0.1 + 0.05 = 0.15 < 0.25; + 0.2 = 0.35 ≥ 0.25
    expect(quantumLayers(lat, 0, 5, 0.15)).toBe(2); // 0.1 + 0.05 = 0.15 reaches it exactly
    expect(quantumLayers(lat, 1, 5, 0.5)).toBe(3); // 0.05 + 0.2 = 0.25; + 0.3 = 0.55
    expect(quantumLayers(lat, 3, 5, 0.3)).toBe(1); // layer 3 alone is 0.3
  });

  it("at least one layer, even when the first one is longer than the quantum", () => {
    expect(quantumLayers(lat, 0, 5, 0.01)).toBe(1);
    expect(quantumLayers(lat, 3, 5, 0.001)).toBe(1);
  });

  it("never past the job's last layer (`end`)", () => {
    expect(quantumLayers(lat, 0, 5, 10)).toBe(5);
    expect(quantumLayers(lat, 2, 5, 10)).toBe(3);
    expect(quantumLayers(lat, 0, 2, 10)).toBe(2); // a job that ends at layer 1 (early exit)
    expect(quantumLayers(lat, 4, 5, 10)).toBe(1);
  });

  it("at most MAX_BLOCK_LAYERS layers", () => {
    const tiny = new Float64Array(600).fill(0.001);
    expect(quantumLayers(tiny, 0, 600, 2)).toBe(MAX_BLOCK_LAYERS);
    expect(quantumLayers(tiny, 0, 600, 0.1)).toBe(100);
  });

  it("a sum that misses the quantum by a rounding error reaches it (latencies are cycles / 10⁶)", () => {
    // 0.7 + 0.1 + 0.2 is 0.9999999999999999 in doubles
    expect(quantumLayers(row(0.7, 0.1, 0.2, 5), 0, 4, 1)).toBe(3);
    expect(quantumLayers(row(0.1, 0.1, 0.1, 5), 0, 4, 0.3)).toBe(3);
  });
});

// two accelerators: acc0 0.1, 0.3, 0.2, 0.4 ms; acc1 0.2, 0.1, 0.2, 0.1 ms → fastest 0.1, 0.1, 0.2, 0.1
const LAT = [
  [0.1, 0.3, 0.2, 0.4],
  [0.2, 0.1, 0.2, 0.1],
];

describe("blockLayers: the run's rule, one for every policy", () => {
  const view = (quantumMs: number | undefined, blockSize = 1, nextLayer = 0) =>
    buildView({ blockSize, ...(quantumMs === undefined ? {} : { quantumMs }), models: [{ name: "A", latencyMs: LAT, jobs: [{ frame: 0, nextLayer }] }] });
  const layers = (v: ReturnType<typeof view>, own = 0) => blockLayers(v, v.models[0]!, v.models[0]!.queue[0]!, own);

  it("counts each layer at its fastest accelerator, so the block is the same whichever accelerator takes it", () => {
    expect(Array.from(fastestLayerMs(view(0.2).models[0]!.costs))).toEqual([0.1, 0.1, 0.2, 0.1]);
    expect(layers(view(0.2))).toBe(2); // 0.1 + 0.1
    expect(layers(view(0.25))).toBe(3); // 0.1 + 0.1 + 0.2
    expect(layers(view(0.25, 1, 2))).toBe(2); // from layer 2: 0.2 + 0.1
    expect(layers(view(0.25, 1, 3))).toBe(1); // the last layer
    expect(layers(view(5))).toBe(4);
  });

  it("quantum 0 (or none): blocks of the run's block size, as nextBlockLayers", () => {
    expect(layers(view(0, 1))).toBe(1);
    expect(layers(view(undefined, 1))).toBe(1);
    expect(layers(view(0, 3))).toBe(3);
    expect(layers(view(0, 8, 1))).toBe(3); // clipped at the job's end
  });

  it("a policy's own block size (sdrm3's block parameter) replaces the run's rule", () => {
    expect(layers(view(0.25), 1)).toBe(1);
    expect(layers(view(0.2), 4)).toBe(4);
  });
});

describe("policies size their blocks with the run's quantum", () => {
  const models = [{ name: "A", latencyMs: LAT, jobs: [{ frame: 0, deadline: 100 }] }];

  it("edf (list scheduling): a 3-layer block to the accelerator where it finishes first (acc1: 0.5 ms, acc0: 0.6 ms)", () => {
    expect(dispatchList(decideWith(edf, buildView({ quantumMs: 0.25, models })))).toEqual(["A:0@1x3"]);
    expect(dispatchList(decideWith(edf, buildView({ quantumMs: 0, models })))).toEqual(["A:0@0x1"]);
  });

  it("sdrm3: the quantum block; its block parameter, when set, wins", () => {
    const d = decideWith(sdrm3, buildView({ quantumMs: 0.25, models }));
    expect(d.dispatches.map((x) => x.layerCount)).toEqual([3]);
    expect(decideWith(sdrm3, buildView({ quantumMs: 0.25, models }), { block: 1 }).dispatches.map((x) => x.layerCount)).toEqual([1]);
    expect(decideWith(sdrm3, buildView({ quantumMs: 0, models })).dispatches.map((x) => x.layerCount)).toEqual([1]);
  });

  it("herald: the run of layers sharing one preferred accelerator, capped by the quantum block", () => {
    // acc0 is the fastest and the lowest-EDP accelerator for every layer: the affinity run is all 5 layers
    const same = [{ name: "A", latencyMs: [new Array(5).fill(0.1), new Array(5).fill(0.3)], jobs: [{ frame: 0, deadline: 100 }] }];
    expect(dispatchList(decideWith(herald, buildView({ quantumMs: 0.25, models: same })))).toEqual(["A:0@0x3"]);
    expect(dispatchList(decideWith(herald, buildView({ quantumMs: 0, models: same })))).toEqual(["A:0@0x1"]);
  });
});
