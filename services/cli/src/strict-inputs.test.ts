/**
 * Inputs that used to be accepted and silently change the run (issue 17 items 1 and 4) are
 * refused before any work starts: exit 2, nothing on stdout, a message naming the flag, the
 * parameter, its kind and the value. Each case is the command line that used to run.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { sdrm3 } from "./testing";

/** Exit 2, nothing on stdout; the message (stderr). */
const refused = async (...argv: string[]): Promise<string> => {
  const r = await sdrm3(...argv);
  expect(r.code, `exit code of ${argv.join(" ")}: ${r.err}`).toBe(2);
  expect(r.out).toBe("");
  expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  return r.err;
};

const RUN = ["run", "--scenario", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "50ms"];
const COMPARE = ["compare", "--scenarios", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--duration", "50ms", "--jobs", "1"];

describe("parameters are typed (17.1)", () => {
  it("an on/off parameter takes only 0 or 1: drop=0.5 (ran as drop=0) is refused naming policy, parameter, kind and value", async () => {
    expect(await refused(...RUN, "--param", "drop=0.5")).toBe("sdrm3: parameter sdrm3.drop: expected a switch, 0 (off) or 1 (on), got 0.5\n");
    for (const name of ["guard", "tune", "tuneBlock", "supernet"]) {
      expect(await refused(...RUN, "--param", `${name}=2`)).toContain(`parameter sdrm3.${name}: expected a switch, 0 (off) or 1 (on), got 2`);
    }
  });

  it("an integer parameter refuses fractions: block=2.5 (ran as 3, printed 2.5), veltair maxBlock=1.5, cascade=0.5", async () => {
    expect(await refused(...RUN, "--param", "block=2.5")).toBe("sdrm3: parameter sdrm3.block: expected an integer in [0, 512], got 2.5\n");
    expect(await refused(...RUN.slice(0, -4), "--policy", "veltair", "--param", "maxBlock=1.5")).toContain("parameter veltair.maxBlock: expected an integer in [1, 512], got 1.5");
    expect(await refused(...RUN, "--param", "cascade=0.5")).toContain("parameter sdrm3.cascade: expected an integer in [0, 2], got 0.5");
  });

  it("a number parameter keeps taking fractions in its range", async () => {
    const r = await sdrm3(...RUN, "--param", "alpha=1.5", "--param", "ustar=0.25", "--json");
    expect([r.code, r.err]).toEqual([0, ""]);
    expect(JSON.parse(r.out).params).toMatchObject({ alpha: 1.5, ustar: 0.25 });
  });

  it("compare: a name[k=v] entry and a --param of the wrong kind are refused the same way, naming the entry", async () => {
    expect(await refused(...COMPARE, "--policies", "sdrm3[drop=0.5]")).toBe(
      "sdrm3: sdrm3[drop=0.5]: parameter sdrm3.drop: expected a switch, 0 (off) or 1 (on), got 0.5\n",
    );
    expect(await refused(...COMPARE, "--policies", "sdrm3", "--param", "sdrm3.block=2.5")).toBe(
      "sdrm3: parameter sdrm3.block: expected an integer in [0, 512], got 2.5\n",
    );
  });

  it("a flag and a parameter that say opposite things are refused: --tune --param tune=0 (ran tuned)", async () => {
    expect(await refused(...RUN, "--tune", "--param", "tune=0")).toBe("sdrm3: tune on contradicts the sdrm3 parameter tune=0; give one of them\n");
    // the supernet clash, refused before, is the same rule
    expect(await refused(...RUN, "--supernet", "off", "--param", "supernet=1")).toBe(
      "sdrm3: supernet off contradicts the sdrm3 parameter supernet=1; give one of them\n",
    );
  });

  it("--tune on a policy without a tune switch names the policies that have one", async () => {
    expect(await refused(...RUN.slice(0, -4), "--policy", "fcfs", "--tune")).toBe("sdrm3: --tune: the fcfs policy does not tune itself; policies that do: sdrm3\n");
  });

  it("one parameter given twice is refused (the last one won), in run and compare", async () => {
    expect(await refused(...RUN, "--param", "alpha=1", "--param", "alpha=2")).toBe("sdrm3: --param: alpha given twice (alpha=1 and alpha=2); give it once\n");
    expect(await refused(...COMPARE, "--policies", "sdrm3", "--param", "sdrm3.alpha=1", "--param", "sdrm3.alpha=2")).toBe(
      "sdrm3: --param: sdrm3.alpha given twice (sdrm3.alpha=1 and sdrm3.alpha=2); give it once\n",
    );
  });

  it("a parameter named __proto__ is refused like any unknown name (it was dropped silently: the run went on with the defaults), in run, replay and compare", async () => {
    expect(await refused(...RUN, "--param", "__proto__=1")).toMatch(/^sdrm3: policy 'sdrm3' has no parameter '__proto__'; valid: alpha, /);
    expect(await refused(...COMPARE, "--policies", "edf", "--param", "edf.__proto__=1")).toBe("sdrm3: policy 'edf' has no parameter '__proto__'; valid: drop\n");
  });

  it("a parameter value is a decimal number in run as in compare: 0x10 (ran as 16), 0b1, 0o7 are refused", async () => {
    for (const value of ["0x10", "0b1", "0o7"]) {
      expect(await refused(...RUN, "--param", `alpha=${value}`)).toBe(`sdrm3: --param: expected name=number, e.g. alpha=1.5, got 'alpha=${value}'\n`);
    }
    expect(await refused(...COMPARE, "--policies", "sdrm3", "--param", "sdrm3.alpha=0x10")).toBe("sdrm3: --param sdrm3.alpha: expected a number, got '0x10'\n");
  });

  it("tune's value lists: an empty entry (--alpha , ran alpha=0 twice), 0x1 and a value given twice are refused; --top 0x10 (ran as 16)", async () => {
    const tune = ["tune", "--grid", "--scenario", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--duration", "50ms", "--beta", "1", "--gamma", "1"];
    for (const list of [",", "", "1,,2", "0x1"]) {
      expect(await refused(...tune, "--alpha", list)).toBe(`sdrm3: --alpha: expected a comma-separated list of non-negative numbers, got '${list}'\n`);
    }
    expect(await refused(...tune, "--alpha", "1,0.5,1")).toBe("sdrm3: --alpha: 1 given twice in '1,0.5,1'; give each value once\n");
    for (const top of ["0x10", "1e3", "0", "1.5"]) expect(await refused(...tune, "--top", top)).toBe(`sdrm3: --top: expected a positive integer, got '${top}'\n`);
  });

  it("--block 100000 names the real limit, 512 (the parser allowed 9999, the block parameters 512)", async () => {
    expect(await refused(...RUN, "--block", "100000")).toBe("sdrm3: --block: expected a positive integer of at most 512 (layers per block), got '100000'\n");
    expect(await refused(...RUN, "--block", "513")).toContain("at most 512");
    const log = join(mkdtempSync(join(tmpdir(), "sdrm3-block-")), "b.jsonl");
    const r = await sdrm3(...RUN, "--block", "512", "--record", log);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(log, "utf8").split("\n")[0]!).blockSize).toBe(512);
  });
});

describe("a flag given twice is refused, naming the flag (17.1)", () => {
  it.each([
    ["run --seed 1 --seed 2", [...RUN, "--seed", "1", "--seed", "2"], "--seed <n>"],
    ["run --scenario a --scenario b", [...RUN, "--scenario", "VR_gaming"], "--scenario <name>"],
    ["run --json --json", [...RUN, "--json", "--json"], "--json"],
    ["compare --seeds 1 --seeds 2", [...COMPARE, "--seeds", "1", "--seeds", "2"], "--seeds <seeds>"],
    ["timeline --to 1ms --to 2ms", ["timeline", "t.json", "--out", "t.png", "--to", "1ms", "--to", "2ms"], "--to <t>"],
  ])("%s", async (_, argv, flag) => {
    const r = await sdrm3(...argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toContain(`error: option '${flag}' given more than once; give it once`);
  });

  it("repeatable flags stay repeatable: --param twice (two parameters), --scenario-file twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sdrm3-repeat-"));
    const scenario = (name: string) => JSON.stringify({ name, models: [{ name: "ES_RITNet", model: "ES_RITNet", fps: 30 }] });
    writeFileSync(join(dir, "a.json"), scenario("S_a"));
    writeFileSync(join(dir, "b.json"), scenario("S_b"));
    const r = await sdrm3(
      "run", "--scenario", "S_b", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "50ms", "--json",
      "--param", "alpha=2", "--param", "beta=3", "--scenario-file", join(dir, "a.json"), "--scenario-file", join(dir, "b.json"),
    );
    expect([r.code, r.err]).toEqual([0, ""]);
    expect(JSON.parse(r.out).params).toMatchObject({ alpha: 2, beta: 3 });
  });
});

describe("output paths never collide (17.4)", () => {
  const dir = mkdtempSync(join(tmpdir(), "sdrm3-outputs-"));

  it("run --record X --trace X (both reported success, left a corrupt file) is refused naming both flags; nothing is written", async () => {
    const x = join(dir, "same.jsonl");
    expect(await refused(...RUN, "--record", x, "--trace", x)).toBe(`sdrm3: --record and --trace both write '${x}': give each its own file\n`);
    expect(existsSync(x)).toBe(false);
  });

  it("paths are compared normalised: ./X and X, a/../X", async () => {
    const rel = relative(process.cwd(), join(dir, "n.jsonl"));
    expect(await refused(...RUN, "--record", rel, "--trace", `./${rel}`)).toContain("--record and --trace both write");
    expect(await refused(...RUN, "--record", join(dir, "n.jsonl"), "--trace", join(dir, "sub", "..", "n.jsonl"))).toContain("--record and --trace both write");
  });

  it("run --record over one of its input files is refused, naming the input's flag", async () => {
    const file = join(dir, "scenario.json");
    const text = JSON.stringify({ name: "S_in", models: [{ name: "ES_RITNet", model: "ES_RITNet", fps: 30 }] });
    writeFileSync(file, text);
    expect(await refused(...RUN.slice(0, 2), "S_in", "--hardware", "Dual_4K/WS_OS", "--scenario-file", file, "--record", file)).toBe(
      `sdrm3: --record '${file}' is the file --scenario-file reads: write to another file\n`,
    );
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("timeline --out equal to its input (overwrote it) is refused; an unknown image extension is refused listing the valid ones", async () => {
    const trace = join(dir, "t.json");
    const text = JSON.stringify({ traceEvents: [] });
    writeFileSync(trace, text);
    expect(await refused("timeline", trace, "--out", trace)).toBe("sdrm3: --out: '" + trace + "' has the extension '.json'; valid: .png, .svg\n");
    const png = join(dir, "t.png");
    writeFileSync(png, text);
    expect(await refused("timeline", png, "--out", `${dir}/./t.png`)).toBe(`sdrm3: --out '${dir}/./t.png' is the file the trace argument reads: write to another file\n`);
    expect(readFileSync(png, "utf8")).toBe(text);
    expect(await refused("timeline", trace, "--out", join(dir, "t.gif"))).toBe(`sdrm3: --out: '${join(dir, "t.gif")}' has the extension '.gif'; valid: .png, .svg\n`);
    expect(existsSync(join(dir, "t.gif"))).toBe(false);
  });

  it("trace --out equal to the log it reads is refused", async () => {
    const log = join(dir, "run.jsonl");
    expect((await sdrm3(...RUN, "--record", log)).code).toBe(0);
    const before = readFileSync(log, "utf8");
    expect(await refused("trace", log, "--out", log)).toBe(`sdrm3: --out '${log}' is the file the log argument reads: write to another file\n`);
    expect(readFileSync(log, "utf8")).toBe(before);
  });
});

describe("an output that cannot be written is refused before any work, naming its flag (was exit 1 and the bare system error)", () => {
  const dir = mkdtempSync(join(tmpdir(), "sdrm3-unwritable-"));
  const file = join(dir, "a-file");
  writeFileSync(file, "x");

  it("run: --record on a directory, in a missing directory, under a file, or empty; another output is left as it was (it was truncated)", async () => {
    const kept = join(dir, "kept.jsonl");
    writeFileSync(kept, "kept\n");
    expect(await refused(...RUN, "--record", kept, "--trace", dir)).toBe(`sdrm3: --trace '${dir}' is a directory: give a file\n`);
    expect(readFileSync(kept, "utf8")).toBe("kept\n");
    expect(await refused(...RUN, "--record", join(dir, "missing", "r.jsonl"))).toBe(`sdrm3: --record '${join(dir, "missing", "r.jsonl")}': the directory '${join(dir, "missing")}' does not exist\n`);
    expect(await refused(...RUN, "--trace", join(file, "t.json"))).toBe(`sdrm3: --trace '${join(file, "t.json")}': '${file}' is not a directory\n`);
    expect(await refused(...RUN, "--record", `${dir}/sub/`)).toBe(`sdrm3: --record '${dir}/sub/' is a directory: give a file\n`);
    expect(await refused(...RUN, "--record", "")).toBe("sdrm3: --record: expected a file path, got ''\n");
  });

  it("trace and timeline --out; compare and tune --out (a directory: an existing file is not one)", async () => {
    const log = join(dir, "run.jsonl");
    expect((await sdrm3(...RUN, "--record", log)).code).toBe(0);
    expect(await refused("trace", log, "--out", dir)).toBe(`sdrm3: --out '${dir}' is a directory: give a file\n`);
    expect(await refused("timeline", log, "--out", join(file, "t.png"))).toBe(`sdrm3: --out '${join(file, "t.png")}': '${file}' is not a directory\n`);
    expect(await refused(...COMPARE, "--policies", "edf", "--out", file)).toBe(`sdrm3: --out '${file}' is not a directory\n`);
    expect(await refused(...COMPARE, "--policies", "edf", "--out", join(file, "x", "y"))).toBe(`sdrm3: --out '${join(file, "x", "y")}': '${file}' is not a directory\n`);
    const tune = ["tune", "--trajectory", "--scenario", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", "--duration", "50ms"];
    expect(await refused(...tune, "--out", file)).toBe(`sdrm3: --out '${file}' is not a directory\n`);
  });

  it("an output on the kernel's own file systems is refused (compare --out /proc/x hung in a recursive mkdir)", async () => {
    expect(await refused(...COMPARE, "--policies", "edf", "--out", "/proc/sdrm3-out")).toBe("sdrm3: --out '/proc/sdrm3-out': '/proc' is on the kernel's proc file system, where a command's output cannot go\n");
    // an existing directory there too (the check applied only to one compare would create)
    expect(await refused(...COMPARE, "--policies", "edf", "--out", "/proc")).toBe("sdrm3: --out '/proc': '/proc' is on the kernel's proc file system, where a command's output cannot go\n");
    expect(await refused(...RUN, "--record", "/sys/sdrm3.jsonl")).toBe("sdrm3: --record '/sys/sdrm3.jsonl': '/sys' is on the kernel's sysfs file system, where a command's output cannot go\n");
  });

  it("serve scheduler --events and serve recorder --out are checked before connecting (nothing listens on port 1: exit 1 if it tried)", async () => {
    const nats = ["--nats", "nats://127.0.0.1:1", "--run", "r1"];
    expect(await refused("serve", "scheduler", "--scenario", "AR_Assistant", "--hardware", "Dual_4K/WS_OS", ...nats, "--events", dir)).toBe(`sdrm3: --events '${dir}' is a directory: give a file\n`);
    expect(await refused("serve", "recorder", ...nats, "--out", join(file, "log.jsonl"))).toBe(`sdrm3: --out '${join(file, "log.jsonl")}': '${file}' is not a directory\n`);
  });
});

describe("an input that is a device or a named pipe is refused, not read for ever (it hung)", () => {
  it.skipIf(process.platform === "win32")("run --scenario-file <a pipe with no writer>; timeline /dev/zero", async () => {
    const fifo = join(mkdtempSync(join(tmpdir(), "sdrm3-fifo-")), "pipe");
    execFileSync("mkfifo", [fifo]);
    expect(await refused(...RUN, "--scenario-file", fifo)).toBe(`sdrm3: ${fifo}: expected a readable file, got not a regular file\n`);
    expect(await refused("timeline", "/dev/zero", "--out", join(tmpdir(), "never.png"))).toBe("sdrm3: /dev/zero: not a readable trace-event JSON file (not a regular file)\n");
  });
});
