/**
 * `sdrm3 gen scenario|hardware`, in process: the files it writes are the generators' (same seed →
 * same bytes), `sdrm3 run` runs them through the existing --scenario-file / --hardware-file flags
 * with the flags `gen --out` prints, and every bad flag exits 2 with a message naming it.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateHardware, generateScenario, loadBuiltinDataset, loadHardwareFile, loadScenarioFile } from "@sdrm3/shared/data";
import { sdrm3 } from "./testing";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-gen-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sdrm3 gen", () => {
  it("gen scenario --out writes the generator's scenario and prints the flags that load it", async () => {
    const file = join(dir, "s.json");
    const r = await sdrm3("gen", "scenario", "--models", "30", "--seed", "7", "--cascades", "0.2", "--out", file);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(`--scenario-file ${file} --scenario synthetic_30_s7\n`);
    const ds = loadBuiltinDataset();
    expect(loadScenarioFile(file, ds)).toEqual([generateScenario(ds, { models: 30, seed: 7, cascades: 0.2 })]);
  });

  it("without --out the file goes to stdout: same seed → same bytes, another seed → other bytes", async () => {
    const a = await sdrm3("gen", "scenario", "--models", "12", "--seed", "3", "--fps", "10-20");
    const b = await sdrm3("gen", "scenario", "--models", "12", "--seed", "3", "--fps", "10-20");
    const c = await sdrm3("gen", "scenario", "--models", "12", "--seed", "4", "--fps", "10-20");
    expect(a.code).toBe(0);
    expect(b.out).toBe(a.out);
    expect(c.out).not.toBe(a.out);
    const json = JSON.parse(a.out) as { name: string; models: Array<{ fps: number }> };
    expect(json.name).toBe("synthetic_12_s3");
    expect(json.models).toHaveLength(12);
    for (const m of json.models) expect(m.fps >= 10 && m.fps <= 20).toBe(true);
  });

  it("gen hardware: 64 accelerators; `sdrm3 run` takes both files with the printed flags (every model costed on every accelerator)", async () => {
    const h = await sdrm3("gen", "hardware", "--accelerators", "64", "--out", join(dir, "h.json"));
    expect(h.code).toBe(0);
    const ds = loadBuiltinDataset();
    const expected = generateHardware(ds, { accelerators: 64 });
    expect(h.out).toBe(`--hardware-file ${join(dir, "h.json")} --hardware ${expected.spec}\n`);
    expect(loadHardwareFile(join(dir, "h.json"))).toEqual([expected.config]);
    const s = await sdrm3("gen", "scenario", "--models", "30", "--seed", "7", "--out", join(dir, "s30.json"));
    const flags = [...h.out.trim().split(" "), ...s.out.trim().split(" ")];
    const r = await sdrm3("run", ...flags, "--policy", "sdrm3", "--duration", "40ms", "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { hardware: string; models: Array<{ name: string; released: number; onTime: number; late: number; dropped: number; unfinished: number }> };
    expect(json.hardware).toBe(expected.spec);
    expect(json.models).toHaveLength(30);
    for (const m of json.models) expect(m.onTime + m.late + m.dropped + m.unfinished, m.name).toBe(m.released);
    expect(json.models.reduce((n, m) => n + m.released, 0)).toBeGreaterThan(30);
  });

  it("gen hardware --classes --name", async () => {
    const r = await sdrm3("gen", "hardware", "--accelerators", "3", "--classes", "RS_8192pe_bw256,WS_1024pe_bw128", "--name", "Mix");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      name: "Mix",
      group: "user",
      sub_accelerators: [
        { index: 0, name: "WS_1024pe_bw128", num_pes: 1024, top_noc_bw: 128 },
        { index: 1, name: "RS_8192pe_bw256", num_pes: 8192, top_noc_bw: 256 },
        { index: 2, name: "WS_1024pe_bw128", num_pes: 1024, top_noc_bw: 128 },
      ],
    });
  });

  const refused: ReadonlyArray<[string, ReadonlyArray<string>, RegExp]> = [
    ["--models 0", ["scenario", "--models", "0"], /^sdrm3: --models: expected an integer in \[1, 1000\], got '0'\n$/],
    ["--models abc", ["scenario", "--models", "abc"], /^sdrm3: --models: /],
    ["--models 1001", ["scenario", "--models", "1001"], /^sdrm3: --models: /],
    ["--seed -1", ["scenario", "--seed", "-1"], /^sdrm3: --seed: expected a non-negative integer/],
    ["--fps 0", ["scenario", "--fps", "0"], /^sdrm3: --fps: expected a list of frame rates/],
    ["--fps 30,,60", ["scenario", "--fps", "30,,60"], /^sdrm3: --fps: /],
    ["--fps 60-15", ["scenario", "--fps", "60-15"], /^sdrm3: --fps: expected a range min-max/],
    ["--cascades 1.5", ["scenario", "--cascades", "1.5"], /^sdrm3: --cascades: expected a share in \[0, 1\]/],
    ["--cascades x", ["scenario", "--cascades", "x"], /^sdrm3: --cascades: /],
    ["--pool unknown", ["scenario", "--pool", "ES_RITNet,NoSuchNet"], /^sdrm3: unknown model 'NoSuchNet'; valid: /],
    ["--pool empty entry", ["scenario", "--pool", "ES_RITNet,"], /^sdrm3: --pool: /],
    ["--name a.b", ["scenario", "--name", "a.b"], /^sdrm3: --name: expected 1–64 letters/],
    ["--accelerators 0", ["hardware", "--accelerators", "0"], /^sdrm3: --accelerators: expected an integer in \[1, 256\], got '0'/],
    ["--classes unknown", ["hardware", "--classes", "WS_999pe_bw1"], /^sdrm3: --classes: unknown cost class 'WS_999pe_bw1'; valid: /],
    ["--accelerators on a scenario", ["scenario", "--accelerators", "8"], /^sdrm3: --accelerators: only for `gen hardware`/],
    ["--models on a hardware", ["hardware", "--models", "8"], /^sdrm3: --models: only for `gen scenario`/],
    ["--fps on a hardware", ["hardware", "--fps", "30"], /^sdrm3: --fps: only for `gen scenario`/],
    ["--classes on a scenario", ["scenario", "--classes", "WS_1024pe_bw128"], /^sdrm3: --classes: only for `gen hardware`/],
    ["--out into a missing directory", ["scenario", "--out", "/nonexistent-dir/s.json"], /^sdrm3: --out: cannot write '\/nonexistent-dir\/s.json'/],
    ["an unknown kind", ["workload"], /^sdrm3: unknown kind 'workload'; valid: scenario, hardware/],
  ];
  it.each(refused)("refuses %s: exit 2, nothing on stdout, the flag named", async (_what, argv, message) => {
    const r = await sdrm3("gen", ...argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(message);
    expect(r.err).not.toContain("    at ");
  });

  it("an unknown flag is refused by the parser (exit 2)", async () => {
    const r = await sdrm3("gen", "scenario", "--model", "3");
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--model'");
  });

  it("serve scheduler reads the same files (checked before connecting): a missing one exits 2 naming it; the other roles take the run's spec and no files", async () => {
    const r = await sdrm3("serve", "scheduler", "--nats", "nats://127.0.0.1:1", "--scenario-file", join(dir, "missing.json"), "--scenario", "x", "--hardware", "Dual_4K/WS_OS");
    expect(r).toEqual({ code: 2, out: "", err: `sdrm3: ${join(dir, "missing.json")}: expected a readable file, got ENOENT\n` });
    const unknown = await sdrm3("serve", "scheduler", "--nats", "nats://127.0.0.1:1", "--scenario-file", join(dir, "s.json"), "--scenario", "synthetic_30_s8", "--hardware", "Dual_4K/WS_OS");
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^sdrm3: unknown scenario 'synthetic_30_s8'; valid: .*synthetic_30_s7/);
    const workload = await sdrm3("serve", "workload", "--nats", "nats://127.0.0.1:1", "--scenario-file", join(dir, "s.json"));
    expect(workload.code).toBe(2);
    expect(workload.err).toContain("unknown option '--scenario-file'");
  });

  it("the written file is plain, indented JSON", () => {
    const text = readFileSync(join(dir, "s.json"), "utf8");
    expect(text.startsWith('{\n  "name": "synthetic_30_s7",')).toBe(true);
    expect(text.endsWith("}\n")).toBe(true);
  });
});
