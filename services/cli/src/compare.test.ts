/**
 * `sdrm3 compare`, called in-process through the CLI's `main(argv, io)`: outputs, determinism
 * across worker counts, input errors (exit 2), and failures inside workers (reported, no hang).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { POLICIES, resolvePolicy } from "@sdrm3/shared/policies";
import { type Io, main } from "./main";
import { describeJob, parsePolicyItem, parseSeeds, planCompare, runPool, splitList, toCsv } from "./compare";
import type { RunJob, RunRecord } from "./compare-worker";

const capture = () => {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t) };
  return { io, out: () => out.join(""), err: () => err.join("") };
};

const cli = async (argv: string[]) => {
  const c = capture();
  const code = await main(argv, c.io);
  return { code, out: c.out(), err: c.err() };
};

/** fcfs plus up to two other catalogue policies (preferring edf and sdrm3), never xrbench. */
const POLICY_SELECTION = (() => {
  const names = [...POLICIES.keys()].filter((n) => n !== "xrbench" && n !== "fcfs");
  const preferred = ["edf", "sdrm3"].filter((n) => names.includes(n));
  const rest = names.filter((n) => !preferred.includes(n));
  return ["fcfs", ...[...preferred, ...rest].slice(0, 2)];
})();

const SCENARIOS = ["VR_gaming", "AR_gaming"];
const HARDWARE = "Dual_4K/WS_OS";
const SEEDS = 2;

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "sdrm3-compare-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const compareArgs = (out: string, jobs: number) => [
  "compare",
  "--scenarios",
  SCENARIOS.join(","),
  "--hardware",
  HARDWARE,
  "--policies",
  POLICY_SELECTION.join(","),
  "--seeds",
  String(SEEDS),
  "--duration",
  "1s",
  "--jobs",
  String(jobs),
  "--out",
  out,
];

describe("sdrm3 compare: outputs and determinism", () => {
  const runs = SCENARIOS.length * POLICY_SELECTION.length * SEEDS;
  let one: { code: number; out: string; err: string; dir: string };
  let two: { code: number; out: string; err: string; dir: string };

  it("runs every combination with --jobs 1 and writes the documented files", async () => {
    const dir = tempDir();
    one = { ...(await cli(compareArgs(dir, 1))), dir };
    expect(one.err).not.toMatch(/sdrm3: /);
    expect(one.code).toBe(0);
    for (const f of ["results.csv", "results.json", "uxcost.svg", "uxcost.png", "miss-vs-energy.svg", "miss-vs-energy.png"]) {
      expect(readFileSync(join(dir, f)).length, f).toBeGreaterThan(0);
    }
    const records = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as RunRecord[];
    expect(records).toHaveLength(runs);
    // Fixed order: scenario, hardware, policy, seed, as given.
    const expectedOrder = SCENARIOS.flatMap((s) => POLICY_SELECTION.flatMap((p) => [1, 2].map((seed) => `${s}|${p}|${seed}`)));
    expect(records.map((r) => `${r.scenario}|${r.policy}|${r.seed}`)).toEqual(expectedOrder);
    for (const r of records) {
      expect(Object.keys(r).slice(0, 5)).toEqual(["scenario", "hardware", "policy", "seed", "params"]);
      expect(r.hardware).toBe(HARDWARE);
      expect(r.durationMs).toBe(1000);
      expect(r.models.length).toBeGreaterThan(0);
      for (const key of ["uxCost", "deadlineMissRate", "energyMJ", "energyMJPerS", "xrbenchScore", "released", "onTime"]) {
        expect(r.summary).toHaveProperty(key);
      }
      expect(r.params).toEqual(resolvePolicy(r.policy).params);
    }
    const csv = readFileSync(join(dir, "results.csv"), "utf8").trimEnd().split("\n");
    expect(csv[0]).toBe(
      "scenario,hardware,policy,seed,params,durationMs,uxCost,accuracy,deadlineMissRate,energyMJ,energyMJPerS,xrbenchScore,released,onTime,late,dropped,unfinished,decisions",
    );
    expect(csv).toHaveLength(runs + 1);
    expect(readFileSync(join(dir, "uxcost.svg"), "utf8")).toContain("<svg");
    expect(readFileSync(join(dir, "miss-vs-energy.svg"), "utf8")).toContain("<svg");
    const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(readFileSync(join(dir, "uxcost.png")).subarray(0, 8)).toEqual(PNG);
    expect(readFileSync(join(dir, "miss-vs-energy.png")).subarray(0, 8)).toEqual(PNG);
    // Tables: one per scenario × hardware, then the reduction table with its geomean row.
    for (const s of SCENARIOS) expect(one.out).toContain(`${s} on ${HARDWARE}`);
    expect(one.out).toMatch(/UXCost reduction of \S+ on Dual_4K\/WS_OS/);
    expect(one.out).toMatch(/geomean/);
    if (!POLICY_SELECTION.includes("sdrm3")) expect(one.out).toContain("relative to fcfs, the first policy listed");
    // Progress lines (not a TTY).
    expect(one.err).toContain(`[${runs}/${runs}] `);
    expect(one.err).toMatch(/\[1\/\d+\] \S+ Dual_4K\/WS_OS \S+ seed \d: UXCost /);
  });

  it("gives byte-identical CSV and JSON with --jobs 2; --json prints results.json", async () => {
    const dir = tempDir();
    two = { ...(await cli([...compareArgs(dir, 2), "--json"])), dir };
    expect(two.code).toBe(0);
    for (const f of ["results.csv", "results.json"]) {
      expect(readFileSync(join(two.dir, f)).equals(readFileSync(join(one.dir, f))), f).toBe(true);
    }
    expect(two.out).toBe(readFileSync(join(one.dir, "results.json"), "utf8"));
    expect(two.err).toContain(`wrote ${join(dir, "results.csv")}`);
  });
});

describe("sdrm3 compare: bad input exits 2 with a clear message", () => {
  const base = ["compare", "--scenarios", "VR_gaming", "--hardware", HARDWARE, "--policies", "fcfs", "--duration", "100ms"];
  const withFlag = (flag: string, value: string) => {
    const args = [...base];
    const i = args.indexOf(flag);
    if (i >= 0) args[i + 1] = value;
    else args.push(flag, value);
    return args;
  };
  const paramPolicy = [...POLICIES.values()].find((f) => f.params.some((p) => Number.isFinite(p.max) || Number.isFinite(p.min)));

  const cases: ReadonlyArray<readonly [string, string[], RegExp]> = [
    ["unknown policy", withFlag("--policies", "fcfs,nope"), /unknown policy 'nope'; valid: .*fcfs/],
    ["unknown scenario", withFlag("--scenarios", "VR_gaming,Nope"), /unknown scenario 'Nope'; valid: /],
    ["unknown hardware", withFlag("--hardware", "Dual_4K/XX"), /Dual_4K\/XX/],
    ["empty --policies", withFlag("--policies", ""), /--policies: empty selection/],
    ["empty --scenarios", withFlag("--scenarios", ","), /--scenarios: empty selection/],
    ["empty --hardware", withFlag("--hardware", " , "), /--hardware: empty selection/],
    ["missing --hardware", base.filter((a, i) => a !== "--hardware" && base[i - 1] !== "--hardware"), /missing --hardware/],
    ["unknown --param name", [...base, "--param", "fcfs.nope=1"], /policy 'fcfs' has no parameter 'nope'/],
    ["non-number --param", [...base, "--param", "fcfs.x=abc"], /--param fcfs\.x: expected a number, got 'abc'/],
    ["malformed --param", [...base, "--param", "alpha=1"], /--param: expected <policy>\.<name>=<number>/],
    ["--param of an unselected policy", [...base, "--param", "xrbench.x=1"], /policy 'xrbench' is not among the compared policies/],
    ["--param of an unknown policy", [...base, "--param", "nope.x=1"], /unknown policy 'nope'/],
    ["--seeds 0", withFlag("--seeds", "0"), /--seeds: a count of 0 seeds in '0'/],
    ["--seeds above 2^32", withFlag("--seeds", "4294967296,1"), /--seeds: '4294967296' is not a seed/],
    ["--seeds count too large", withFlag("--seeds", "10001"), /--seeds: a count of 10001 seeds in '10001'; .* at most 10000 of them/],
    ["--seeds range too large", withFlag("--seeds", "5-10005"), /--seeds: range '5-10005' holds more than 10000 seeds/],
    ["--seeds abc", withFlag("--seeds", "abc"), /--seeds: 'abc' is not a seed in 'abc'; expected a count N/],
    ["--seeds backwards range", withFlag("--seeds", "45-41"), /--seeds: range '45-41' runs backwards/],
    ["--seeds repeated", withFlag("--seeds", "41,41"), /--seeds: seed 41 given twice/],
    ["--seeds empty list item", withFlag("--seeds", "1,,2"), /--seeds: '' is not a seed/],
    ["drop on idle", withFlag("--policies", "sdrm3,idle[drop=1]"), /idle\[drop=1\]: policy 'idle' has no parameter 'drop'/],
    ["drop on shed", withFlag("--policies", "shed[drop=1]"), /shed\[drop=1\]: policy 'shed' has no parameter 'drop'/],
    ["drop on xrbench", withFlag("--policies", "xrbench[drop=1]"), /xrbench\[drop=1\]: policy 'xrbench' has no parameter 'drop'/],
    ["--jobs 0", withFlag("--jobs", "0"), /--jobs: expected a positive integer/],
    ["bad --duration", withFlag("--duration", "10"), /--duration: expected a duration/],
    ["bad --block", withFlag("--block", "0"), /--block: expected a positive integer/],
    ["unbalanced variant", withFlag("--policies", "fcfs[x=1"), /--policies: unbalanced '\['/],
    ["bad variant body", withFlag("--policies", "fcfs[x]"), /expected param=number inside \[\.\.\.\]/],
    ["variant with an unknown param", withFlag("--policies", "fcfs[nope=1]"), /fcfs\[nope=1\]: policy 'fcfs' has no parameter 'nope'/],
  ];
  for (const [name, argv, message] of cases) {
    it(name, async () => {
      const r = await cli(argv);
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/^sdrm3: /);
      expect(r.code).toBe(2);
    });
  }

  it.runIf(paramPolicy !== undefined)("out-of-range --param", async () => {
    const f = paramPolicy!;
    const spec = f.params.find((p) => Number.isFinite(p.max) || Number.isFinite(p.min))!;
    const bad = Number.isFinite(spec.max) ? spec.max + 1 : spec.min - 1;
    const args = withFlag("--policies", f.name);
    const r = await cli([...args, "--param", `${f.name}.${spec.name}=${bad}`]);
    expect(r.err).toMatch(new RegExp(`parameter ${f.name}\\.${spec.name}: expected a number in \\[`));
    expect(r.code).toBe(2);
  });
});

describe("sdrm3 compare: planning", () => {
  it("splits lists, keeping commas inside [...]", () => {
    expect(splitList("a, b[x=1,y=2] ,,c", "--policies")).toEqual(["a", "b[x=1,y=2]", "c"]);
  });

  it("parses variants and names them canonically", () => {
    expect(parsePolicyItem("sdrm3[gamma=1e3; alpha=0]")).toEqual({
      name: "sdrm3",
      variant: [
        ["gamma", 1000],
        ["alpha", 0],
      ],
    });
  });

  it("expands all/paper, de-duplicates, and orders runs scenario, hardware, policy, seed", () => {
    const plan = planCompare({ scenarios: "paper,VR_gaming", hardware: HARDWARE, policies: "fcfs", seeds: "2", duration: "1s" });
    expect(plan.scenarios).toEqual(["VR_gaming", "AR_gaming", "social_interactionA", "outdoor_activity_A", "AR_Assistant"]);
    expect(plan.jobs.map((j) => `${j.scenario}:${j.seed}`).slice(0, 3)).toEqual(["VR_gaming:1", "VR_gaming:2", "AR_gaming:1"]);
    const all = planCompare({ scenarios: "all", hardware: HARDWARE, policies: "all" });
    expect(all.scenarios).toHaveLength(7);
    expect(all.scenarios.some((s) => s.endsWith("p"))).toBe(false);
    // every policy but xrbench; each baseline (a policy other than sdrm3 taking drop) as published, then with drop=1
    expect(all.policies.map((p) => p.label)).toEqual(
      [...POLICIES.values()]
        .filter((f) => f.name !== "xrbench")
        .flatMap((f) => (f.name !== "sdrm3" && f.params.some((p) => p.name === "drop") ? [f.name, `${f.name}[drop=1]`] : [f.name])),
    );
    expect(all.policies.map((p) => p.label)).toContain("herald[drop=1]");
    expect(all.policies.map((p) => p.label)).not.toContain("idle[drop=1]");
    expect(all.durationMs).toBe(10_000);
  });

  it("fair: sdrm3 and every baseline with the shared admission rule", () => {
    const fair = planCompare({ hardware: HARDWARE, policies: "fair" });
    expect(fair.policies.map((p) => p.label)).toEqual([
      "sdrm3",
      ...["fcfs", "rr", "edf", "llf", "sjf", "prema", "planaria", "veltair", "herald"].map((n) => `${n}[drop=1]`),
    ]);
    expect(fair.policies.every((p) => p.params.drop === 1)).toBe(true);
  });

  it("--seeds: a count, a range, a list (of seeds and ranges)", () => {
    expect(parseSeeds("3")).toEqual([1, 2, 3]);
    expect(parseSeeds("41-45")).toEqual([41, 42, 43, 44, 45]);
    expect(parseSeeds("41,43")).toEqual([41, 43]);
    expect(parseSeeds(" 1-2, 7 ")).toEqual([1, 2, 7]);
    // any seed `run --seed` takes, 0 and 2^32 - 1 included, so any run can be put in a compare
    expect(parseSeeds("0-2")).toEqual([0, 1, 2]);
    expect(parseSeeds("4294967295,0")).toEqual([4294967295, 0]);
    expect(parseSeeds("1-10000")).toHaveLength(10_000);
    expect(planCompare({ hardware: HARDWARE, policies: "edf", seeds: "41,43" }).jobs.map((j) => j.seed).slice(0, 2)).toEqual([41, 43]);
  });

  it("quotes CSV fields that hold commas", () => {
    const record = {
      scenario: "s",
      hardware: "h",
      policy: "p[a=1,b=2]",
      seed: 1,
      params: { a: 1, b: 2 },
      durationMs: 1,
      summary: { uxCost: null, deadlineMissRate: 0, energyMJ: 0, energyMJPerS: 0, xrbenchScore: 0, released: 0, onTime: 0, late: 0, dropped: 0, unfinished: 0 },
      decisions: 0,
    } as unknown as RunRecord;
    expect(toCsv([record]).split("\n")[1]).toBe('s,h,"p[a=1,b=2]",1,a=1;b=2,1,,,0,0,0,0,0,0,0,0,0,0');
  });
});

describe("sdrm3 compare: failures inside workers are reported with the run, never hang", () => {
  const job = (index: number): RunJob => ({
    index,
    engine: "actors",
    scenario: "VR_gaming",
    hardware: HARDWARE,
    policy: "fcfs",
    label: "fcfs",
    overrides: {},
    seed: index + 1,
    durationMs: 100,
    blockSize: 1,
  });
  const jobs = [job(0), job(1), job(2)];
  const worker = (body: string) =>
    new URL(`data:text/javascript,${encodeURIComponent(`import { parentPort } from "node:worker_threads";\n${body}`)}`);

  it("a failing run", async () => {
    const url = worker(`parentPort.on("message", (j) => parentPort.postMessage({ index: j.index, ok: false, error: "boom" }));`);
    await expect(runPool(jobs, { workers: 2, workerUrl: url })).rejects.toThrow(/^VR_gaming Dual_4K\/WS_OS fcfs seed \d: boom$/);
  });

  it("a worker that throws", async () => {
    const url = worker(`parentPort.on("message", (j) => { throw new Error("kaput " + j.index); });`);
    await expect(runPool(jobs, { workers: 1, workerUrl: url })).rejects.toThrow(
      `worker crashed during ${describeJob(job(0))}: kaput 0`,
    );
  });

  it("a worker that exits", async () => {
    const url = worker(`parentPort.on("message", () => process.exit(3));`);
    await expect(runPool(jobs, { workers: 1, workerUrl: url })).rejects.toThrow(
      `worker exited with code 3 during ${describeJob(job(0))}`,
    );
  });

  it("the real worker runs jobs and returns records in job order", async () => {
    const records = await runPool(jobs, { workers: 2 });
    expect(records.map((r) => r.seed)).toEqual([1, 2, 3]);
  });
});

describe("compare: the direct engine (default) and the actor system", () => {
  it("writes byte-identical results.csv and results.json to the actor system's", async () => {
    const { mkdtempSync, readFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { main } = await import("./main");
    const dirs = [mkdtempSync(join(tmpdir(), "cmp-actors-")), mkdtempSync(join(tmpdir(), "cmp-direct-"))];
    const args = ["compare", "--scenarios", "VR_gaming,social_dynamic", "--hardware", "Dual_4K/WS_OS", "--policies", "sdrm3,edf,sdrm3[tune=1],sdrm3[supernet=1]", "--seeds", "1", "--duration", "600ms", "--jobs", "1"];
    const io = { out: () => {}, err: () => {} };
    expect(await main([...args, "--engine", "actors", "--out", dirs[0]!], io)).toBe(0);
    expect(await main([...args, "--out", dirs[1]!], io)).toBe(0); // direct is the default
    for (const f of ["results.csv", "results.json"]) {
      expect(readFileSync(join(dirs[1]!, f), "utf8")).toBe(readFileSync(join(dirs[0]!, f), "utf8"));
    }
    const bad = { err: "", out: () => {}, errw: "" };
    expect(await main([...args, "--engine", "warp"], { out: () => {}, err: (t: string) => void (bad.err += t) })).toBe(2);
    expect(bad.err).toContain("--engine: expected actors or direct");
    // 8 runs on the actor system and 8 direct, one at a time: 272 s at load average ~25 on 2 cores
    // (`npx vitest run services/cli/src/compare.test.ts -t "direct engine" --maxWorkers 1`), so 10 min
  }, 600_000);
});
