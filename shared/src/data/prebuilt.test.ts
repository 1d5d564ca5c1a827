import { describe, expect, it } from "vitest";
import { readBuiltinSources } from "./dataset";
import { PREBUILT_DATASET_VERSION, datasetFromPrebuilt, datasetToPrebuilt } from "./prebuilt";

describe("prebuilt dataset (the built command's fast-load form of shared/data)", () => {
  const sources = readBuiltinSources();
  const bytes = datasetToPrebuilt(sources);
  const parsed = datasetFromPrebuilt(bytes, "prebuilt.bin");

  it("holds every model, scenario, hardware config and dataflow set of the sources, equal", () => {
    expect([...parsed.models.keys()]).toEqual([...sources.models.keys()]);
    expect([...parsed.scenarios.keys()]).toEqual([...sources.scenarios.keys()]);
    expect([...parsed.hardwareConfigs.keys()]).toEqual([...sources.hardwareConfigs.keys()]);
    expect([...parsed.models.values()]).toEqual([...sources.models.values()]);
    expect([...parsed.scenarios.values()]).toEqual([...sources.scenarios.values()]);
    expect([...parsed.hardwareConfigs.values()]).toEqual([...sources.hardwareConfigs.values()]);
    expect(parsed.dataflowSets).toEqual(sources.dataflowSets);
  });

  it("gives every (model, layer, class) cost of the sources, and none they lack", () => {
    expect(parsed.costs.classes).toEqual(sources.costs.classes);
    expect(parsed.costs.models()).toEqual(sources.costs.models());
    let costs = 0;
    for (const model of sources.costs.models()) {
      expect(parsed.costs.layerCount(model)).toBe(sources.costs.layerCount(model));
      for (const costClass of sources.costs.classes) {
        for (let layer = 0; layer < sources.costs.layerCount(model); layer++) {
          const want = sources.costs.get(model, layer, costClass);
          expect(parsed.costs.get(model, layer, costClass)).toEqual(want);
          if (want !== undefined) costs++;
        }
      }
    }
    expect(costs).toBe(1301 * 21); // the XRBench table: 1301 layers × (WS, OS, RS) × 7 PE/NoC classes (docs/data.md)
  });

  it("serialises deterministically: loading and writing again gives the same bytes", () => {
    expect(Buffer.compare(datasetToPrebuilt(parsed), bytes)).toBe(0);
  });

  it("a file that is not 8-byte aligned in memory (its columns copied, not viewed) gives the same dataset", () => {
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const unaligned = datasetFromPrebuilt(shifted.subarray(1), "unaligned.bin");
    expect(Buffer.compare(datasetToPrebuilt(unaligned), bytes)).toBe(0);
  });

  const head = (b: Uint8Array): Record<string, unknown> => {
    const length = new DataView(b.buffer, b.byteOffset).getUint32(0, true);
    return JSON.parse(new TextDecoder().decode(b.subarray(4, 4 + length))) as Record<string, unknown>;
  };
  const withHead = (b: Uint8Array, change: (h: Record<string, unknown>) => Record<string, unknown>): Uint8Array => {
    const length = new DataView(b.buffer, b.byteOffset).getUint32(0, true);
    const json = new TextEncoder().encode(JSON.stringify(change(head(b))));
    const start = Math.ceil((4 + json.length) / 8) * 8;
    const out = new Uint8Array(start + b.length - Math.ceil((4 + length) / 8) * 8).fill(0x20);
    new DataView(out.buffer).setUint32(0, json.length, true);
    out.set(json, 4);
    out.set(b.subarray(Math.ceil((4 + length) / 8) * 8), start);
    return out;
  };

  it("refuses a file of another version, naming the file and how to rebuild", () => {
    const other = withHead(bytes, (h) => ({ ...h, version: PREBUILT_DATASET_VERSION + 1 }));
    expect(() => datasetFromPrebuilt(other, "dist/builtin-dataset.bin")).toThrow(
      new RegExp(`dist/builtin-dataset\\.bin: prebuilt dataset version ${PREBUILT_DATASET_VERSION + 1}.*npm run build`),
    );
  });

  it("refuses a truncated or foreign file, naming the file and what is wrong", () => {
    expect(() => datasetFromPrebuilt(bytes.subarray(0, bytes.length - 8), "d.bin")).toThrow(/d\.bin: prebuilt dataset of \d+ bytes, its head says \d+.*npm run build/);
    expect(() => datasetFromPrebuilt(bytes.subarray(0, 100), "d.bin")).toThrow(/d\.bin: not a prebuilt dataset \(its head runs past the end\)/);
    expect(() => datasetFromPrebuilt(new Uint8Array(2), "d.bin")).toThrow(/d\.bin: not a prebuilt dataset \(too short\)/);
    const garbage = new TextEncoder().encode("\u0010\u0000\u0000\u0000{not json at all}xxxxxxxx");
    expect(() => datasetFromPrebuilt(garbage, "d.bin")).toThrow(/d\.bin: not a prebuilt dataset \(its head is not JSON\)/);
  });
});
