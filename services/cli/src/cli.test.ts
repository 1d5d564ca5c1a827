/**
 * The `sdrm3` command, in process: `main(argv, io)` with a capturing io. Exit codes (0 ok, 2 bad
 * input), the `--json` fields, the human table, and a clear one-line message on stderr (no stack
 * trace) for every kind of bad input. One test spawns the real binary.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { UXCOST_DEFINITION } from "@sdrm3/shared/domain";
import { POLICIES } from "@sdrm3/shared/policies";
import { sdrm3 } from "./testing";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const badData = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/bad-data/${name}`, import.meta.url));

/** XRBench overall score of the official tool on VR_gaming / Single_4K / WS (test/fixtures/xrbench-golden). */
const GOLDEN_VR_GAMING_SINGLE_4K_WS = 86.466141;

const SCENARIOS =
  "AR_Assistant, AR_gaming, VR_gaming, outdoor_activity_A, outdoor_activity_B, social_interactionA, social_interactionB, " +
  "VR_gaming_100p, VR_gaming_25p, VR_gaming_50p, VR_gaming_75p, VR_to_AR_switch, AR_gaming_ramp, social_dynamic";

/** A bad-input run: exit code 2, nothing on stdout, one `sdrm3: …` message on stderr and no stack trace. */
const refused = async (...argv: string[]): Promise<string> => {
  const r = await sdrm3(...argv);
  expect(r.code, `exit code of ${argv.join(" ")}`).toBe(2);
  expect(r.out).toBe("");
  expect(r.err).not.toContain("    at ");
  return r.err;
};

const RUN = ["run", "--scenario", "VR_gaming", "--hardware", "Single_4K/WS"] as const;

describe("sdrm3 run", () => {
  it("--json: exit 0 and the documented fields; the xrbench overall score equals the golden run's", async () => {
    const r = await sdrm3(...RUN, "--policy", "xrbench", "--duration", "700ms", "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out.endsWith("\n")).toBe(true);
    expect(r.out.trim().split("\n")).toHaveLength(1);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({
      scenario: "VR_gaming",
      hardware: "Single_4K/WS",
      policy: "xrbench",
      seed: 1,
      durationMs: 700,
    });
    expect(json.models.map((m: { name: string }) => m.name)).toEqual(["ES_RITNet", "GE_FBNet_C", "HT_hand_graph_cnn_half"]);
    for (const m of json.models) {
      for (const field of ["released", "onTime", "late", "dropped", "energyMJ", "rtScore", "energyScore", "uxScore"]) {
        expect(typeof m[field], `${m.name}.${field}`).toBe("number");
      }
    }
    // the official runtime's frame counts (golden schedule): 43/43/31 injected in 700 ms
    expect(json.models.map((m: Record<string, number>) => [m.released, m.onTime, m.late, m.dropped])).toEqual([
      [43, 42, 0, 0],
      [43, 42, 0, 0],
      [31, 23, 8, 0],
    ]);
    for (const field of ["xrbenchScore", "uxCost", "deadlineMissRate", "energyMJ"]) {
      expect(typeof json.summary[field], `summary.${field}`).toBe("number");
    }
    expect(Math.abs(json.summary.xrbenchScore - GOLDEN_VR_GAMING_SINGLE_4K_WS)).toBeLessThanOrEqual(1e-4);
    expect(json.summary.deadlineMissRate).toBeCloseTo(8 / 117, 12);
    expect(json.uxCostDefinition).toBe(UXCOST_DEFINITION);
  });

  it("human output: the per-model table, the scores and the UXCost definition", async () => {
    const r = await sdrm3(...RUN, "--duration", "700ms");
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    const header = r.out.split("\n").find((line) => line.includes(" model "));
    expect(header).toBeDefined();
    for (const column of ["target fps", "released", "on time", "late", "dropped", "miss rate", "energy mJ", "RT score", "UX_m"]) {
      expect(header, column).toContain(column);
    }
    expect(r.out).toMatch(/^sdrm3 run {2}scenario=VR_gaming {2}hardware=Single_4K\/WS {2}policy=xrbench {2}seed=1 {2}duration=700ms/);
    expect(r.out).toContain("HT_hand_graph_cnn_half");
    expect(r.out).toMatch(/XRBench overall score : 86\.466\d+/);
    expect(r.out).toContain(`UXCost definition     : ${UXCOST_DEFINITION}`);
  });

  describe("bad input: exit code 2 and a clear message", () => {
    it("unknown scenario: lists the valid names", async () => {
      expect(await refused("run", "--scenario", "nope", "--hardware", "Single_4K/WS")).toBe(
        `sdrm3: unknown scenario 'nope'; valid: ${SCENARIOS}\n`,
      );
    });

    it("unknown hardware config: lists the valid configs", async () => {
      expect(await refused("run", "--scenario", "VR_gaming", "--hardware", "Dual_5K/WS_OS")).toMatch(
        /^sdrm3: unknown hardware config 'Dual_5K'; valid: Single_4K, Single_8K, Dual_4K, .*Single_2K\n$/,
      );
    });

    it("wrong number of dataflows", async () => {
      expect(await refused("run", "--scenario", "VR_gaming", "--hardware", "Dual_4K/WS")).toBe(
        `sdrm3: hardware 'Dual_4K/WS': dataflows: expected 2 dataflow(s) joined by '_' (one per sub-accelerator of Dual_4K), got 1 ("WS")\n`,
      );
    });

    it("unknown policy: lists the valid policies", async () => {
      expect(await refused(...RUN, "--policy", "nope")).toBe(`sdrm3: unknown policy 'nope'; valid: ${[...POLICIES.keys()].join(", ")}\n`);
      expect([...POLICIES.keys()]).toEqual(expect.arrayContaining(["xrbench", "fcfs"]));
    });

    it.each(["5", "-1s", "abc", "0ms", "10 days", "5 s", " 10s", "10s "])("bad duration %j", async (duration) => {
      const err = await refused(...RUN, "--duration", duration);
      expect(err).toMatch(/^sdrm3: --duration: expected a (duration such as 700ms, 10s or 1\.5m|positive duration), got '/);
      expect(err).toContain(`'${duration}'`);
    });

    it.each(["11m", "601s", "99999999999m"])("duration %j: longer than a run may be", async (duration) => {
      expect(await refused(...RUN, "--duration", duration)).toBe(
        `sdrm3: --duration: expected a duration of at most 10m (a run keeps every frame for its metrics: about 1.2 MB per simulated second), got '${duration}'\n`,
      );
    });

    it.each(["x", "-1", "1.5", "4294967296"])("bad seed %j", async (seed) => {
      expect(await refused(...RUN, "--seed", seed)).toBe(`sdrm3: --seed: expected a non-negative integer below 2^32, got '${seed}'\n`);
    });

    it("bad --param: no '=', not a number, a name the policy does not have", async () => {
      expect(await refused(...RUN, "--param", "alpha")).toBe("sdrm3: --param: expected name=number, e.g. alpha=1.5, got 'alpha'\n");
      expect(await refused(...RUN, "--param", "alpha=x")).toBe("sdrm3: --param: expected name=number, e.g. alpha=1.5, got 'alpha=x'\n");
      expect(await refused(...RUN, "--policy", "idle", "--param", "alpha=1")).toBe(
        "sdrm3: policy 'idle' has no parameter 'alpha'; it takes none\n",
      );
      // every baseline takes the shared admission rule's drop (issue 14), and only that
      expect(await refused(...RUN, "--policy", "fcfs", "--param", "alpha=1")).toBe("sdrm3: policy 'fcfs' has no parameter 'alpha'; valid: drop\n");
      expect(await refused(...RUN, "--policy", "idle", "--param", "drop=1")).toBe("sdrm3: policy 'idle' has no parameter 'drop'; it takes none\n");
    });

    it("unknown option", async () => {
      const err = await refused(...RUN, "--bogus");
      expect(err).toContain("unknown option '--bogus'");
    });

    it("missing --scenario, missing --hardware", async () => {
      expect(await refused("run", "--hardware", "Single_4K/WS")).toBe("sdrm3: missing --scenario <name>; see `sdrm3 list scenarios`\n");
      expect(await refused("run", "--scenario", "VR_gaming")).toMatch(/^sdrm3: missing --hardware /);
    });

    it("bad --scenario-file: names the file and the field path", async () => {
      const file = badData("scenario-missing-fps.json");
      expect(await refused(...RUN, "--scenario-file", file)).toBe(
        `sdrm3: ${file}: models[1].target_fps: expected a positive number (field target_fps or fps), got nothing (the field is missing)\n`,
      );
      const malformed = badData("malformed.json");
      expect(await refused(...RUN, "--scenario-file", malformed)).toBe(
        `sdrm3: ${malformed}: line 5, column 3: expected valid JSON (a value), got ']'\n`,
      );
      const missing = badData("does-not-exist.json");
      expect(await refused(...RUN, "--scenario-file", missing)).toBe(`sdrm3: ${missing}: expected a readable file, got ENOENT\n`);
    });

    it("bad --hardware-file: names the file and the field path", async () => {
      const file = badData("hardware-missing-num-pes.json");
      expect(await refused(...RUN, "--hardware-file", file)).toBe(
        `sdrm3: ${file}: configs[0].sub_accelerators[1].num_pes: expected a positive integer, got nothing (the field is missing)\n`,
      );
    });

    it("bad --costs: names the file, line and column", async () => {
      const file = badData("costs-non-numeric.csv");
      expect(await refused(...RUN, "--costs", file)).toBe(
        `sdrm3: ${file}: line 3, column WS_2048pe_bw128_energy_nJ: expected a non-negative number, got "abc"\n`,
      );
    });

    it("bad --model-file: names the file and the field path", async () => {
      const file = badData("model-missing-k.json");
      expect(await refused(...RUN, "--model-file", file)).toBe(
        `sdrm3: ${file}: layers[0].K: expected a positive integer, got nothing (the field is missing)\n`,
      );
    });
  });
});

describe("sdrm3 list", () => {
  it("scenarios, hardware and policies: exit 0", async () => {
    const scenarios = await sdrm3("list", "scenarios");
    expect([scenarios.code, scenarios.err]).toEqual([0, ""]);
    expect(scenarios.out.trim().split("\n").map((l) => l.split(" ")[0])).toEqual(SCENARIOS.split(", "));
    expect(scenarios.out).toContain("ES_RITNet@60, GE_FBNet_C@60, HT_hand_graph_cnn_half@45");

    const hardware = await sdrm3("list", "hardware");
    expect([hardware.code, hardware.err]).toEqual([0, ""]);
    const lines = hardware.out.trim().split("\n");
    expect(lines).toContain("Single_4K/WS");
    expect(lines).toContain("Dual_4K/OS_OS");

    const policies = await sdrm3("list", "policies");
    expect([policies.code, policies.err]).toEqual([0, ""]);
    const policyLines = policies.out.trim().split("\n");
    // one line per policy, its capabilities, then its parameters indented: name=default kind [min, max] description
    expect(policyLines.filter((l) => !l.startsWith(" ")).map((l) => l.split(/\s+/)[0])).toEqual([...POLICIES.keys()]);
    expect(policyLines).toContain(`${" ".repeat(14)}alpha=1  number [0, 100]  weight of fairness F in the MapScore`);
    expect(policyLines).toContain(`${" ".repeat(14)}drop=1  switch 0|1  1: frame drop (admission control) on; 0: off (ablation)`);
    expect(policyLines).toContain(`${" ".repeat(14)}block=0  integer [0, 512]  layers per dispatch for sdrm3 (0: the run's --block); the online tuner adjusts it when tuneBlock = 1`);
    expect(policyLines).toContain(`${" ".repeat(14)}(xrbench semantics; default duration 700ms; virtual time only)`);
    expect(policyLines).toContain(`${" ".repeat(14)}(exact semantics; default duration 10s; runs live; switches --supernet (supernet), --tune (tune; tunes alpha, beta, gamma, block, lambda1, lambda2))`);
  });

  it("an unknown list: exit 2", async () => {
    const r = await sdrm3("list", "foo");
    expect([r.code, r.out, r.err]).toEqual([2, "", "sdrm3: unknown list 'foo'; valid: scenarios, hardware, policies\n"]);
    // names of Object.prototype are unknown lists too (they were looked up on it: exit 1, "o is not a function")
    for (const what of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const p = await sdrm3("list", what);
      expect([p.code, p.out, p.err]).toEqual([2, "", `sdrm3: unknown list '${what}'; valid: scenarios, hardware, policies\n`]);
    }
  });
});

describe("the real binary", () => {
  it("exits 2 and names the valid scenarios for an unknown one", () => {
    const r = spawnSync(process.execPath, ["services/cli/bin/sdrm3.cjs", "run", "--scenario", "nope", "--hardware", "Single_4K/WS"], {
      cwd: REPO,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`sdrm3: unknown scenario 'nope'; valid: ${SCENARIOS}\n`);
  });
});
