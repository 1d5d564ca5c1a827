/**
 * Shared pieces of the property-based fuzz suite (issue 17 item 8): the CLI called in process
 * (`main(argv, io)` with a capturing io), the checks every generated input must pass, a JSON
 * mutator (valid base files damaged in many small ways), and the run counts.
 *
 * Every case must end with exit 0 (valid input) or 2 (invalid input, one message naming the
 * place), never exit 1 or a message holding an internal error (a stack trace, "run failed:
 * TypeError…"). CI runs each property with a fixed seed and a bounded number of cases;
 * `npm run fuzz` runs twenty times as many (SDRM3_FUZZ_SCALE; SDRM3_FUZZ_SEED another seed).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { expect } from "vitest";
import { main } from "../../services/cli/src/main";

/** The seed of every property (fixed, so that CI is reproducible). */
export const FUZZ_SEED = Number(process.env.SDRM3_FUZZ_SEED ?? 17);

/**
 * Cases per property: `ci` in `npm test`; SDRM3_FUZZ_SCALE times as many when set (`npm run fuzz`
 * sets 20).
 */
export const numRuns = (ci: number): number => {
  const scale = Number(process.env.SDRM3_FUZZ_SCALE ?? 1);
  return Math.max(1, Math.round((Number.isFinite(scale) && scale > 0 ? scale : 1) * ci));
};

/** Per-case bound: a case still running after this is a failure (a hang), not a slow machine. */
export const CASE_TIMEOUT_MS = 60_000;

/** fast-check parameters of every property. */
export const params = (ci: number): fc.Parameters<unknown> => ({
  seed: FUZZ_SEED,
  numRuns: numRuns(ci),
  timeout: CASE_TIMEOUT_MS,
  endOnFailure: true,
});

export interface Ran {
  readonly argv: ReadonlyArray<string>;
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `sdrm3 <argv>` in process. */
export const sdrm3 = async (argv: ReadonlyArray<string>): Promise<Ran> => {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { argv, code, out, err };
};

/** Text that only an internal error would print. */
const INTERNAL =
  /run failed|\n\s+at |TypeError|RangeError|ReferenceError|Maximum call stack|Cannot read prop|is not a function|is not iterable|undefined is not|\[object Object\]/;

/** Counts of how cases ended, per property, for the report in docs/reliability.md. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(ran: Ran): void {
    const key = `exit ${ran.code}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  toString(): string {
    return [...this.counts].sort().map(([k, v]) => `${k}: ${v}`).join(", ");
  }
}

/**
 * The contract of every case: exit 0 or 2; on 2 one message on stderr that starts with `sdrm3:`
 * (or commander's `error:`) and, when `places` is given, names one of them; never internal error
 * text.
 */
export const expectCleanEnd = (ran: Ran, places?: ReadonlyArray<string | RegExp>): void => {
  const context = `sdrm3 ${ran.argv.join(" ")}\nstderr: ${ran.err.slice(0, 2000)}`;
  expect([0, 2], context).toContain(ran.code);
  expect(ran.err, context).not.toMatch(INTERNAL);
  if (ran.code === 2) {
    expect(ran.err, context).toMatch(/^(sdrm3: |error: )/);
    if (places !== undefined) {
      const named = places.some((place) => (typeof place === "string" ? ran.err.includes(place) : place.test(ran.err)));
      expect(named, `${context}\nexpected the message to name one of: ${places.join(", ")}`).toBe(true);
    }
  }
};

const scratchDirs: string[] = [];

/** Removes every directory `scratch` made (each test file calls it in afterAll). */
export const removeScratch = (): void => {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
};

/** A fresh temporary directory; files are named by a counter. */
export const scratch = (prefix: string): { readonly dir: string; file(ext: string, text: string): string } => {
  const dir = mkdtempSync(join(tmpdir(), `sdrm3-fuzz-${prefix}-`));
  scratchDirs.push(dir);
  let n = 0;
  return {
    dir,
    file: (ext, text) => {
      const path = join(dir, `case${n++}.${ext}`);
      writeFileSync(path, text);
      return path;
    },
  };
};

// ---- JSON mutation ------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = ReadonlyArray<string | number>;

/** Every path of a JSON value (the root included). */
const pathsOf = (value: Json, at: Path = []): Path[] => {
  const own: Path[] = [at];
  if (Array.isArray(value)) return own.concat(...value.map((item, i) => pathsOf(item, [...at, i])));
  if (value !== null && typeof value === "object") {
    return own.concat(...Object.entries(value).map(([k, v]) => pathsOf(v, [...at, k])));
  }
  return own;
};

const getAt = (value: Json, path: Path): Json | undefined => {
  let current: Json | undefined = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, Json>)[key];
  }
  return current;
};

/** Values that probe the edges of every field: signs, zero, huge, wrong types, names that are not tokens. */
export const edgeValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(0, -1, 1, 0.5, 2.5, 1e9, 1e308, -1e308, 4097, 10_001, "", " x", "a/b", "a.b", "a,b", "a b", "x".repeat(70), null, true, [], {}),
  fc.integer({ min: -5, max: 1_000_000 }),
  fc.double({ noNaN: true }),
  fc.string({ maxLength: 12 }),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

/** Field names: the schema's own, near misses of them, and anything. */
export const keyName = (known: ReadonlyArray<string>): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...known),
    fc.constantFrom("probabilty", "dependencies", "fps_target", "layer", "sub_accelerator", "numPes", "__proto__", "constructor", "toString"),
    fc.string({ maxLength: 10 }),
  );

type Mutation =
  | { readonly kind: "set"; readonly pick: number; readonly value: Json }
  | { readonly kind: "delete"; readonly pick: number }
  | { readonly kind: "add"; readonly pick: number; readonly key: string; readonly value: Json }
  | { readonly kind: "repeat"; readonly pick: number; readonly times: number };

const mutation = (known: ReadonlyArray<string>): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant("set" as const), pick: fc.nat(), value: edgeValue }),
    fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("add" as const), pick: fc.nat(), key: keyName(known), value: edgeValue }),
    fc.record({ kind: fc.constant("repeat" as const), pick: fc.nat(), times: fc.integer({ min: 1, max: 40 }) }),
  );

const apply = (root: Json, m: Mutation): Json => {
  const paths = pathsOf(root);
  const path = paths[m.pick % paths.length]!;
  if (path.length === 0) return m.kind === "set" ? m.value : root;
  const parent = getAt(root, path.slice(0, -1));
  const key = path[path.length - 1]!;
  if (parent === null || typeof parent !== "object" || parent === undefined) return root;
  const container = parent as Record<string | number, Json>;
  switch (m.kind) {
    case "set":
      container[key] = m.value;
      break;
    case "delete":
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete container[key];
      break;
    case "add": {
      const target = container[key];
      if (target !== null && typeof target === "object" && !Array.isArray(target)) target[m.key] = m.value;
      else if (Array.isArray(target)) target.push(m.value);
      break;
    }
    case "repeat": {
      const target = container[key];
      if (Array.isArray(target) && target.length > 0) {
        const first = target[0]!;
        for (let i = 0; i < m.times; i++) target.push(structuredClone(first));
      }
      break;
    }
  }
  return root;
};

/**
 * A JSON file text derived from `base`: 1–4 mutations of the value, then sometimes damage to the
 * text itself (cut short, a character replaced), or a JSON value of any shape.
 */
export const mutatedJson = (base: Json, known: ReadonlyArray<string>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.array(mutation(known), { minLength: 1, maxLength: 4 }).map((ms) => JSON.stringify(ms.reduce(apply, structuredClone(base)))) },
    { weight: 1, arbitrary: fc.constant(JSON.stringify(base)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.array(mutation(known), { maxLength: 2 }), fc.nat(), fc.constantFrom("", "}", "]", ",", '"', "\\", "\u0000", "\n", "{", "[[[["))
        .map(([ms, cut, ch]) => {
          const text = JSON.stringify(ms.reduce(apply, structuredClone(base)), null, 1);
          const at = cut % (text.length + 1);
          return `${text.slice(0, at)}${ch}${text.slice(at + 1)}`;
        }),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom("", "\ufeff{}", "[".repeat(100_000), `{"a":${"[".repeat(70)}`, "null", "{\"name\":") },
  );

/** Known top-level and nested field names of the data formats (for near-miss keys). */
export const KNOWN_FIELDS = [
  "name", "model", "name_in_file", "fps", "target_fps", "dependency", "probability", "probability_effective", "exits", "skips",
  "phases", "from_ms", "to_ms", "scenario", "models", "layers", "K", "C", "Y", "X", "R", "S", "N", "stride", "index",
  "sub_accelerators", "num_pes", "top_noc_bw", "group", "configs", "scenarios",
];
