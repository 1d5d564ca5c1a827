/**
 * The worker side of `sdrm3 compare`: loads the built-in dataset once, then runs the jobs the
 * parent sends (one at a time) and answers each with a plain-JSON record (the `run --json` object
 * plus the policy's resolved parameters) or the error message of the failed run.
 *
 * Started through compare-worker-boot.mjs, which registers tsx first (the sources are TypeScript).
 */
import { parentPort } from "node:worker_threads";
import type { ModelCosts, RunVariant } from "@sdrm3/shared/domain";
import { resolvePolicy } from "@sdrm3/shared/policies";
import { runScenario, simulateDirect, supernetSetting, tuningFor, type RunResult } from "@sdrm3/shared/runtime";
import { type Dataset, findScenario, loadBuiltinDataset, resolveHardware, resolveModelCosts, scenarioVariants } from "@sdrm3/shared/data";
import { runToJson } from "./format";
import { errorMessage } from "@sdrm3/shared/contracts";
import { tuneGcForSimulation } from "./gc-tuning";

/** One run of the comparison, as sent to a worker. */
export interface RunJob {
  /** Position in the comparison's fixed order (scenario, hardware, policy, seed). */
  readonly index: number;
  readonly scenario: string;
  readonly hardware: string;
  /** Catalogue name of the policy. */
  readonly policy: string;
  /** Display name: the policy name, with its variant suffix if any (`sdrm3[gamma=1000]`). */
  readonly label: string;
  /** Parameter overrides (defaults come from the catalogue). */
  readonly overrides: Readonly<Record<string, number>>;
  readonly seed: number;
  readonly durationMs: number;
  readonly blockSize: number;
  /** Dispatch quantum, ms (`--quantum`, `--block auto`); absent: blocks of `blockSize` layers. */
  readonly quantumMs?: number;
  /** `direct`: the kernel on the actors' pure logic; `actors`: the emulated system (same results, about ten times slower). */
  readonly engine: "actors" | "direct";
}

/** One object of results.json: the fields of `sdrm3 run --json`, with `params` after `seed`. */
export type RunRecord = { params: Readonly<Record<string, number>> } & ReturnType<typeof runToJson>;

export type WorkerReply =
  | { readonly index: number; readonly ok: true; readonly record: RunRecord; readonly wallMs: number }
  | { readonly index: number; readonly ok: false; readonly error: string };

export const toRecord = (result: RunResult, label: string, params: Readonly<Record<string, number>>): RunRecord => {
  const { scenario, hardware, seed, policy: _name, params: _params, ...rest } = runToJson(result);
  return { scenario, hardware, policy: label, seed, params: { ...params }, ...rest };
};

/**
 * Runs one job against `ds`; `costsCache` keeps the dense cost tables per scenario × hardware, and
 * `variantsCache` the supernet variants (a job has them when its sdrm3 `supernet` parameter is 1).
 */
export const executeJob = async (
  ds: Dataset,
  job: RunJob,
  costsCache: Map<string, ReadonlyMap<string, ModelCosts>> = new Map(),
  variantsCache: Map<string, ReadonlyMap<string, ReadonlyArray<RunVariant>>> = new Map(),
): Promise<RunRecord> => {
  const scenario = findScenario(ds, job.scenario);
  const hardware = resolveHardware(ds, job.hardware);
  const key = `${job.scenario}\u0000${job.hardware}`;
  let costs = costsCache.get(key);
  if (costs === undefined) {
    costs = resolveModelCosts(ds, scenario, hardware);
    costsCache.set(key, costs);
  }
  const policy = resolvePolicy(job.policy, job.overrides);
  let variants: ReadonlyMap<string, ReadonlyArray<RunVariant>> | undefined;
  if (supernetSetting(job.policy, policy.params, undefined).supernet) {
    variants = variantsCache.get(key);
    if (variants === undefined) {
      variants = scenarioVariants(ds, scenario, hardware, costs);
      variantsCache.set(key, variants);
    }
  }
  const opts = {
    scenario,
    hardware,
    costs,
    policy,
    durationMs: job.durationMs,
    seed: job.seed,
    blockSize: job.blockSize,
    ...(job.quantumMs === undefined ? {} : { quantumMs: job.quantumMs }),
    ...(variants === undefined ? {} : { supernet: true, variants }),
  };
  tuneGcForSimulation(job.durationMs);
  const result = job.engine === "direct" ? simulateDirect(opts, tuningFor(opts)) : await runScenario(opts);
  return toRecord(result, job.label, policy.params);
};

/** The worker loop: answer every job message on the parent port. */
export const serve = (): void => {
  const port = parentPort;
  if (port === null) throw new Error("compare-worker: not running in a worker thread");
  const ds = loadBuiltinDataset();
  const costsCache = new Map<string, ReadonlyMap<string, ModelCosts>>();
  const variantsCache = new Map<string, ReadonlyMap<string, ReadonlyArray<RunVariant>>>();
  // Jobs are queued and run one after another: the parent sends the next job only after a reply.
  let chain: Promise<void> = Promise.resolve();
  port.on("message", (job: RunJob) => {
    chain = chain.then(async () => {
      const started = performance.now();
      let reply: WorkerReply;
      try {
        const record = await executeJob(ds, job, costsCache, variantsCache);
        reply = { index: job.index, ok: true, record, wallMs: performance.now() - started };
      } catch (e) {
        reply = { index: job.index, ok: false, error: errorMessage(e) };
      }
      port.postMessage(reply);
    });
  });
};
