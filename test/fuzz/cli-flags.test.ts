/**
 * Fuzz: the flags of `run`, `compare`, `list` and `gen`. Each case is a command with a random
 * selection of its flags, each with a valid, edge or wrong value (or a flag of another command, or
 * any text), and must end with exit 0 or exit 2 and one message, never an internal error. Valid
 * durations are short and seed counts small, so that a valid case stays quick.
 */
import fc from "fast-check";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { Tally, expectCleanEnd, params, removeScratch, scratch, sdrm3 } from "./support";

afterAll(removeScratch);

const files = scratch("flags");
const tallies = new Map<string, Tally>();
afterAll(() => {
  for (const [name, t] of tallies) console.info(`[fuzz] ${name}: ${t.total} cases (${t.toString()})`);
});
const tally = (name: string): Tally => {
  const t = tallies.get(name) ?? new Tally();
  tallies.set(name, t);
  return t;
};

const anyText = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("", " ", "-", "--", "=", "a/b", "1e400", "NaN", "-1", "0", "\u0000"));

/** A flag with one of its values; `null` for a switch. */
type Flag = readonly [string, fc.Arbitrary<string> | null];

const values = (...items: string[]): fc.Arbitrary<string> => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...items) }, { weight: 1, arbitrary: anyText });

const out = (ext: string) => fc.nat(3).map((n) => join(files.dir, `out${n}${ext}`));

const SCENARIOS = values("AR_gaming", "VR_gaming", "social_dynamic", "AR_gaming_ramp", "nope", "AR_gaming,VR_gaming");
const HARDWARE = values("Dual_4K/WS_OS", "Single_4K/WS", "Quad_8K/WS_OS_WS_OS", "Dual_4K", "Dual_4K/WS", "Dual_4K/XX_OS", "Nope/WS");
const POLICY = values("xrbench", "sdrm3", "fcfs", "edf", "nope");
const DURATION = values("10ms", "30ms", "0ms", "-5ms", "0.1s", "1e2ms", "abc", "10", "100ms");
const PARAMS = values("alpha=1.5", "drop=0.5", "drop=1", "tune=1", "block=2.5", "gamma=1e400", "x=1", "alpha", "=1", "sdrm3.alpha=2", "beta=-1", "supernet=1");
const SEED = values("1", "0", "-1", "1.5", "abc", "99999999999999999999", "4294967296");

const RUN_FLAGS: ReadonlyArray<Flag> = [
  ["--scenario", SCENARIOS],
  ["--hardware", HARDWARE],
  ["--policy", POLICY],
  ["--duration", DURATION],
  ["--seed", SEED],
  ["--param", PARAMS],
  ["--block", values("1", "8", "0", "100000", "2.5", "x")],
  ["--json", null],
  ["--tune", null],
  ["--supernet", values("on", "off", "maybe")],
  ["--record", out(".jsonl")],
  ["--trace", out(".json")],
  ["--clock", values("virtual", "live", "wall")],
  ["--speed", values("1", "2", "0", "-1", "1001", "x")],
  ["--scenario-file", values("/nonexistent.json", "/tmp", "")],
  ["--costs", values("/nonexistent.csv", "/tmp")],
];

const COMPARE_FLAGS: ReadonlyArray<Flag> = [
  ["--scenarios", values("AR_gaming", "AR_gaming,VR_gaming", "nope", "", ",", "all,nope")],
  ["--hardware", HARDWARE],
  ["--policies", values("sdrm3", "fcfs", "sdrm3[gamma=1000]", "sdrm3[", "sdrm3[x=1]", "nope", "sdrm3,sdrm3")],
  ["--seeds", values("1", "2", "0", "-1", "1.5", "x")],
  ["--duration", DURATION],
  ["--param", PARAMS],
  ["--block", values("1", "4", "0", "x")],
  ["--supernet", values("on", "off", "x")],
  ["--jobs", values("1", "0", "x", "1000")],
  ["--out", fc.constant(join(files.dir, "compare-out"))],
  ["--json", null],
  ["--engine", values("direct", "actors", "x")],
  ["--run-timeout", values("1s", "x")],
  ["--in-flight", values("1", "0", "x")],
];

const GEN_FLAGS: ReadonlyArray<Flag> = [
  ["--models", values("1", "30", "0", "1000", "1001", "x", "2.5")],
  ["--seed", SEED],
  ["--fps", values("15,30", "10-60", "60-10", "0", "1001", "15,,30", "x", "1e3")],
  ["--cascades", values("0", "0.2", "1", "1.5", "-0.1", "x")],
  ["--pool", values("ES_RITNet", "ES_RITNet,GE_FBNet_C", "nope", "", ",")],
  ["--accelerators", values("1", "4", "64", "0", "4097", "x")],
  ["--classes", values("WS_2048pe_bw128", "WS_2048pe_bw128,OS_2048pe_bw128", "XX_1pe_bw1", "")],
  ["--name", values("fz", "a/b", "a.b", "", "x".repeat(70))],
  ["--out", out(".json")],
];

/** argv of one command: its fixed words, then up to `max` of its flags with values, sometimes a stray word. */
const command = (words: fc.Arbitrary<ReadonlyArray<string>>, flags: ReadonlyArray<Flag>, max: number): fc.Arbitrary<string[]> =>
  fc
    .tuple(
      words,
      fc.array(
        fc.nat(Math.max(0, flags.length - 1)).chain((i): fc.Arbitrary<string[]> => {
          const flag = flags[i];
          if (flag === undefined) return fc.constant([]);
          const [name, value] = flag;
          return value === null ? fc.constant([name]) : value.map((v) => [name, v]);
        }),
        { maxLength: max },
      ),
      fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: anyText }),
    )
    .map(([w, fs, stray]): string[] => [...w, ...fs.flat(), ...(stray === null ? [] : [stray])]);

/** A valid start (half the cases) that the random flags then change or add to. */
const withBase = (words: string[], base: string[]): fc.Arbitrary<string[]> => fc.constantFrom(words, [...words, ...base]);

/** run always gets a short duration unless the case sets one (a default of 10 s would be slow). */
const runArgv = command(withBase(["run"], ["--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3"]), RUN_FLAGS, 5).map(
  (argv) => (argv.includes("--duration") ? argv : [...argv, "--duration", "20ms"]),
);
/** compare: a few short runs at most (`--seeds` ≤ 2, one or two hardware). */
const compareArgv = command(
  withBase(["compare"], ["--scenarios", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policies", "sdrm3", "--jobs", "1"]),
  COMPARE_FLAGS,
  4,
).map((argv) => (argv.includes("--duration") ? argv : [...argv, "--duration", "20ms"]));
const listArgv = command(fc.constantFrom(["list", "scenarios"], ["list", "hardware"], ["list", "policies"], ["list", "nope"], ["list"]), [], 0);
const genArgv = command(fc.constantFrom(["gen", "scenario"], ["gen", "hardware"], ["gen", "nope"], ["gen"]), GEN_FLAGS, 6);

describe("fuzz: CLI flags", () => {
  it("run: every flag combination ends with exit 0 or 2", async () => {
    await fc.assert(
      fc.asyncProperty(runArgv, async (argv) => {
        // a live clock really waits: keep it to short runs at normal speed
        if (argv.includes("live") && !argv.some((a) => /^(10|30|0)ms$/.test(a))) return;
        const ran = await sdrm3(argv);
        tally("run flags").add(ran);
        expectCleanEnd(ran);
      }),
      params(60),
    );
  }, 600_000);

  it("compare: every flag combination ends with exit 0 or 2", async () => {
    await fc.assert(
      fc.asyncProperty(compareArgv, async (argv) => {
        const ran = await sdrm3(argv);
        tally("compare flags").add(ran);
        expectCleanEnd(ran);
      }),
      params(8),
    );
  }, 600_000);

  it("list and gen: every flag combination ends with exit 0 or 2", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(listArgv, genArgv), async (argv) => {
        const ran = await sdrm3(argv);
        tally("list/gen flags").add(ran);
        expectCleanEnd(ran);
      }),
      params(60),
    );
  }, 600_000);
});
