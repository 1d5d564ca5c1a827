/**
 * `sdrm3 compare`: every scenario × hardware × policy × seed, in parallel on worker threads, then
 * tables (per scenario × hardware; UXCost reduction of sdrm3 versus each baseline, with geometric
 * means), and with `--out` results.csv, results.json and charts. See docs/compare.md.
 *
 * Determinism: runs are planned in a fixed order (scenario, hardware, policy, seed, as given) and
 * their results are stored by that position, so the output does not depend on which worker
 * finished first or how many workers there were.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import cliProgress from "cli-progress";
import Table from "cli-table3";
import { POLICIES, PolicyInputError, type PolicyParams, resolvePolicy } from "@sdrm3/shared/policies";
import { type Dataset, findScenario, loadBuiltinDataset, resolveHardware } from "@sdrm3/shared/data";
import { UXCOST_DEFINITION, geomean } from "@sdrm3/shared/domain";
import { connectNatsBus } from "@sdrm3/shared/nats";
import { type ChartCell, writeCharts } from "./charts";
import { parseInFlight, runRemote } from "./sweep";
import type { RunJob, RunRecord, WorkerReply } from "./compare-worker";
import { CliInputError, formatDuration, isSeed, parseDuration, parseRunDuration } from "./duration";
import { blockRuleOptions, parseBlockRule, parseDecimal, parseSupernet } from "./flags";
import { type NatsConnectionFlags, resolveNatsConnection } from "./nats-flags";
import { checkOutputDir } from "./output-paths";
import { errorMessage } from "@sdrm3/shared/contracts";

export interface CompareIo {
  out(text: string): void;
  err(text: string): void;
}

export interface CompareFlags extends NatsConnectionFlags {
  scenarios?: string;
  hardware?: string;
  policies?: string;
  seeds?: string;
  duration?: string;
  param?: string[];
  block?: string;
  quantum?: string;
  /** `--supernet on|off`: sdrm3's `supernet` parameter for every sdrm3 entry (an entry's own [supernet=…] wins). */
  supernet?: string;
  jobs?: string;
  out?: string;
  json?: boolean;
  engine?: string;
  nats?: string;
  runTimeout?: string;
  inFlight?: string;
}

export interface CompareEnv {
  /** stderr is a terminal: draw a progress bar on process.stderr instead of progress lines. */
  readonly tty?: boolean;
  /** The worker entry (tests substitute their own). */
  readonly workerUrl?: URL;
}

/** The five scenarios of the SDRM3 paper's evaluation. */
export const PAPER_SCENARIOS: ReadonlyArray<string> = [
  "VR_gaming",
  "AR_gaming",
  "social_interactionA",
  "outdoor_activity_A",
  "AR_Assistant",
];

/** The XRBench usage scenarios (`--scenarios all`); the probability-sweep ones must be named. */
export const USAGE_SCENARIOS: ReadonlyArray<string> = [
  "AR_Assistant",
  "AR_gaming",
  "VR_gaming",
  "outdoor_activity_A",
  "outdoor_activity_B",
  "social_interactionA",
  "social_interactionB",
];

/** A baseline: a catalogue policy other than sdrm3 that takes the shared admission rule (`drop=0|1`). */
export const isBaseline = (factory: { readonly name: string; readonly params: ReadonlyArray<{ readonly name: string }> }): boolean =>
  factory.name !== REFERENCE_POLICY && factory.params.some((p) => p.name === "drop");

/** The policy every other is compared with in the reduction table, when it is compared. */
export const REFERENCE_POLICY = "sdrm3";

export const DEFAULT_WORKER_URL = new URL("./compare-worker-boot.mjs", import.meta.url);

// ---- planning ---------------------------------------------------------------------------------

export interface PolicyEntry {
  /** Display name: `name` or `name[k=v,…]`. */
  readonly label: string;
  /** Catalogue name. */
  readonly name: string;
  /** Overrides: `--param name.k=v` then the variant's own `[k=v]` (which wins). */
  readonly overrides: Readonly<Record<string, number>>;
  /** Resolved parameters (defaults + overrides). */
  readonly params: PolicyParams;
}

export interface ComparePlan {
  readonly scenarios: ReadonlyArray<string>;
  readonly hardware: ReadonlyArray<string>;
  readonly policies: ReadonlyArray<PolicyEntry>;
  readonly seeds: ReadonlyArray<number>;
  readonly durationMs: number;
  readonly blockSize: number;
  /** Dispatch quantum, ms (`--quantum`, `--block auto`); absent: blocks of `blockSize` layers. */
  readonly quantumMs?: number;
  /** `--supernet` as given (undefined: not given). */
  readonly supernet?: boolean;
  /** In the fixed order scenario, hardware, policy, seed. */
  readonly jobs: ReadonlyArray<RunJob>;
}

/** Splits a comma-separated list; commas inside [...] belong to the item. Empty items are skipped. */
export const splitList = (text: string, flag: string): string[] => {
  const items: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if (depth < 0) throw new CliInputError(`${flag}: unbalanced ']' in '${text}'`);
    if (ch === "," && depth === 0) {
      items.push(current.trim());
      current = "";
    } else {
      current += ch;
    }
  }
  if (depth !== 0) throw new CliInputError(`${flag}: unbalanced '[' in '${text}'`);
  items.push(current.trim());
  return items.filter((item) => item.length > 0);
};

const unique = <A>(items: ReadonlyArray<A>, key: (a: A) => string): A[] => {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
};

const nonEmpty = <A>(items: A[], flag: string, hint: string): A[] => {
  if (items.length === 0) throw new CliInputError(`${flag}: empty selection; ${hint}`);
  return items;
};

export const selectScenarios = (ds: Dataset, text: string): string[] => {
  const names = splitList(text, "--scenarios").flatMap((item) =>
    item === "all" ? [...USAGE_SCENARIOS] : item === "paper" ? [...PAPER_SCENARIOS] : [item],
  );
  for (const name of names) findScenario(ds, name);
  return nonEmpty(unique(names, (n) => n), "--scenarios", "give a comma-separated list of scenarios, 'all' or 'paper' (see `sdrm3 list scenarios`)");
};

export const selectHardware = (ds: Dataset, text: string): string[] => {
  const names = splitList(text, "--hardware");
  for (const name of names) resolveHardware(ds, name);
  return nonEmpty(unique(names, (n) => n), "--hardware", "give a comma-separated list such as Dual_4K/WS_OS (see `sdrm3 list hardware`)");
};

interface PolicyItem {
  readonly name: string;
  /** The variant's own overrides, in the order written. */
  readonly variant: ReadonlyArray<readonly [string, number]>;
}

/** `sdrm3`, `sdrm3[gamma=1000]`, `sdrm3[gamma=1000,alpha=0]` (`;` also separates). */
export const parsePolicyItem = (item: string): PolicyItem => {
  const m = /^([A-Za-z0-9_.-]+)(?:\[(.*)\])?$/s.exec(item);
  if (m === null) {
    throw new CliInputError(`--policies: expected a policy name or name[param=value,…], e.g. sdrm3[gamma=1000], got '${item}'`);
  }
  const variant: Array<readonly [string, number]> = [];
  if (m[2] !== undefined) {
    const parts = m[2].split(/[,;]/).map((p) => p.trim());
    if (parts.every((p) => p.length === 0)) throw new CliInputError(`--policies: '${item}': empty [...]; write name[param=value,…]`);
    for (const part of parts) {
      const kv = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$/.exec(part);
      if (kv === null) throw new CliInputError(`--policies: '${item}': expected param=number inside [...], got '${part}'`);
      if (variant.some(([k]) => k === kv[1])) throw new CliInputError(`--policies: '${item}': parameter '${kv[1]}' given twice`);
      variant.push([kv[1]!, parseDecimal(kv[2]!, `--policies: '${item}': ${kv[1]}`)]);
    }
  }
  return { name: m[1]!, variant };
};

const variantLabel = (item: PolicyItem): string =>
  item.variant.length === 0 ? item.name : `${item.name}[${item.variant.map(([k, v]) => `${k}=${String(v)}`).join(",")}]`;

/** `--param sdrm3.alpha=1.5` (repeatable) → per policy name, its overrides. */
export const parseScopedParams = (items: ReadonlyArray<string>): Map<string, Record<string, number>> => {
  const scoped = new Map<string, Map<string, number>>();
  for (const item of items) {
    const m = /^([A-Za-z0-9_-]+)\.([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(item);
    if (m === null) throw new CliInputError(`--param: expected <policy>.<name>=<number>, e.g. sdrm3.alpha=1.5, got '${item}'`);
    const params = scoped.get(m[1]!) ?? new Map<string, number>();
    if (params.has(m[2]!)) throw new CliInputError(`--param: ${m[1]}.${m[2]} given twice (${m[1]}.${m[2]}=${params.get(m[2]!)} and ${item}); give it once`);
    params.set(m[2]!, parseDecimal(m[3]!, `--param ${m[1]}.${m[2]}`));
    scoped.set(m[1]!, params);
  }
  // records built as data: a name such as `__proto__` is refused by the policy, not lost to the prototype
  return new Map([...scoped].map(([policy, params]) => [policy, Object.fromEntries(params)]));
};

/**
 * `supernet` is sdrm3's supernet switch (0/1, its capabilities name it) that the run setup reads
 * (docs/supernets.md), so `sdrm3,sdrm3[supernet=1]` compares sdrm3 without and with supernets;
 * `--supernet on|off` sets the switch for every entry that has one and does not set it itself.
 */
export const selectPolicies = (
  text: string,
  paramItems: ReadonlyArray<string>,
  catalogue = POLICIES,
  supernet?: boolean,
): PolicyEntry[] => {
  const withDrop = (name: string): PolicyItem => ({ name, variant: [["drop", 1]] });
  const items = splitList(text, "--policies").flatMap((item): PolicyItem[] => {
    // all: every policy as published, each baseline also with the shared admission rule (drop=1)
    if (item === "all") {
      return [...catalogue.values()]
        .filter((f) => !f.capabilities.notInAll)
        .flatMap((f) => (isBaseline(f) ? [{ name: f.name, variant: [] }, withDrop(f.name)] : [{ name: f.name, variant: [] }]));
    }
    // fair: sdrm3 and every baseline under the same admission rule
    if (item === "fair") {
      return [{ name: REFERENCE_POLICY, variant: [] }, ...[...catalogue.values()].filter(isBaseline).map((f) => withDrop(f.name))];
    }
    return [parsePolicyItem(item)];
  });
  for (const item of items) {
    if (!catalogue.has(item.name)) {
      throw new PolicyInputError(`unknown policy '${item.name}'; valid: ${[...catalogue.keys()].join(", ")}`);
    }
  }
  const selected = nonEmpty(
    unique(items, variantLabel),
    "--policies",
    "give a comma-separated list of policies or 'all' (see `sdrm3 list policies`)",
  );
  const scoped = parseScopedParams(paramItems);
  for (const name of scoped.keys()) {
    if (!catalogue.has(name)) throw new PolicyInputError(`--param: unknown policy '${name}'; valid: ${[...catalogue.keys()].join(", ")}`);
    if (!selected.some((item) => item.name === name)) {
      throw new CliInputError(`--param: policy '${name}' is not among the compared policies (${selected.map(variantLabel).join(", ")})`);
    }
  }
  // --supernet sets the supernet switch of every entry whose policy has one (its capabilities)
  const switchOf = (name: string) => catalogue.get(name)!.capabilities.switches.supernet;
  for (const [name, params] of scoped) {
    const param = switchOf(name);
    if (supernet !== undefined && param !== undefined && params[param] !== undefined) {
      throw new CliInputError(`--supernet and --param ${name}.${param}=…: give one of them`);
    }
  }
  return selected.map((item) => {
    const label = variantLabel(item);
    const param = switchOf(item.name);
    const fromFlag = supernet === undefined || param === undefined ? {} : { [param]: supernet ? 1 : 0 };
    const overrides = { ...scoped.get(item.name), ...fromFlag, ...Object.fromEntries(item.variant) };
    try {
      return { label, name: item.name, overrides, params: resolvePolicy(item.name, overrides, catalogue).params };
    } catch (e) {
      if (e instanceof PolicyInputError && label !== item.name) throw new PolicyInputError(`${label}: ${e.message}`);
      throw e;
    }
  });
};

/** Most seeds one compare runs (each is a run per scenario × hardware × policy). */
const SEED_LIMIT = 10_000;
const SEED_FORMS = `a count N (seeds 1..N), a range A-B, or a list A,B,… of seeds and ranges; a seed is an integer in 0..4294967295 as for \`run --seed\`, at most ${SEED_LIMIT} of them`;

/** `--seeds`: `5` (1..5), `41-45`, `41,43` or `1-3,7` (a list of seeds and ranges); any seed `run --seed` takes. Repeated seeds are refused. */
export const parseSeeds = (text: string): number[] => {
  const bad = (why: string) => new CliInputError(`--seeds: ${why} in '${text}'; expected ${SEED_FORMS}`);
  const int = (t: string): number => {
    if (!isSeed(t)) throw bad(`'${t}' is not a seed`);
    return Number(t);
  };
  const trimmed = text.trim();
  if (/^[0-9]+$/.test(trimmed)) {
    const n = int(trimmed);
    if (n < 1 || n > SEED_LIMIT) throw bad(`a count of ${trimmed} seeds`);
    return Array.from({ length: n }, (_, i) => i + 1);
  }
  const seeds: number[] = [];
  const seen = new Set<number>();
  const add = (seed: number) => {
    if (seen.has(seed)) throw bad(`seed ${seed} given twice`);
    if (seeds.length === SEED_LIMIT) throw bad(`more than ${SEED_LIMIT} seeds`);
    seen.add(seed);
    seeds.push(seed);
  };
  for (const raw of trimmed.split(",")) {
    const item = raw.trim();
    const range = /^(\S+?)\s*-\s*(\S+)$/.exec(item);
    if (range === null) {
      add(int(item));
      continue;
    }
    const [from, to] = [int(range[1]!), int(range[2]!)];
    if (to < from) throw bad(`range '${item}' runs backwards`);
    if (to - from >= SEED_LIMIT) throw bad(`range '${item}' holds more than ${SEED_LIMIT} seeds`);
    for (let seed = from; seed <= to; seed++) add(seed);
  }
  return seeds;
};

export const parseJobs = (text: string | undefined): number => {
  if (text === undefined) return availableParallelism();
  if (!/^[1-9][0-9]{0,2}$/.test(text.trim())) throw new CliInputError(`--jobs: expected a positive integer (worker threads), got '${text}'`);
  return Number(text);
};

export const planCompare = (flags: CompareFlags, ds: Dataset = loadBuiltinDataset()): ComparePlan => {
  const scenarios = selectScenarios(ds, flags.scenarios ?? "paper");
  if (flags.hardware === undefined) {
    throw new CliInputError("missing --hardware <list>, e.g. Dual_4K/WS_OS or Dual_4K/WS_OS,Quad_8K/WS_OS_WS_OS; see `sdrm3 list hardware`");
  }
  const hardware = selectHardware(ds, flags.hardware);
  const supernet = parseSupernet(flags.supernet);
  const policies = selectPolicies(flags.policies ?? "all", flags.param ?? [], POLICIES, supernet);
  const seeds = parseSeeds(flags.seeds ?? "1");
  const durationMs = parseRunDuration(flags.duration ?? "10s");
  const rule = blockRuleOptions(parseBlockRule(flags.block, flags.quantum));
  const engine = flags.engine ?? "direct";
  if (engine !== "actors" && engine !== "direct") throw new CliInputError(`--engine: expected actors or direct, got '${engine}'`);
  const jobs: RunJob[] = [];
  for (const scenario of scenarios) {
    for (const hw of hardware) {
      for (const p of policies) {
        for (const seed of seeds) {
          jobs.push({
            index: jobs.length,
            scenario,
            hardware: hw,
            policy: p.name,
            label: p.label,
            overrides: p.overrides,
            seed,
            durationMs,
            ...rule,
            engine,
          });
        }
      }
    }
  }
  return { scenarios, hardware, policies, seeds, durationMs, ...rule, ...(supernet === undefined ? {} : { supernet }), jobs };
};

// ---- the worker pool --------------------------------------------------------------------------

export const describeJob = (job: RunJob): string => `${job.scenario} ${job.hardware} ${job.label} seed ${job.seed}`;

export interface PoolOptions {
  readonly workers: number;
  readonly workerUrl?: URL;
  /** After each finished run, in completion order. */
  readonly onResult?: (job: RunJob, record: RunRecord, wallMs: number) => void;
}

/**
 * Runs `jobs` on up to `workers` worker threads, one job per worker at a time. Resolves with the
 * records in job order. Rejects — after terminating every worker — on the first failed run or
 * worker crash, naming the run.
 */
export const runPool = (jobs: ReadonlyArray<RunJob>, opts: PoolOptions): Promise<RunRecord[]> => {
  const records = new Array<RunRecord | undefined>(jobs.length);
  if (jobs.length === 0) return Promise.resolve([]);
  const url = opts.workerUrl ?? DEFAULT_WORKER_URL;
  return new Promise<RunRecord[]>((resolvePromise, rejectPromise) => {
    const pool: Array<{ worker: Worker; current: RunJob | undefined; retired: boolean }> = [];
    let next = 0;
    let done = 0;
    let settled = false;
    const shutdown = () => {
      for (const slot of pool) {
        slot.retired = true;
        void slot.worker.terminate();
      }
    };
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      shutdown();
      rejectPromise(new Error(message));
    };
    const feed = (slot: (typeof pool)[number]) => {
      const job = jobs[next];
      if (job === undefined) {
        slot.current = undefined;
        slot.retired = true;
        void slot.worker.terminate();
        return;
      }
      next++;
      slot.current = job;
      slot.worker.postMessage(job);
    };
    const count = Math.max(1, Math.min(opts.workers, jobs.length));
    for (let i = 0; i < count; i++) {
      const slot = { worker: new Worker(url), current: undefined as RunJob | undefined, retired: false };
      pool.push(slot);
      const during = () => (slot.current === undefined ? "while starting" : `during ${describeJob(slot.current)}`);
      slot.worker.on("message", (reply: WorkerReply) => {
        if (settled) return;
        const job = jobs[reply.index];
        if (job === undefined || slot.current?.index !== reply.index) {
          fail(`worker sent an unexpected reply (run #${reply.index}) ${during()}`);
          return;
        }
        if (!reply.ok) {
          fail(`${describeJob(job)}: ${reply.error}`);
          return;
        }
        records[reply.index] = reply.record;
        done++;
        try {
          opts.onResult?.(job, reply.record, reply.wallMs);
        } catch (e) {
          fail(errorMessage(e));
          return;
        }
        if (done === jobs.length) {
          settled = true;
          shutdown();
          resolvePromise(records as RunRecord[]);
          return;
        }
        feed(slot);
      });
      slot.worker.on("error", (e) => fail(`worker crashed ${during()}: ${errorMessage(e)}`));
      slot.worker.on("exit", (code) => {
        if (!slot.retired) fail(`worker exited with code ${code} ${during()}`);
      });
      feed(slot);
    }
  });
};

// ---- aggregation ------------------------------------------------------------------------------

const mean = (xs: ReadonlyArray<number>): number => xs.reduce((s, x) => s + x, 0) / xs.length;

export interface CellSummary extends ChartCell {
  readonly xrbenchScore: number;
  readonly seeds: number;
  /** Mean over seeds of the run's accuracy (runs without on-time frames left out; null: none). */
  readonly accuracy: number | null;
}

/** Per scenario × hardware × policy (plan order): UXCost geomean over seeds, the rest means. */
export const summarise = (plan: ComparePlan, records: ReadonlyArray<RunRecord>): CellSummary[] => {
  const cells: CellSummary[] = [];
  const perSeed = plan.seeds.length;
  let i = 0;
  for (const scenario of plan.scenarios) {
    for (const hardware of plan.hardware) {
      for (const p of plan.policies) {
        const runs = records.slice(i, i + perSeed);
        i += perSeed;
        cells.push({
          scenario,
          hardware,
          policy: p.label,
          seeds: runs.length,
          uxCost: geomean(runs.map((r) => r.summary.uxCost)),
          deadlineMissRate: mean(runs.map((r) => r.summary.deadlineMissRate)),
          energyMJPerS: mean(runs.map((r) => r.summary.energyMJPerS)),
          xrbenchScore: mean(runs.map((r) => r.summary.xrbenchScore)),
          accuracy: ((xs) => (xs.length === 0 ? null : mean(xs)))(runs.flatMap((r) => (r.summary.accuracy === null ? [] : [r.summary.accuracy]))),
        });
      }
    }
  }
  return cells;
};

// ---- output -----------------------------------------------------------------------------------

const plainTable = (head: string[]) =>
  new Table({ head, style: { head: [], border: [] }, chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" } });

const fx = (x: number | null, digits: number) => (x === null ? "-" : x.toFixed(digits));
const pct = (x: number | null) => (x === null ? "-" : `${(100 * x).toFixed(1)}%`);
const reduction = (ref: number | null, base: number | null) => (ref === null || base === null ? null : 1 - ref / base);

const seedsLabel = (seeds: ReadonlyArray<number>) => {
  if (seeds.length === 1) return `seed ${seeds[0]}`;
  const contiguous = seeds.every((s, i) => i === 0 || s === seeds[i - 1]! + 1);
  return contiguous ? `seeds ${seeds[0]}..${seeds[seeds.length - 1]}` : `seeds ${seeds.join(",")}`;
};

/** UXCost loss beyond which a cell counts as lost (1%), and XRBench-score loss (1 point). */
export const LOSS_UXCOST = 0.01;
export const LOSS_SCORE = 1;

/**
 * The reduction tables: sdrm3 (or the first policy) against the fair set — every other entry with
 * the shared admission rule (drop=1) — and, separately, against the plain entries (as published,
 * no admission rule). Against the fair set also the XRBench-score difference, the strongest
 * baseline, and every cell where the reference is more than 1% worse in UXCost or more than 1
 * point lower in score.
 */
const formatReductions = (plan: ComparePlan, cellOf: (scenario: string, hardware: string, policy: string) => CellSummary | undefined): string[] => {
  const out: string[] = [];
  const labels = plan.policies.map((p) => p.label);
  const hasReference = labels.includes(REFERENCE_POLICY);
  const ref = hasReference ? REFERENCE_POLICY : labels[0]!;
  const others = plan.policies.filter((p) => p.label !== ref);
  if (others.length === 0) return [`UXCost reduction: only one policy (${ref}); nothing to compare.`];
  if (!hasReference) out.push(`note: ${REFERENCE_POLICY} is not among the policies; reductions are relative to ${ref}, the first policy listed.`);
  const fair = others.filter((p) => p.params.drop === 1).map((p) => p.label);
  const plain = others.filter((p) => p.params.drop !== 1).map((p) => p.label);
  const sets: Array<readonly [string, string[]]> =
    fair.length === 0 || plain.length === 0
      ? [[fair.length === 0 ? "" : " against the fair set (same admission rule, drop=1)", others.map((p) => p.label)]]
      : [
          [" against the fair set (same admission rule, drop=1)", fair],
          [" against the plain policies (no admission rule: as published)", plain],
        ];
  for (const [setName, baselines] of sets) {
    const isFair = baselines.every((b) => fair.includes(b));
    for (const hardware of plan.hardware) {
      const t = plainTable(["scenario", ...baselines.map((b) => `vs ${b}`)]);
      const ratios: Array<Array<number | null>> = baselines.map(() => []);
      for (const scenario of plan.scenarios) {
        const refUx = cellOf(scenario, hardware, ref)!.uxCost;
        t.push([
          scenario,
          ...baselines.map((b, k) => {
            const bUx = cellOf(scenario, hardware, b)!.uxCost;
            ratios[k]!.push(refUx === null || bUx === null ? null : refUx / bUx);
            return pct(reduction(refUx, bUx));
          }),
        ]);
      }
      const geo = ratios.map((rs) => ((g) => (g === null ? null : 1 - g))(geomean(rs)));
      t.push(["geomean", ...geo.map(pct)]);
      out.push(`UXCost reduction of ${ref}${setName} on ${hardware} (1 − UX_${ref} / UX_baseline; UX = geomean over seeds; higher is better)`, t.toString());
      if (!isFair) continue;
      const s = plainTable(["scenario", ...baselines.map((b) => `vs ${b}`)]);
      const diffs: number[][] = baselines.map(() => []);
      for (const scenario of plan.scenarios) {
        const refScore = cellOf(scenario, hardware, ref)!.xrbenchScore;
        s.push([
          scenario,
          ...baselines.map((b, k) => {
            const d = refScore - cellOf(scenario, hardware, b)!.xrbenchScore;
            diffs[k]!.push(d);
            return signed(d);
          }),
        ]);
      }
      s.push(["mean", ...diffs.map((ds) => signed(mean(ds)))]);
      out.push(`XRBench score of ${ref} minus the baseline's${setName} on ${hardware} (points, mean over seeds; higher is better)`, s.toString());
      // the strongest baseline: the smallest geomean UXCost reduction
      let strongest = 0;
      for (let k = 1; k < baselines.length; k++) if ((geo[k] ?? Number.POSITIVE_INFINITY) < (geo[strongest] ?? Number.POSITIVE_INFINITY)) strongest = k;
      out.push(
        `strongest baseline on ${hardware}: ${baselines[strongest]} (geomean UXCost reduction ${pct(geo[strongest] ?? null)}, ` +
          `XRBench score difference ${signed(mean(diffs[strongest]!))} points)`,
      );
    }
    if (!isFair) continue;
    const losses: string[] = [];
    for (const scenario of plan.scenarios) {
      for (const hardware of plan.hardware) {
        const r = cellOf(scenario, hardware, ref)!;
        for (const b of baselines) {
          const c = cellOf(scenario, hardware, b)!;
          if (r.uxCost !== null && c.uxCost !== null && r.uxCost > c.uxCost * (1 + LOSS_UXCOST)) {
            losses.push(`  ${scenario} on ${hardware}: UXCost ${fx(r.uxCost, 3)} vs ${fx(c.uxCost, 3)} for ${b} (${pct(r.uxCost / c.uxCost - 1)} worse)`);
          }
          if (r.xrbenchScore < c.xrbenchScore - LOSS_SCORE) {
            losses.push(`  ${scenario} on ${hardware}: XRBench score ${fx(r.xrbenchScore, 2)} vs ${fx(c.xrbenchScore, 2)} for ${b}`);
          }
        }
      }
    }
    out.push(
      losses.length === 0
        ? `${ref} is within ${100 * LOSS_UXCOST}% in UXCost and ${LOSS_SCORE} point in XRBench score of every baseline${setName} in every cell`
        : `cells where ${ref} is more than ${100 * LOSS_UXCOST}% worse in UXCost or more than ${LOSS_SCORE} point lower in XRBench score than a baseline${setName}:`,
      ...losses,
    );
  }
  return out;
};

const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;

export const formatCompareHuman = (plan: ComparePlan, cells: ReadonlyArray<CellSummary>): string => {
  const out: string[] = [];
  const n = plan.seeds.length;
  out.push(
    `sdrm3 compare  ${plan.jobs.length} runs: ${plan.scenarios.length} scenarios × ${plan.hardware.length} hardware × ` +
      `${plan.policies.length} policies × ${n} seeds (${seedsLabel(plan.seeds)}), duration=${formatDuration(plan.durationMs)}, ${plan.quantumMs === undefined ? `block=${plan.blockSize}` : `quantum=${plan.quantumMs}ms`}` +
      `${plan.supernet === undefined ? "" : `, supernet=${plan.supernet ? "on" : "off"} (sdrm3)`}`,
  );
  const agg = n === 1 ? "" : ` (UXCost: geomean over ${n} seeds; the others: mean)`;
  const accuracyNote = "accuracy: mean relative accuracy of on-time frames (supernet variants; 1 = full models)";
  const cellOf = (scenario: string, hardware: string, policy: string) =>
    cells.find((c) => c.scenario === scenario && c.hardware === hardware && c.policy === policy);
  for (const scenario of plan.scenarios) {
    for (const hardware of plan.hardware) {
      const t = plainTable(["policy", "UXCost", "accuracy", "miss rate", "energy mJ/s", "XRBench score"]);
      for (const p of plan.policies) {
        const c = cellOf(scenario, hardware, p.label)!;
        t.push([p.label, fx(c.uxCost, 3), fx(c.accuracy, 3), pct(c.deadlineMissRate), fx(c.energyMJPerS, 1), fx(c.xrbenchScore, 3)]);
      }
      out.push("", `${scenario} on ${hardware}${agg}`, t.toString());
    }
  }
  out.push("", ...formatReductions(plan, cellOf));
  out.push(accuracyNote);
  out.push(`UXCost definition: ${UXCOST_DEFINITION}`);
  return `${out.join("\n")}\n`;
};

const CSV_COLUMNS = [
  "scenario",
  "hardware",
  "policy",
  "seed",
  "params",
  "durationMs",
  "uxCost",
  "accuracy",
  "deadlineMissRate",
  "energyMJ",
  "energyMJPerS",
  "xrbenchScore",
  "released",
  "onTime",
  "late",
  "dropped",
  "unfinished",
  "decisions",
] as const;

const csvField = (value: string | number | null): string => {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** One row per run; numbers in full precision (String(x)); params as k=v;k=v in catalogue order. */
export const toCsv = (records: ReadonlyArray<RunRecord>): string => {
  const rows = records.map((r) =>
    [
      r.scenario,
      r.hardware,
      r.policy,
      r.seed,
      Object.entries(r.params)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(";"),
      r.durationMs,
      r.summary.uxCost,
      r.summary.accuracy ?? null,
      r.summary.deadlineMissRate,
      r.summary.energyMJ,
      r.summary.energyMJPerS,
      r.summary.xrbenchScore,
      r.summary.released,
      r.summary.onTime,
      r.summary.late,
      r.summary.dropped,
      r.summary.unfinished,
      r.decisions,
    ]
      .map(csvField)
      .join(","),
  );
  return `${[CSV_COLUMNS.join(","), ...rows].join("\n")}\n`;
};

export const toJson = (records: ReadonlyArray<RunRecord>): string => `${JSON.stringify(records, null, 2)}\n`;

// ---- progress ---------------------------------------------------------------------------------

interface Progress {
  tick(job: RunJob, record: RunRecord, wallMs: number): void;
  stop(): void;
}

const makeProgress = (total: number, io: CompareIo, tty: boolean): Progress => {
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: "compare [{bar}] {value}/{total} runs | {percentage}% | ETA {eta_formatted} | {last}",
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { last: "" });
    return {
      tick: (job) => bar.increment(1, { last: describeJob(job) }),
      stop: () => bar.stop(),
    };
  }
  let done = 0;
  return {
    tick: (job, record, wallMs) => {
      done++;
      io.err(`[${done}/${total}] ${describeJob(job)}: UXCost ${fx(record.summary.uxCost, 3)} (${(wallMs / 1000).toFixed(2)} s)\n`);
    },
    stop: () => {},
  };
};

// ---- the command ------------------------------------------------------------------------------

export const executeCompare = async (flags: CompareFlags, io: CompareIo, env: CompareEnv = {}): Promise<number> => {
  const workers = parseJobs(flags.jobs);
  const plan = planCompare(flags);
  const nats = flags.nats === undefined ? undefined : resolveNatsConnection(flags.nats, flags);
  // the NATS fan-out's own flags: refused without --nats (they were ignored), checked before connecting
  for (const [flag, given] of [["--in-flight", flags.inFlight], ["--run-timeout", flags.runTimeout]] as const) {
    if (given !== undefined && nats === undefined) throw new CliInputError(`${flag}: only with --nats (it sets how runs are fanned out to NATS workers)`);
  }
  const inFlight = parseInFlight(flags.inFlight);
  const runTimeoutMs = parseDuration(flags.runTimeout ?? "10m", "--run-timeout");
  if (flags.out !== undefined) checkOutputDir("--out", flags.out);
  const outDir = flags.out === undefined ? undefined : resolve(flags.out);
  if (outDir !== undefined) await mkdir(outDir, { recursive: true });
  const started = performance.now();
  const progress = makeProgress(plan.jobs.length, io, env.tty ?? false);
  let records: RunRecord[];
  try {
    if (nats === undefined) {
      records = await runPool(plan.jobs, {
        workers,
        ...(env.workerUrl === undefined ? {} : { workerUrl: env.workerUrl }),
        onResult: (job, record, wallMs) => progress.tick(job, record, wallMs),
      });
    } else {
      const bus = await connectNatsBus({ ...nats.options, name: "sdrm3-compare" });
      try {
        records = await runRemote(plan.jobs, {
          bus,
          inFlight,
          runTimeoutMs,
          attempts: 5,
          onResult: (job, record, wallMs) => progress.tick(job, record, wallMs),
          onRetry: (job, attempt, reason) => io.err(`retrying ${describeJob(job)} (attempt ${attempt + 1}): ${reason}\n`),
        });
      } finally {
        await bus.close();
      }
    }
  } finally {
    progress.stop();
  }
  const wallS = (performance.now() - started) / 1000;
  const cells = summarise(plan, records);
  const json = toJson(records);
  io.out(flags.json ? json : formatCompareHuman(plan, cells));
  if (outDir !== undefined) {
    const csvPath = join(outDir, "results.csv");
    const jsonPath = join(outDir, "results.json");
    await writeFile(csvPath, toCsv(records));
    await writeFile(jsonPath, json);
    const charts = await writeCharts(outDir, cells, {
      scenarios: plan.scenarios,
      hardware: plan.hardware,
      policies: plan.policies.map((p) => p.label),
      marked: REFERENCE_POLICY,
    });
    const note = `wrote ${[csvPath, jsonPath, ...charts].join(", ")}\n`;
    if (flags.json) io.err(note);
    else io.out(note);
  }
  io.err(
    `compare: ${plan.jobs.length} runs in ${wallS.toFixed(1)} s ${flags.nats === undefined ? `on ${Math.min(workers, plan.jobs.length)} worker thread(s)` : `on the NATS workers at ${nats?.display ?? ""}`}\n`,
  );
  return 0;
};
