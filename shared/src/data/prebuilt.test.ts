import { describe, expect, it } from "vitest";
import { readBuiltinSources } from "./dataset";
import { PREBUILT_DATASET_VERSION, datasetFromJson, datasetToJson } from "./prebuilt";

describe("prebuilt dataset (the built command's fast-parse form of shared/data)", () => {
  const sources = readBuiltinSources();
  const text = datasetToJson(sources);
  const parsed = datasetFromJson(text, "prebuilt.json");

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

  it("serialises deterministically: parsing and writing again gives the same bytes", () => {
    expect(datasetToJson(parsed)).toBe(text);
  });

  it("refuses a document of another version, naming the file and how to rebuild", () => {
    const other = JSON.stringify({ ...JSON.parse(text), version: PREBUILT_DATASET_VERSION + 1 });
    expect(() => datasetFromJson(other, "dist/builtin-dataset.json")).toThrow(/dist\/builtin-dataset\.json: prebuilt dataset version 2.*npm run build/);
  });
});
