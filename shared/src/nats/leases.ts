/**
 * Slot ownership with JetStream KV leases (STACK.md §2.6, docs/distributed.md).
 *
 * One KV bucket per run, `sdrm3_leases_<run>` (file storage, so leases outlive a nats-server
 * restart — a memory bucket would vanish with the server and leave every slot ownerless; history 1, bucket-wide TTL: server
 * 2.9 has no per-key TTL), created by whichever process needs it first. Key = slot id (an
 * accelerator id of the run's hardware), value = {@link LeaseValue}.
 *
 * - `claimSlot` uses `kv.create`: it succeeds only when the key is absent, deleted or expired, so a
 *   slot has at most one owner.
 * - The owner renews with `kv.update(key, value, revision)` well within the TTL (every TTL/3). A
 *   renewal refused for a wrong revision means someone else owns the slot now: the lease is lost.
 * - An owner that cannot renew (stalled, partitioned, killed) loses the key to the server's TTL;
 *   a spare then claims it.
 * - Fencing by local validity: an owner treats its lease as valid only until (time the last
 *   successful write was *sent*) + TTL − margin. The server expires the key TTL after it *stored*
 *   that write, which is later, so two processes never both consider themselves valid owners.
 * - Fencing by revision: the owner knows the revision of its last successful write. A write to its
 *   key by another owner (seen by the watch) loses the lease at once; `HeldSlot.verify()` re-reads
 *   the key and loses the lease unless it is still at that revision (a service calls it before
 *   serving again after a pause); a lease that lapsed locally is confirmed with one more renewal at
 *   the old revision, which the server refuses (wrong revision) once another owner wrote the key.
 *
 * `holdSlots` runs all of that for one process: it claims up to `want` slots among `candidates`
 * (in order), renews them on a heartbeat timer, reports losses, and, while it holds fewer than it
 * wants, waits as a hot spare: it watches the bucket (`kv.watch`, which sees clean releases at
 * once) and polls every heartbeat (on 2.9 an expiry produces no watch event).
 *
 * The timers here read the wall clock: this is live housekeeping at the edge, outside the
 * deterministic kernel (DESIGN.md §4, rule 4).
 */

import { JetStreamApiCodes, JetStreamApiError, StorageType } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { Subjects, checkToken } from "../contracts/subjects";
import { Sdrm3Error, errorMessage } from "../contracts/errors";

/** Default bucket TTL: a dead owner's slot is free again after at most this long. */
export const DEFAULT_LEASE_TTL_MS = 3_000;

/** What a lease key holds. */
export interface LeaseValue {
  /** The owning process (its `--name`, default host:pid). */
  readonly owner: string;
  /** Machine name of the owner. (When it was claimed is the KV entry's own timestamp.) */
  readonly host: string;
}

/** A lease as last written by its owner. */
export interface Lease {
  readonly slot: string;
  readonly revision: number;
  readonly value: LeaseValue;
}

export interface LeaseBucket {
  readonly run: string;
  /** KV bucket name, `sdrm3_leases_<run>`. */
  readonly name: string;
  /** The bucket's effective TTL (an existing bucket keeps the TTL it was created with). */
  readonly ttlMs: number;
  readonly kv: KV;
}

/** The lease was taken over: a renewal or release found another revision than ours. */
export class LeaseLostError extends Sdrm3Error {
  readonly _tag = "LeaseLostError";
  readonly failure = "terminal";
  constructor(
    readonly slot: string,
    readonly reason: string,
  ) {
    super(`lease of slot ${slot} lost: ${reason}`);
  }
}

export const leaseBucketName = (run: string): string => Subjects.leaseBucket(run);

/** A KV write refused because the key has another revision than the one given. */
export const isWrongRevision = (e: unknown): boolean =>
  e instanceof JetStreamApiError &&
  (e.code === JetStreamApiCodes.StreamWrongLastSequence || e.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

const isStreamNotFound = (e: unknown): boolean =>
  e instanceof Error && (/stream not found/i.test(e.message) || (e instanceof JetStreamApiError && e.code === 10059));


/**
 * Opens an existing KV bucket for reading (throws "stream not found" when it does not exist) with
 * **direct gets**. `Kvm.open` alone reads through the JetStream API's message get, and nats-server
 * 2.9.10 dereferences nil in that handler (`jsMsgGetRequest`) when the stream is being deleted at
 * the same moment — the server panics and every client of it fails (seen in the fault tests, where a
 * run's buckets are removed while other processes still read them). A direct get is answered by the
 * stream itself; buckets made by `Kvm.create` on 2.9+ allow it (and use it).
 */
export const openExistingKv = async (nc: NatsConnection, name: string): Promise<KV> => {
  const kv = await new Kvm(nc).open(name, { allow_direct: true });
  await kv.status(); // open() alone does not say whether the bucket exists
  return kv;
};

/** Opens the run's lease bucket, creating it (file storage, history 1, `ttlMs`) if missing. */
export const openLeaseBucket = async (
  nc: NatsConnection,
  run: string,
  opts: { readonly ttlMs?: number } = {},
): Promise<LeaseBucket> => {
  const name = leaseBucketName(run);
  const ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  if (!(ttlMs >= 100)) throw new Error(`lease TTL must be at least 100 ms, got ${ttlMs}`);
  const kv = await new Kvm(nc).create(name, { ttl: ttlMs, history: 1, storage: StorageType.File });
  const status = await kv.status();
  return { run, name, ttlMs: status.ttl > 0 ? status.ttl : ttlMs, kv };
};

/**
 * The slots among `slots` whose lease is held (the key's last write is not a delete). Empty when the
 * bucket does not exist. Plain gets of known keys: no consumer is made (listing the bucket's keys
 * makes one, and under load its creation timed out).
 */
export const heldSlots = async (nc: NatsConnection, run: string, slots: ReadonlyArray<string>): Promise<ReadonlyArray<string>> => {
  try {
    const name = leaseBucketName(run);
    const bucket: LeaseBucket = { run, name, ttlMs: DEFAULT_LEASE_TTL_MS, kv: await openExistingKv(nc, name) };
    const held: string[] = [];
    for (const slot of slots) if ((await readLease(bucket, checkToken("slot id", slot))) !== undefined) held.push(slot);
    return held;
  } catch (e) {
    if (isStreamNotFound(e)) return [];
    throw e;
  }
};

/**
 * Waits until none of `slots` holds a lease (every holder released its slots at the run's end), at
 * most `timeoutMs`; the slots still held at the end (a killed holder's, left to expire). The
 * scheduler calls it before {@link removeLeaseBucket}: a holder still reading its lease while the
 * bucket is deleted can crash nats-server 2.9 (a nil dereference in its message-get handler, seen
 * in the fault tests), so the bucket goes only once the holders are done with it or cannot be
 * waited for.
 */
export const awaitLeasesReleased = async (
  nc: NatsConnection,
  run: string,
  slots: ReadonlyArray<string>,
  { timeoutMs = 1_500, pollMs = 50 }: { readonly timeoutMs?: number; readonly pollMs?: number } = {},
): Promise<ReadonlyArray<string>> => {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const held = await heldSlots(nc, run, slots);
    if (held.length === 0 || performance.now() >= deadline) return held;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
};

/** Deletes the run's lease bucket (end of run). False when it did not exist. */
export const removeLeaseBucket = async (nc: NatsConnection, run: string): Promise<boolean> => {
  try {
    const kv = await new Kvm(nc).open(leaseBucketName(run));
    return await kv.destroy();
  } catch (e) {
    if (isStreamNotFound(e)) return false;
    throw e;
  }
};

/** Claims `slot` (`kv.create`). `undefined` when another process owns it. */
export const claimSlot = async (bucket: LeaseBucket, slot: string, value: LeaseValue): Promise<Lease | undefined> => {
  try {
    const revision = await bucket.kv.create(checkToken("slot id", slot), JSON.stringify(value));
    return { slot, revision, value };
  } catch (e) {
    if (isWrongRevision(e)) return undefined;
    throw e;
  }
};

/** Renews a lease (`kv.update` at its revision). Throws {@link LeaseLostError} when it was taken over. */
export const renewLease = async (bucket: LeaseBucket, lease: Lease): Promise<Lease> => {
  try {
    const revision = await bucket.kv.update(lease.slot, JSON.stringify(lease.value), lease.revision);
    return { ...lease, revision };
  } catch (e) {
    if (isWrongRevision(e)) throw new LeaseLostError(lease.slot, "its key has another revision (taken over)");
    throw e;
  }
};

/** Releases a lease (delete at its revision, so another owner's lease is never deleted). False if it was not ours any more. */
export const releaseLease = async (bucket: LeaseBucket, lease: Lease): Promise<boolean> => {
  try {
    await bucket.kv.delete(lease.slot, { previousSeq: lease.revision });
    return true;
  } catch (e) {
    if (isWrongRevision(e)) return false;
    throw e;
  }
};

/** Current owner of a slot, if any. */
export const readLease = async (bucket: LeaseBucket, slot: string): Promise<Lease | undefined> => {
  const e = await bucket.kv.get(slot);
  if (e === null || e.operation !== "PUT") return undefined;
  return { slot, revision: e.revision, value: e.json<LeaseValue>() };
};

/** One slot held by {@link holdSlots}. */
export interface HeldSlot {
  readonly slot: string;
  /** The lease as last written (revision changes with every renewal). */
  readonly lease: Lease;
  /** True while the lease is certainly ours (local validity, see the module comment). Cheap: call it per message. */
  isValid(): boolean;
  /**
   * Re-reads the key (after any renewal in flight) and compares its revision with the one this
   * process last wrote. True when the key is still ours at that revision and the lease is locally
   * valid. A key at another revision or gone loses the lease (`onLost`). False without losing it when
   * the key could not be read (e.g. the server is unreachable): ask again later.
   */
  verify(): Promise<boolean>;
}

export interface HoldSlotsOptions {
  readonly bucket: LeaseBucket;
  /** Slots this process may take, in order of preference. */
  readonly candidates: ReadonlyArray<string>;
  /** How many of them to hold at once. */
  readonly want: number;
  readonly owner: LeaseValue;
  /** A slot was claimed: start hosting it. */
  onAcquired(held: HeldSlot): void;
  /** A held slot was lost (taken over, or not renewed in time): stop hosting it now. */
  onLost(slot: string, reason: string): void;
  /** The process holds fewer slots than it wants and none is free: it waits as a hot spare. */
  onWaiting?(owned: ReadonlyArray<{ slot: string; owner: string | undefined }>): void;
  /** Problems that do not lose a lease (a failed renewal that may succeed next time, the watch failing). */
  log?(line: string): void;
  /** Renewal and spare-poll period. Default TTL/3. */
  readonly heartbeatMs?: number;
  /** Monotonic clock, ms. Default `performance.now()`. */
  readonly now?: () => number;
}

export interface SlotHolder {
  /** Slots held right now, in claim order. */
  held(): ReadonlyArray<string>;
  /** Resolves after the first claim pass (the initial slots are held, or the process is a spare). */
  readonly ready: Promise<void>;
  /** Stops renewing and watching; with `release` (clean exit) deletes the held leases. Bounded by `timeoutMs` (default 2 s). */
  stop(opts?: { readonly release?: boolean; readonly timeoutMs?: number }): Promise<void>;
}

interface Holding {
  lease: Lease;
  validUntil: number;
  renewing: boolean;
  /** The renewal or verification in flight (one at a time, so the revision is not moved underneath either). */
  inflight: Promise<void> | undefined;
  lost: boolean;
}

/** Claims, renews and (as a spare) waits for slots; see the module comment. */
export const holdSlots = (opts: HoldSlotsOptions): SlotHolder => {
  const { bucket } = opts;
  const now = opts.now ?? (() => performance.now());
  const ttl = bucket.ttlMs;
  const heartbeatMs = opts.heartbeatMs ?? Math.max(50, Math.floor(ttl / 3));
  const margin = Math.min(250, ttl / 10);
  const holdings = new Map<string, Holding>();
  let stopped = false;
  let filling: Promise<void> | undefined;
  let fillAgain = false;
  let wasWaiting = false;
  let renewProblem = false;

  const lose = (slot: string, h: Holding, reason: string) => {
    if (h.lost) return;
    h.lost = true;
    holdings.delete(slot);
    opts.onLost(slot, reason);
  };

  const claimPass = async (): Promise<void> => {
    for (const slot of opts.candidates) {
      if (stopped || holdings.size >= opts.want) break;
      if (holdings.has(slot)) continue;
      const sentAt = now();
      let lease: Lease | undefined;
      try {
        lease = await claimSlot(bucket, slot, opts.owner);
      } catch (e) {
        opts.log?.(`claiming slot ${slot} failed: ${errorMessage(e)}`);
        continue;
      }
      if (lease === undefined) continue;
      if (stopped) {
        await releaseLease(bucket, lease).catch(() => false);
        break;
      }
      const h: Holding = { lease, validUntil: sentAt + ttl - margin, renewing: false, inflight: undefined, lost: false };
      holdings.set(slot, h);
      opts.onAcquired({
        slot,
        get lease() {
          return h.lease;
        },
        isValid: () => !h.lost && now() < h.validUntil,
        verify: () => verify(slot, h),
      });
    }
    const waiting = !stopped && holdings.size < opts.want;
    if (waiting && !wasWaiting && opts.onWaiting !== undefined) {
      const owned = await Promise.all(
        opts.candidates.filter((s) => !holdings.has(s)).map(async (slot) => ({
          slot,
          owner: (await readLease(bucket, slot).catch(() => undefined))?.value.owner,
        })),
      );
      opts.onWaiting(owned);
    }
    wasWaiting = waiting;
  };

  /** Runs claim passes one at a time; a request during a pass schedules one more. */
  const fill = (): Promise<void> => {
    if (filling !== undefined) {
      fillAgain = true;
      return filling;
    }
    filling = (async () => {
      do {
        fillAgain = false;
        await claimPass();
      } while (fillAgain && !stopped);
    })().finally(() => (filling = undefined));
    return filling;
  };

  /** Runs `op` as the holding's only request in flight (renewals and verifications never overlap). */
  const exclusive = async <A>(h: Holding, op: () => Promise<A>): Promise<A> => {
    while (h.inflight !== undefined) await h.inflight;
    h.renewing = true;
    const run = op();
    h.inflight = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await run;
    } finally {
      h.renewing = false;
      h.inflight = undefined;
    }
  };

  const renew = (slot: string, h: Holding) => {
    const sentAt = now();
    const revision = h.lease.revision;
    exclusive(h, () => renewLease(bucket, h.lease)).then(
      (lease) => {
        if (renewProblem) opts.log?.(`lease renewals work again`);
        renewProblem = false;
        if (h.lost || stopped) {
          // declared lost meanwhile (validity lapsed) or shutting down: give the slot back at once
          if (h.lost) opts.log?.(`slot ${slot}: the key was still ours at revision ${revision} (not taken over); released it`);
          void releaseLease(bucket, lease).catch(() => false);
          return;
        }
        h.lease = lease;
        h.validUntil = sentAt + ttl - margin;
      },
      (e: unknown) => {
        if (e instanceof LeaseLostError) {
          if (h.lost) opts.log?.(`slot ${slot}: renewal at revision ${revision} refused (wrong revision): taken over, as expected`);
          else lose(slot, h, `renewal at revision ${revision} refused: ${e.reason}`);
        } else if (!renewProblem) {
          renewProblem = true;
          opts.log?.(`renewing the lease of slot ${slot} failed (will retry until it lapses): ${errorMessage(e)}`);
        }
      },
    );
  };

  const verify = async (slot: string, h: Holding): Promise<boolean> => {
    if (h.lost || stopped) return false;
    let current: Lease | undefined;
    try {
      current = await exclusive(h, () => readLease(bucket, slot));
    } catch (e) {
      opts.log?.(`re-checking the lease of slot ${slot} failed: ${errorMessage(e)}`);
      return false;
    }
    if (h.lost) {
      if (current?.revision !== h.lease.revision) opts.log?.(`slot ${slot}: its key is now ${current === undefined ? "gone" : `at revision ${current.revision} (owner ${current.value.owner})`}, ours was ${h.lease.revision}: taken over, as expected`);
      return false;
    }
    if (current === undefined) {
      lose(slot, h, `its key is gone (expired or deleted; ours was revision ${h.lease.revision})`);
      return false;
    }
    if (current.revision !== h.lease.revision) {
      lose(slot, h, `its key is at revision ${current.revision} (owner ${current.value.owner}), ours was ${h.lease.revision}`);
      return false;
    }
    return now() < h.validUntil;
  };

  const tick = () => {
    if (stopped) return;
    const t = now();
    for (const [slot, h] of holdings) {
      if (t >= h.validUntil) {
        lose(slot, h, `not renewed within the lease TTL (${ttl} ms)`);
        // learn what happened: a renewal at the old revision is refused once another owner wrote the key
        // (and if nobody did, the renewal succeeds and the slot is released at once for whoever claims it)
        if (!h.renewing) renew(slot, h);
      } else if (!h.renewing) renew(slot, h);
    }
    if (holdings.size < opts.want) void fill();
  };

  const timer = setInterval(tick, heartbeatMs);
  timer.unref?.();

  // Spares react at once to clean releases (deletes); expiries are found by the poll in `tick`.
  let stopWatch: (() => void) | undefined;
  void (async () => {
    try {
      const w = await bucket.kv.watch({ key: ">", include: "updates" });
      stopWatch = () => w.stop();
      if (stopped) w.stop();
      for await (const e of w) {
        if (stopped) break;
        const h = holdings.get(e.key);
        if (e.operation === "PUT" && h !== undefined && !h.lost && e.revision > h.lease.revision) {
          // fencing by revision: another owner wrote our key (our own renewals carry our name)
          let owner: string | undefined;
          try {
            owner = e.json<LeaseValue>().owner;
          } catch {
            owner = undefined;
          }
          if (owner !== opts.owner.owner) lose(e.key, h, `taken over by ${owner ?? "another process"} at revision ${e.revision} (ours was ${h.lease.revision})`);
        }
        if ((e.operation === "DEL" || e.operation === "PURGE") && holdings.size < opts.want && opts.candidates.includes(e.key)) void fill();
      }
    } catch (e) {
      if (!stopped) opts.log?.(`watching the lease bucket failed (spares will still poll every ${heartbeatMs} ms): ${errorMessage(e)}`);
    }
  })();

  const ready = fill();

  return {
    held: () => [...holdings.keys()],
    ready,
    stop: async ({ release = false, timeoutMs = 2_000 } = {}) => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      stopWatch?.();
      const leases = [...holdings.values()].map((h) => h.lease);
      holdings.clear();
      if (!release || leases.length === 0) return;
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(leases.map((l) => releaseLease(bucket, l).catch(() => false))),
        new Promise((resolve) => (t = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(t);
    },
  };
};
