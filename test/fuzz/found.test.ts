/**
 * Issue 17 items 2 and 3 and what the fuzz suite found, each case reproduced at the CLI
 * (`main(argv, io)` in process): what happened before (in the comment) and what happens now
 * (exit 2, the file, the field or the limit, and the value).
 */
import { closeSync, existsSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { removeScratch, scratch, sdrm3 } from "./support";
import type { Ran } from "./support";

afterAll(removeScratch);

const files = scratch("found");
const json = (value: unknown): string => files.file("json", JSON.stringify(value));
const RUN = ["--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "20ms"];

/** Exit 2, nothing on stdout, one line on stderr: `sdrm3: <message>`. */
const refused = (ran: Ran): string => {
  expect(ran.code, ran.err).toBe(2);
  expect(ran.out).toBe("");
  expect(ran.err).toMatch(/^sdrm3: /);
  expect(ran.err).not.toMatch(/run failed|\n\s+at /);
  return ran.err;
};

/** A file of `bytes` bytes starting with `head` (the rest is a hole: no disk, no time). */
const sparse = (ext: string, head: string, bytes: number): string => {
  const path = files.file(ext, "");
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, head);
    ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
  return path;
};

describe("issue 17 item 2: data files are exact", () => {
  it("an unknown scenario field is refused naming it and the nearest known field (was: ignored, the child ran at full rate without its parent)", async () => {
    const file = json({
      name: "typo",
      models: [
        { name: "HT_hand_graph_cnn_half", fps: 30 },
        { name: "ES_RITNet", fps: 30, dependencies: ["HT_hand_graph_cnn_half"], probabilty: 0.01 },
      ],
    });
    const err = refused(await sdrm3(["run", "--scenario-file", file, "--scenario", "typo", ...RUN]));
    expect(err).toBe(
      `sdrm3: ${file}: models[1].dependencies: expected a known field (did you mean dependency?), got the unknown field "dependencies" (and 1 more)\n` +
        `  ${file}: models[1].probabilty: expected a known field (did you mean probability?), got the unknown field "probabilty"\n`,
    );
  });

  it("unknown fields of model and hardware files, and of a phase, are refused likewise", async () => {
    const model = json({ name: "M1", layers: [{ K: 1, C: 1, Y: 3, X: 3, R: 3, S: 3, strides: 2 }] });
    expect(refused(await sdrm3(["run", "--model-file", model, "--scenario", "AR_gaming", ...RUN]))).toBe(
      `sdrm3: ${model}: layers[0].strides: expected a known field (did you mean stride?), got the unknown field "strides"\n`,
    );
    const hardware = json({ name: "H1", sub_accelerators: [{ num_pe: 1024, num_pes: 1024, top_noc_bw: 64 }] });
    expect(refused(await sdrm3(["run", "--hardware-file", hardware, "--scenario", "AR_gaming", ...RUN]))).toBe(
      `sdrm3: ${hardware}: sub_accelerators[0].num_pe: expected a known field (did you mean num_pes?), got the unknown field "num_pe"\n`,
    );
    const phased = json({ name: "ph", phases: [{ from_ms: 0, scenario: "AR_gaming", until_ms: 5 }] });
    expect(refused(await sdrm3(["run", "--scenario-file", phased, "--scenario", "ph", ...RUN]))).toContain(
      `${phased}: phases[0].until_ms: expected a known field`,
    );
  });

  it("a model name that is not a subject token is refused at load, before --record creates its file (was: exit 1 at run start, a header-only log)", async () => {
    const file = json({ name: "dotted", models: [{ name: "ES.RITNet", model: "ES_RITNet", fps: 30 }] });
    const record = join(files.dir, "dotted.jsonl");
    const err = refused(await sdrm3(["run", "--scenario-file", file, "--scenario", "dotted", "--record", record, ...RUN]));
    expect(err).toBe(`sdrm3: ${file}: models[0].name: expected a model name of 1-64 letters, digits, '_' or '-', got "ES.RITNet"\n`);
    expect(existsSync(record)).toBe(false);
    const model = json({ name: "my net", layers: [{ K: 1, C: 1, Y: 3, X: 3, R: 3, S: 3 }] });
    expect(refused(await sdrm3(["run", "--model-file", model, "--scenario", "AR_gaming", ...RUN]))).toBe(
      `sdrm3: ${model}: name: expected a model name of 1-64 letters, digits, '_' or '-', got "my net"\n`,
    );
  });

  it("a hardware config named a/b is refused at load (was: loaded, then could not be named by --hardware)", async () => {
    const file = json({ name: "a/b", sub_accelerators: [{ num_pes: 1024, top_noc_bw: 64 }] });
    expect(refused(await sdrm3(["run", "--hardware-file", file, "--hardware", "a/b/WS", "--scenario", "AR_gaming", "--duration", "20ms"]))).toBe(
      `sdrm3: ${file}: name: expected a hardware config name without '/' or ',', got "a/b"\n`,
    );
  });

  it("costs whose ideal frame energy is 0 are refused (was: UXCost '-')", async () => {
    const rows = Array.from({ length: 8 }, (_, i) => `KD_res8_narrow,${i},100,0,100,0`);
    const csv = files.file("csv", ["model,layer_idx,WS_2048pe_bw128_cycles,WS_2048pe_bw128_energy_nJ,OS_2048pe_bw128_cycles,OS_2048pe_bw128_energy_nJ", ...rows].join("\n"));
    expect(refused(await sdrm3(["run", "--costs", csv, "--scenario", "AR_Assistant", ...RUN]))).toBe(
      "sdrm3: <cost table>: KD_res8_narrow: expected a positive ideal frame energy on Dual_4K/WS_OS (some layer with energy above 0 on every accelerator), got 0 (every layer costs 0 nJ on some accelerator)\n",
    );
  });

  it("found by fuzzing: a parent named twice is refused at load (was: exit 1, 'run failed: … more than one parent')", async () => {
    const file = json({ name: "twice", models: [{ name: "ES_RITNet", fps: 30 }, { name: "GE_FBNet_C", fps: 30, dependency: ["ES_RITNet", "ES_RITNet"] }] });
    expect(refused(await sdrm3(["run", "--scenario-file", file, "--scenario", "twice", ...RUN]))).toBe(
      `sdrm3: ${file}: models[1].dependency[1]: expected each parent once (dependency[0] names it), got "ES_RITNet"\n`,
    );
  });

  it("found by fuzzing: a policy that cannot run the scenario is bad input, exit 2 (was: exit 1, 'run failed')", async () => {
    const file = json({ name: "two_parents", models: [{ name: "ES_RITNet", fps: 30 }, { name: "DR_RGBd_200", fps: 30 }, { name: "GE_FBNet_C", fps: 30, dependency: ["ES_RITNet", "DR_RGBd_200"] }] });
    expect(refused(await sdrm3(["run", "--scenario-file", file, "--scenario", "two_parents", ...RUN]))).toBe(
      "sdrm3: model GE_FBNet_C: a cascade with more than one parent is not supported\n",
    );
    expect(refused(await sdrm3(["run", "--scenario", "social_dynamic", "--hardware", "Dual_4K/WS_OS", "--policy", "xrbench", "--duration", "20ms"]))).toMatch(
      /^sdrm3: scenario social_dynamic is dynamic .*the xrbench runtime supports static scenarios only\n$/,
    );
  });
});

describe("issue 17 item 3: stated limits, checked before work starts", () => {
  const models = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `m${i}`, model: "KD_res8_narrow", fps: 1 }));

  it("models per scenario (was: 200,000 models, 'Maximum call stack size exceeded', exit 1)", async () => {
    const file = json({ name: "many", models: models(1001) });
    expect(refused(await sdrm3(["run", "--scenario-file", file, "--scenario", "many", ...RUN]))).toBe(
      `sdrm3: ${file}: models: expected at most 1000 models (the models-per-scenario limit), got 1001 models\n`,
    );
    const phased = json({ name: "many_phased", phases: [{ from_ms: 0, to_ms: 5, models: models(600) }, { from_ms: 5, models: models(1200).slice(600) }] });
    expect(refused(await sdrm3(["run", "--scenario-file", phased, "--scenario", "many_phased", ...RUN]))).toBe(
      `sdrm3: ${phased}: phases: expected at most 1000 models over all phases (the models-per-scenario limit), got 1200 models\n`,
    );
  });

  it("accelerators per hardware (was: 10,000 accelerators, nothing after 120 s)", async () => {
    const file = json({ name: "Wide", sub_accelerators: Array.from({ length: 257 }, () => ({ num_pes: 1024, top_noc_bw: 128 })) });
    expect(refused(await sdrm3(["run", "--hardware-file", file, "--scenario", "AR_gaming", ...RUN]))).toBe(
      `sdrm3: ${file}: sub_accelerators: expected at most 256 sub-accelerators (the accelerators-per-hardware limit), got 257 sub-accelerators\n`,
    );
  });

  it("frames per second (was: fps 1e9, no output in 60 s, memory growing)", async () => {
    const file = json({ name: "fast", models: [{ name: "KD_res8_narrow", fps: 1e9 }] });
    expect(refused(await sdrm3(["run", "--scenario-file", file, "--scenario", "fast", ...RUN]))).toBe(
      `sdrm3: ${file}: models[0].fps: expected at most 10000 frames per second (the frames-per-second limit), got 1000000000\n`,
    );
  });

  it("layers per model", async () => {
    const file = json({ name: "Deep", layers: Array.from({ length: 10_001 }, () => ({ K: 1, C: 1, Y: 1, X: 1, R: 1, S: 1 })) });
    expect(refused(await sdrm3(["run", "--model-file", file, "--scenario", "AR_gaming", ...RUN]))).toBe(
      `sdrm3: ${file}: layers: expected at most 10000 layers (the layers-per-model limit), got 10001 layers\n`,
    );
  });

  it("JSON file size and nesting depth", async () => {
    const big = sparse("json", "{", 64 * 1024 * 1024 + 1);
    expect(refused(await sdrm3(["run", "--scenario-file", big, "--scenario", "x", ...RUN]))).toBe(
      `sdrm3: ${big}: expected a file of at most 64 MiB (the file-size limit), got 64.0 MiB (67108865 bytes)\n`,
    );
    // valid JSON 100,000 deep: before, formatting the refused value overflowed the stack (exit 1)
    const deep = files.file("json", `{"name":"d","models":${"[".repeat(100_000)}${"]".repeat(100_000)}}`);
    expect(refused(await sdrm3(["run", "--scenario-file", deep, "--scenario", "d", ...RUN]))).toBe(
      `sdrm3: ${deep}: line 1, column 85: expected arrays and objects nested at most 64 deep (the JSON-depth limit), got nesting 65 deep\n`,
    );
  });

  it("a 200 MB cost CSV with a duplicate at line 3 fails at line 3 (was: after 22 s and 1.9 GB)", async () => {
    const head = ["model,layer_idx,WS_2048pe_bw128_cycles,WS_2048pe_bw128_energy_nJ", "KD_res8_narrow,0,1,1", "KD_res8_narrow,0,1,1", ""].join("\n");
    const csv = sparse("csv", head, 200 * 1024 * 1024);
    expect(refused(await sdrm3(["run", "--costs", csv, "--scenario", "AR_Assistant", ...RUN]))).toBe(
      `sdrm3: ${csv}: line 3: expected one row per layer (line 2 already has KD_res8_narrow layer 0), got a second row\n`,
    );
  });

  it("cost CSV size and record length", async () => {
    const huge = sparse("csv", "model,layer_idx\n", 1024 * 1024 * 1024 + 1);
    expect(refused(await sdrm3(["run", "--costs", huge, "--scenario", "AR_Assistant", ...RUN]))).toBe(
      `sdrm3: ${huge}: expected a file of at most 1 GiB (the file-size limit), got 1.0 GiB (1073741825 bytes)\n`,
    );
    const wide = files.file("csv", `model,layer_idx,${"x".repeat(2 * 1024 * 1024)}\n`);
    expect(refused(await sdrm3(["run", "--costs", wide, "--scenario", "AR_Assistant", ...RUN]))).toBe(
      `sdrm3: ${wide}: line 1: expected a line of at most 1048576 characters (the CSV-record limit), got more than 1048576\n`,
    );
    const quoted = files.file("csv", `model,layer_idx,"${"x\n".repeat(600 * 1024)}`);
    expect(refused(await sdrm3(["run", "--costs", quoted, "--scenario", "AR_Assistant", ...RUN]))).toBe(
      `sdrm3: ${quoted}: line 1: expected a record of at most 1048576 characters (the CSV-record limit), got more than 1048576\n`,
    );
  });
});
