/**
 * Fuzz: scenario, model, hardware and cost files. Each case damages a valid base file (fields set
 * to edge values or wrong types, removed, added with near-miss names, lists repeated, the text cut
 * or corrupted), hands it to `sdrm3 run` with a short duration, and checks the case ends cleanly:
 * exit 0, or exit 2 with one message naming the file (or the cost table / hardware spec the file
 * fed). See test/fuzz/support.ts for the contract and docs/reliability.md "Fuzz" for the counts.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { afterAll, describe, it } from "vitest";
import { builtinDataDir, loadBuiltinDataset } from "@sdrm3/shared/data";
import { KNOWN_FIELDS, Tally, expectCleanEnd, mutatedJson, params, removeScratch, scratch, sdrm3 } from "./support";

afterAll(removeScratch);

const RUN = ["--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "20ms"];
const tallies = new Map<string, Tally>();
const tally = (name: string): Tally => {
  const t = tallies.get(name) ?? new Tally();
  tallies.set(name, t);
  return t;
};
afterAll(() => {
  for (const [name, t] of tallies) console.info(`[fuzz] ${name}: ${t.total} cases (${t.toString()})`);
});

/** The `name` field of a file's text, when it parses and has one. */
const nameIn = (text: string, fallback: string): string => {
  try {
    const value = JSON.parse(text) as { name?: unknown };
    return typeof value?.name === "string" && value.name !== "" ? value.name : fallback;
  } catch {
    return fallback;
  }
};

const SCENARIO = {
  name: "fz",
  models: [
    { name: "ES_RITNet", fps: 30 },
    { name: "GE_FBNet_C", fps: 30, dependency: ["ES_RITNet"], probability: 0.5 },
    { name: "KD_res8_narrow", fps: 10, exits: [{ after_layer: 2, probability: 0.3 }], skips: [{ from_layer: 3, to_layer: 4, probability: 0.5 }] },
  ],
};

const PHASED = {
  name: "fzp",
  phases: [
    { name: "a", from_ms: 0, to_ms: 10, scenario: "AR_gaming" },
    { from_ms: 10, models: [{ name: "KD_res8_narrow", fps: 30 }] },
  ],
};

const MODEL = {
  name: "FzNet",
  layers: [
    { K: 8, C: 3, Y: 16, X: 16, R: 3, S: 3 },
    { K: 8, C: 8, Y: 14, X: 14, R: 1, S: 1, stride: 1 },
    { K: 4, C: 8, Y: 14, X: 14, R: 3, S: 3, stride: 2 },
  ],
};

const HARDWARE = {
  name: "FzHw",
  sub_accelerators: [
    { num_pes: 2048, top_noc_bw: 128 },
    { num_pes: 2048, top_noc_bw: 128 },
  ],
};

describe("fuzz: data files", () => {
  it("scenario files (both forms) end with exit 0 or a message naming the file", async () => {
    const files = scratch("scenario");
    const text = fc.oneof(mutatedJson(SCENARIO, KNOWN_FIELDS), mutatedJson(PHASED, KNOWN_FIELDS), mutatedJson({ scenarios: [SCENARIO] }, KNOWN_FIELDS));
    await fc.assert(
      fc.asyncProperty(text, async (json) => {
        const path = files.file("json", json);
        const ran = await sdrm3(["run", "--scenario-file", path, "--scenario", nameIn(json, "fz"), ...RUN]);
        tally("scenario files").add(ran);
        expectCleanEnd(ran, [path, "<cost table>", /unknown scenario/]);
      }),
      params(60),
    );
  }, 600_000);

  it("model files end with exit 0 or a message naming the file", async () => {
    const files = scratch("model");
    await fc.assert(
      fc.asyncProperty(mutatedJson(MODEL, KNOWN_FIELDS), fc.boolean(), async (json, useIt) => {
        const path = files.file("json", json);
        const name = nameIn(json, "FzNet");
        // with a scenario that runs the model, its costs are missing: refused naming the cost table
        const scenario = useIt ? ["--scenario-file", files.file("json", JSON.stringify({ name: "fzm", models: [{ name, fps: 10 }] })), "--scenario", "fzm"] : ["--scenario", "AR_gaming"];
        const ran = await sdrm3(["run", "--model-file", path, ...scenario, ...RUN]);
        tally("model files").add(ran);
        expectCleanEnd(ran, [path, files.dir, "<cost table>"]);
      }),
      params(40),
    );
  }, 600_000);

  it("hardware files end with exit 0 or a message naming the file or the spec", async () => {
    const files = scratch("hardware");
    await fc.assert(
      fc.asyncProperty(mutatedJson(HARDWARE, KNOWN_FIELDS), fc.nat(4), async (json, extra) => {
        const path = files.file("json", json);
        let slots = 2;
        try {
          const value = JSON.parse(json) as { sub_accelerators?: unknown };
          if (Array.isArray(value?.sub_accelerators)) slots = Math.min(value.sub_accelerators.length, 64);
        } catch {
          // a damaged text: the spec does not matter
        }
        const dataflows = Array.from({ length: Math.max(1, slots + (extra === 4 ? 1 : 0)) }, (_, i) => (i % 2 === 0 ? "WS" : "OS")).join("_");
        const spec = `${nameIn(json, "FzHw")}/${dataflows}`;
        const ran = await sdrm3(["run", "--hardware-file", path, "--scenario", "AR_gaming", "--hardware", spec, "--policy", "sdrm3", "--duration", "20ms"]);
        tally("hardware files").add(ran);
        expectCleanEnd(ran, [path, "hardware '", /unknown hardware config/]);
      }),
      params(40),
    );
  }, 600_000);

  it("cost CSVs end with exit 0 or a message naming the file or the cost table", async () => {
    const files = scratch("costs");
    const dataset = loadBuiltinDataset();
    const scenario = [...dataset.scenarios.values()].find((s) => s.phases === undefined && s.models.some((m) => m.model === "KD_res8_narrow"))!;
    const builtin = readFileSync(`${builtinDataDir()}layer_costs_maestro.csv`, "utf8").split("\n");
    const header = builtin[0]!.split(",");
    const columns = ["model", "layer_idx", "WS_2048pe_bw128_cycles", "WS_2048pe_bw128_energy_nJ", "OS_2048pe_bw128_cycles", "OS_2048pe_bw128_energy_nJ"];
    const picks = columns.map((c) => header.indexOf(c));
    const rows = builtin.filter((line) => line.startsWith("KD_res8_narrow,")).map((line) => {
      const cells = line.split(",");
      return picks.map((i) => cells[i]!);
    });
    const base = [columns, ...rows];
    const cell = fc.constantFrom("", "-1", "0", "1e400", "abc", '"', '"1,2"', "NaN", "Infinity", " 5 ", "KD_res8_narrow", "8", "-0", "1e-320", '"x\ny"', "x".repeat(70));
    const op = fc.oneof(
      fc.record({ kind: fc.constant("cell" as const), row: fc.nat(), col: fc.nat(), value: cell }),
      fc.record({ kind: fc.constant("dropRow" as const), row: fc.nat() }),
      fc.record({ kind: fc.constant("repeatRow" as const), row: fc.nat() }),
      fc.record({ kind: fc.constant("dropCell" as const), row: fc.nat() }),
      fc.record({ kind: fc.constant("zeroEnergy" as const) }),
    );
    const csv = fc
      .tuple(fc.array(op, { maxLength: 4 }), fc.constantFrom("\n", "\r\n", "\r"), fc.constantFrom("", "\ufeff"), fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }), fc.boolean())
      .map(([ops, eol, bom, cut, blank]) => {
        const table = base.map((r) => [...r]);
        for (const o of ops) {
          const r = "row" in o ? o.row % table.length : 0;
          if (o.kind === "cell") table[r]![o.col % table[r]!.length] = o.value;
          else if (o.kind === "dropRow") table.splice(r, 1);
          else if (o.kind === "repeatRow") table.splice(r, 0, [...table[r]!]);
          else if (o.kind === "dropCell") table[r]!.pop();
          else for (const row of table.slice(1)) for (const i of [3, 5]) if (row[i] !== undefined) row[i] = "0";
          if (table.length === 0) table.push([""]);
        }
        const text = bom + table.map((r) => r.join(",")).join(blank ? `${eol}${eol}` : eol) + eol;
        return cut === null ? text : text.slice(0, cut % (text.length + 1));
      });
    await fc.assert(
      fc.asyncProperty(csv, async (text) => {
        const path = files.file("csv", text);
        const ran = await sdrm3(["run", "--costs", path, "--scenario", scenario.name, ...RUN]);
        tally("cost CSVs").add(ran);
        expectCleanEnd(ran, [path, "<cost table>"]);
      }),
      params(40),
    );
  }, 600_000);
});
