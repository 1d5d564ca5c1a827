/**
 * Distributed sweeps over NATS: `sdrm3 serve worker` (members of a queue group that run sweep
 * jobs) and the client side of `sdrm3 compare --nats <url>`, which sends every run as a request to
 * the group and gathers the records in the comparison's fixed order — the same CSV/JSON as the
 * in-process compare. A run whose worker dies (no reply within `--run-timeout`) or finds no worker
 * is retried, on whichever worker takes it next.
 */
import { hostname } from "node:os";
import { Either, Schema } from "effect";
import { ErrorReply, Sdrm3Error, errorMessage, isRetryable } from "@sdrm3/shared/contracts";
import { loadBuiltinDataset } from "@sdrm3/shared/data";
import { connectNatsBus } from "@sdrm3/shared/nats";
import { BusNoRespondersError, BusTimeoutError, type Bus, decodeReply } from "@sdrm3/shared/runtime";
import { SWEEP_SUBJECT, serveWorker } from "@sdrm3/worker";
import { type RunJob, type RunRecord, executeJob } from "./compare-worker";
import { CliInputError, parseDuration } from "./duration";
import { type NatsConnectionFlags, resolveNatsConnection } from "./nats-flags";

// a record is an object: a reply without one (`{}`, `{ "ok": null }`) is malformed, not a record of undefined
const SweepReply = Schema.Union(Schema.Struct({ ok: Schema.Object }), ErrorReply);

/**
 * A run of a sweep failed on the workers: the worker refused it or its reply was malformed, or it
 * was retried `attempts` times without a reply. Terminal: the sweep stops (exit 1, "run failed").
 */
export class SweepRunError extends Sdrm3Error {
  readonly _tag = "SweepRunError";
  readonly failure = "terminal";
}

/** Why a run is tried again, for the progress line. */
const retryReason = (e: unknown): string =>
  e instanceof BusTimeoutError ? "no reply in time (worker lost?)" : e instanceof BusNoRespondersError ? "no worker listening" : errorMessage(e);

export const describeSweepJob = (job: RunJob): string => `${job.scenario} ${job.hardware} ${job.label} seed ${job.seed}`;

export interface RemoteOptions {
  readonly bus: Bus;
  /** Runs in flight at once (the workers share them through the queue group). */
  readonly inFlight: number;
  readonly runTimeoutMs: number;
  /** Attempts per run before the sweep fails. */
  readonly attempts: number;
  readonly onResult?: (job: RunJob, record: RunRecord, wallMs: number) => void;
  readonly onRetry?: (job: RunJob, attempt: number, reason: string) => void;
}

/** Runs every job on the workers; resolves with the records in job order. */
export const runRemote = async (jobs: ReadonlyArray<RunJob>, opts: RemoteOptions): Promise<RunRecord[]> => {
  const records = new Array<RunRecord | undefined>(jobs.length);
  let next = 0;
  const one = async (job: RunJob) => {
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        const reply = await opts.bus.request(SWEEP_SUBJECT, JSON.stringify(job), { timeoutMs: opts.runTimeoutMs });
        const decoded = decodeReply(SWEEP_SUBJECT, reply, SweepReply);
        if (Either.isLeft(decoded)) throw new SweepRunError(`malformed reply from a worker: ${decoded.left.message}`);
        if ("_tag" in decoded.right) throw new SweepRunError(decoded.right.message);
        const record = decoded.right.ok as RunRecord;
        records[job.index] = record;
        opts.onResult?.(job, record, performance.now() - started);
        return;
      } catch (e) {
        // the error's own classification decides (contracts/errors): only a retryable failure (no
        // reply in time, no worker listening, ...) is tried again; a worker's refusal is final
        if (!isRetryable(e) || attempt >= opts.attempts) {
          const tries = isRetryable(e) ? ` (${attempt} attempts)` : "";
          throw new SweepRunError(`${describeSweepJob(job)}: ${errorMessage(e)}${tries}`, { cause: e });
        }
        opts.onRetry?.(job, attempt, retryReason(e));
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  };
  const lanes = Array.from({ length: Math.min(opts.inFlight, jobs.length) }, async () => {
    while (next < jobs.length) await one(jobs[next++]!);
  });
  await Promise.all(lanes);
  return records as RunRecord[];
};

export interface WorkerFlags extends NatsConnectionFlags {
  nats: string;
  connectTimeout: string;
  name?: string;
}

/** `sdrm3 serve worker`: serve sweep jobs until SIGTERM / Ctrl-C. */
export const executeWorker = async (flags: WorkerFlags, io: { err(t: string): void }): Promise<number> => {
  const host = flags.name ?? `${hostname()}:${process.pid}`;
  const log = (line: string) => io.err(`[worker ${host}] ${line}\n`);
  const bus = await connectNatsBus({
    ...resolveNatsConnection(flags.nats, flags).options,
    name: `sdrm3-worker-${process.pid}`,
    connectTimeoutMs: parseDuration(flags.connectTimeout, "--connect-timeout"),
  });
  const ds = loadBuiltinDataset();
  const costs = new Map();
  const variants = new Map();
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    await serveWorker({ bus, log, signal: stop.signal, run: (job) => executeJob(ds, job as RunJob, costs, variants) });
    return 0;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    await bus.close();
  }
};

export const parseInFlight = (text: string | undefined): number => {
  if (text === undefined) return 4;
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1) throw new CliInputError(`--in-flight: expected a positive integer, got '${text}'`);
  return Number(text);
};
