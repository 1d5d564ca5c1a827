/**
 * One scheduler per run, and one spec per run, in JetStream KV (docs/distributed.md).
 *
 * - **The run lease**: bucket `sdrm3_sched_<run>` (file storage, history 1, bucket-wide TTL, like
 *   the slot leases in leases.ts), key `scheduler`, value {@link LeaseValue}. A scheduler claims it
 *   with `kv.create` before anything else and renews it every TTL/3; a second scheduler on the run
 *   finds the key and is refused at once, by the owner's name. After a crash the key lapses within
 *   one TTL: `--resume` waits that long for it and takes the run over; a plain start does not.
 *   Released (the bucket removed) at the end of the run.
 * - **The run spec**: bucket `sdrm3_run_<run>` (file storage, history 1, no TTL), key `spec`, the
 *   run's log header as JSON: scenario, hardware, policy and parameters, seed, duration, block
 *   size, options and the cost tables. Written by the scheduler once it holds the run lease; read
 *   by the other roles (`serve accelerator|workload|dashboard --run <id>`), whenever they start:
 *   the entry stays until the scheduler removes the bucket at the end of the run.
 *
 * The timers read the monotonic clock: live housekeeping at the edge (DESIGN.md §4, rule 4).
 */
import { StorageType } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { Either, Schema } from "effect";
import { LogHeader } from "../contracts/log";
import { checkToken } from "../contracts/subjects";
import { Sdrm3Error, errorMessage } from "../contracts/errors";
import { DEFAULT_LEASE_TTL_MS, type LeaseValue, isWrongRevision, openExistingKv } from "./leases";

export const runLeaseBucketName = (run: string): string => `sdrm3_sched_${checkToken("run id", run)}`;
export const runSpecBucketName = (run: string): string => `sdrm3_run_${checkToken("run id", run)}`;

const LEASE_KEY = "scheduler";
const SPEC_KEY = "spec";

const isNotFound = (e: unknown): boolean => /not found/i.test(errorMessage(e));
/** Waits `ms`, or less when `signal` aborts. */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

/** Another scheduler holds the run: trying again fails the same way while it lives (exit 1). */
export class RunTakenError extends Sdrm3Error {
  readonly _tag = "RunTakenError";
  readonly failure = "terminal";
}

export interface RunLease {
  readonly run: string;
  readonly ttlMs: number;
  /** Stops renewing, deletes the key at its revision and removes the bucket (end of run). */
  release(): Promise<void>;
}

export interface ClaimRunOptions {
  readonly ttlMs?: number;
  /** `--resume`: wait until a crashed scheduler's lease lapses (at most 2 TTL + 1 s), then take the run over. */
  readonly resume?: boolean;
  readonly log?: (line: string) => void;
}

/** Claims run `run` for this scheduler, or throws {@link RunTakenError} naming the scheduler that holds it. */
export const claimRun = async (nc: NatsConnection, run: string, value: LeaseValue, opts: ClaimRunOptions = {}): Promise<RunLease> => {
  const ttl = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const kv = await new Kvm(nc).create(runLeaseBucketName(run), { ttl, history: 1, storage: StorageType.File });
  const status = await kv.status();
  const ttlMs = status.ttl > 0 ? status.ttl : ttl;
  const holder = async (): Promise<string> => {
    const e = await kv.get(LEASE_KEY).catch(() => null);
    if (e === null || e.operation !== "PUT") return "a scheduler that is just leaving";
    const v = e.json<LeaseValue>();
    return `${v.owner} on ${v.host} (since ${e.created.toISOString()})`;
  };
  const tryCreate = () => kv.create(LEASE_KEY, JSON.stringify(value)).then((rev) => rev, () => undefined);
  let revision = await tryCreate();
  if (revision === undefined && opts.resume !== true) {
    throw new RunTakenError(
      `run ${run} already has a scheduler: ${await holder()}; one scheduler per run. ` +
        `After a crash, \`sdrm3 serve scheduler --run ${run} --resume\` takes the run over once its lease lapses (${ttlMs} ms)`,
    );
  }
  if (revision === undefined) {
    const who = await holder();
    opts.log?.(`run ${run} is held by ${who}: waiting up to ${2 * ttlMs + 1000} ms for its lease to lapse (--resume)`);
    const deadline = performance.now() + 2 * ttlMs + 1000;
    while (revision === undefined && performance.now() < deadline) {
      await sleep(ttlMs / 3);
      revision = await tryCreate();
    }
    if (revision === undefined) {
      throw new RunTakenError(`run ${run} still has a live scheduler: ${await holder()} keeps renewing its lease; --resume takes over only a scheduler that stopped`);
    }
  }
  let rev = revision;
  let lost = false;
  const renew = setInterval(() => {
    kv.update(LEASE_KEY, JSON.stringify(value), rev).then(
      (r) => void (rev = r),
      (e: unknown) => {
        // a wrong revision: someone else took the run (after a stall longer than the TTL); other errors: retried next tick
        if (!lost && isWrongRevision(e)) {
          lost = true;
          opts.log?.(`the lease of run ${run} was taken over by another scheduler (this one stalled longer than ${ttlMs} ms)`);
        }
      },
    );
  }, ttlMs / 3);
  renew.unref?.();
  return {
    run,
    ttlMs,
    release: async () => {
      clearInterval(renew);
      if (lost) return;
      await kv.delete(LEASE_KEY, { previousSeq: rev }).catch(() => undefined);
      await kv.destroy().catch(() => false);
    },
  };
};

/**
 * A spec larger than one NATS message (the header carries the cost tables: 30 models on 64
 * accelerators is several MB, over the server's 1 MB max_payload) is written in parts of at most
 * this many bytes, keys `spec.part.<i>`, before the `spec` key, which then names how many parts
 * make it (and their total length). Readers take `spec` and, if it names parts, join them.
 */
export const SPEC_PART_BYTES = 256 * 1024;

interface SpecParts {
  readonly parts: number;
  readonly bytes: number;
}

const partKey = (i: number) => `${SPEC_KEY}.part.${i}`;

/** Writes the run's spec (its log header) for the other roles: the scheduler, once it holds the run lease. */
export const publishRunSpec = async (nc: NatsConnection, run: string, header: LogHeader): Promise<void> => {
  const kv = await new Kvm(nc).create(runSpecBucketName(run), { history: 1, storage: StorageType.File });
  const bytes = new TextEncoder().encode(JSON.stringify(header));
  if (bytes.length <= SPEC_PART_BYTES) {
    await kv.put(SPEC_KEY, bytes);
    return;
  }
  const parts = Math.ceil(bytes.length / SPEC_PART_BYTES);
  for (let i = 0; i < parts; i++) await kv.put(partKey(i), bytes.subarray(i * SPEC_PART_BYTES, (i + 1) * SPEC_PART_BYTES));
  const index: SpecParts = { parts, bytes: bytes.length };
  await kv.put(SPEC_KEY, JSON.stringify({ specParts: index }));
};

/** Removes the run's spec bucket (end of run). False when it did not exist. */
export const removeRunSpec = async (nc: NatsConnection, run: string): Promise<boolean> => {
  try {
    const kv = await new Kvm(nc).open(runSpecBucketName(run));
    return await kv.destroy();
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
};

/** The run's spec was written but does not decode. */
export class RunSpecError extends Error {
  readonly _tag = "RunSpecError";
  constructor(message: string) {
    super(message);
    this.name = "RunSpecError";
  }
}

/** The run's spec if its scheduler has published it, else undefined (one look). */
export const readRunSpec = async (nc: NatsConnection, run: string): Promise<LogHeader | undefined> => {
  let entry;
  let kv: Awaited<ReturnType<Kvm["open"]>>;
  try {
    kv = await openExistingKv(nc, runSpecBucketName(run));
    entry = await kv.get(SPEC_KEY);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
  if (entry === null || entry.operation !== "PUT") return undefined;
  let json: unknown;
  try {
    json = entry.json();
    const index = (json as { specParts?: SpecParts } | null)?.specParts;
    if (index !== undefined) json = JSON.parse(await readParts(kv, run, index));
  } catch (e) {
    if (e instanceof RunSpecError) throw e;
    throw new RunSpecError(`the spec of run ${run} (KV ${runSpecBucketName(run)}, key ${SPEC_KEY}) is not JSON: ${errorMessage(e)}`);
  }
  const decoded = Schema.decodeUnknownEither(LogHeader, { onExcessProperty: "preserve" })(json);
  if (Either.isLeft(decoded)) throw new RunSpecError(`the spec of run ${run} (KV ${runSpecBucketName(run)}) does not decode: ${decoded.left.message.split("\n")[0]}`);
  return decoded.right;
};

/** The spec's parts, joined; each must be there and the whole must have the length the index says. */
const readParts = async (kv: Awaited<ReturnType<Kvm["open"]>>, run: string, index: SpecParts): Promise<string> => {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < index.parts; i++) {
    const part = await kv.get(partKey(i));
    if (part === null || part.operation !== "PUT") throw new RunSpecError(`the spec of run ${run} (KV ${runSpecBucketName(run)}) lacks its part ${i} of ${index.parts}`);
    chunks.push(part.value);
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  if (bytes.length !== index.bytes) throw new RunSpecError(`the spec of run ${run} (KV ${runSpecBucketName(run)}) has ${bytes.length} bytes in its parts, its index says ${index.bytes}`);
  return new TextDecoder().decode(bytes);
};

/**
 * Waits for the run's spec (a role started before its scheduler), looking every `pollMs`
 * (default 250) until it is there or `signal` aborts (then undefined).
 */
export const awaitRunSpec = async (
  nc: NatsConnection,
  run: string,
  opts: { readonly signal?: AbortSignal; readonly pollMs?: number; readonly onWait?: () => void } = {},
): Promise<LogHeader | undefined> => {
  for (let first = true; opts.signal?.aborted !== true; first = false) {
    const spec = await readRunSpec(nc, run);
    if (spec !== undefined) return spec;
    if (first) opts.onWait?.();
    await sleep(opts.pollMs ?? 250, opts.signal);
  }
  return undefined;
};
