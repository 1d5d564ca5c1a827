/**
 * Dispatch queues (docs/architecture.md "Dispatch queues"): each accelerator holds up to
 * `queueDepth` committed blocks — the one it runs (the head, `KernelState.running[a]`) and the
 * blocks committed behind it (`Running.queued`, in the order they run). Depth 1 (the default) is
 * the kernel without queues: a block is only committed to an idle accelerator.
 *
 * Rules, the same in every engine (the kernel states them; the accelerators only compute):
 *   commit   a block committed to a busy accelerator starts when the accelerator's last committed
 *            block ends (its `busyUntil`, the end of its queue), never before now (live: an overdue
 *            reply leaves an end estimate in the past); the dispatch names that start
 *            (`startAt`), so the accelerator's answer depends on the message only (retries,
 *            resumed schedulers and a slot's new owner give the same answer). In virtual time
 *            the end of the queue must be known: at most one block per accelerator and decision
 *            is committed behind a block whose completion is still unknown (refused).
 *   start    a queued block starts (is booked: energy, `block.dispatched`) when the block before
 *            it retires; a frame whose first block is still queued has not started (the deadline
 *            rule may drop it).
 *   look-ahead  with `lookaheadMs`, a busy accelerator takes a policy's block only once its queue
 *            ends within the look-ahead of now (the view shows it idle from then), and the kernel
 *            wakes at that point: the next block is decided that much before the accelerator is
 *            free, on what is known then — in live time, the message path is hidden behind the
 *            block in front; without it, any room counts (a block decided a whole block early).
 *   cancel   a queued block whose frame ends before the block starts is cancelled: it never
 *            runs and costs nothing, and its place in the queue stays as idle time — the blocks
 *            behind it keep the start times the accelerator answered. No message is needed, so
 *            a lost message, a retry, a resumed scheduler or a slot's new owner cannot make two
 *            engines disagree.
 */
import type { Running } from "./kernel-state";

/** Blocks committed to an accelerator whose head is `head` (0 when idle). */
export const committedOn = (head: Running | undefined): number => (head === undefined ? 0 : 1 + (head.queued?.length ?? 0));

/** When the accelerator's last committed block ends (the end of its queue); `idleAt` when idle. */
export const queueEnd = (head: Running | undefined, idleAt: number): number => {
  if (head === undefined) return idleAt;
  const q = head.queued;
  return q === undefined || q.length === 0 ? head.completesAt : q[q.length - 1]!.completesAt;
};

/**
 * Whether an accelerator whose head is `head` can take a block at `now`: room in its queue and,
 * with a look-ahead, a queue that ends within it (`queueEnd − lookahead ≤ now`, the expression
 * {@link commitPoint} gives, so a wake-up at that point always finds it open).
 */
export const takesBlock = (head: Running | undefined, now: number, queueDepth: number, lookaheadMs: number | undefined): boolean =>
  committedOn(head) < queueDepth && (head === undefined || lookaheadMs === undefined || queueEnd(head, now) - lookaheadMs <= now);

/** With a look-ahead: when a busy accelerator with room opens for a block (its queue end − the look-ahead); NaN when it does not wait for one (idle, full or open already). */
export const commitPoint = (head: Running | undefined, now: number, queueDepth: number, lookaheadMs: number | undefined): number => {
  if (head === undefined || lookaheadMs === undefined || committedOn(head) >= queueDepth) return Number.NaN;
  const at = queueEnd(head, now) - lookaheadMs;
  return at > now ? at : Number.NaN;
};

/** The head with `block` committed behind the last of its queue. */
export const enqueueBlock = (head: Running, block: Running): Running => ({ ...head, queued: [...(head.queued ?? []), block] });

/** What runs after `head` retires: the first queued block, with the rest of the queue behind it (undefined when the queue is empty). */
export const nextInQueue = (head: Running): Running | undefined => {
  const q = head.queued;
  if (q === undefined || q.length === 0) return undefined;
  return q.length === 1 ? q[0]! : { ...q[0]!, queued: q.slice(1) };
};

/** Position in the queue behind `head` of the block that `reply` answers (-1: not queued there); `idOf` names a job-table index. */
export const queuedBlockIndex = (head: Running, reply: { readonly job: string; readonly firstLayer: number }, idOf: (job: number) => string): number =>
  head.queued?.findIndex((b) => idOf(b.job) === reply.job && b.firstLayer === reply.firstLayer) ?? -1;

/** The head with queued block `i` replaced by `f` of it. */
export const updateQueued = (head: Running, i: number, f: (b: Running) => Running): Running => {
  const q = [...head.queued!];
  q[i] = f(q[i]!);
  return { ...head, queued: q };
};

/** Largest queue depth (`--queue-depth`). */
export const MAX_QUEUE_DEPTH = 16;

/** Largest look-ahead, ms (`--lookahead`, like the chain budget). */
export const MAX_LOOKAHEAD_MS = 1000;

/** Refuses a look-ahead that is not a number of ms in [0, MAX_LOOKAHEAD_MS], or one without a dispatch queue. */
export const checkLookaheadValue = (ms: number, queueDepth: number): number => {
  if (!(Number.isFinite(ms) && ms >= 0 && ms <= MAX_LOOKAHEAD_MS)) throw new Error(`look-ahead: expected a number of ms in [0, ${MAX_LOOKAHEAD_MS}], got ${ms}`);
  if (queueDepth < 2) throw new Error(`look-ahead ${ms} ms needs a dispatch queue (queue depth 2 or more; got ${queueDepth})`);
  return ms;
};

/** Refuses a queue depth that is not an integer in [1, MAX_QUEUE_DEPTH]. */
export const checkQueueDepthValue = (d: number): number => {
  if (!(Number.isInteger(d) && d >= 1 && d <= MAX_QUEUE_DEPTH)) throw new Error(`dispatch queue depth: expected an integer in [1, ${MAX_QUEUE_DEPTH}], got ${d}`);
  return d;
};
