/**
 * Bounded chains (`--chain d`, docs/architecture.md "Dispatch queues"): with dispatch queues, the
 * kernel commits a job's next block behind its own on the accelerator that runs it — the device
 * keeps running the inference it was given, as a host driver fills a command queue with one
 * inference's consecutive kernels — so the accelerator never waits for the scheduler between two
 * blocks of a chain. A chain is bounded by a budget of run time, after which the accelerator is
 * shown to the policy again while the chain's last block still runs: the next decision is taken one
 * block early, which is what hides a round trip in live mode and over NATS.
 *
 * Rules, the same in every engine (depth ≥ 2 only; off: nothing here runs):
 *   chain      a block the policy dispatches starts a chain (`Running.chainFrom`: its start).
 *   continue   an accelerator whose queue has room and whose last committed block (the tail)
 *              belongs to a job J that has not ended and has layers left gets J's next block at
 *              its tail (the run's block rule, `blockLayers`, from the layer after the tail), while
 *              the chain's committed run time (tail's completion − chainFrom) is below the budget.
 *              The kernel continues chains before the policy decides (so the policy does not fill
 *              the room with another job's block first) and again after its dispatches (a chain
 *              the policy has just started). In virtual time the tail's completion must be known
 *              (its reply is in): a chain grows by one block per accelerator per pass.
 *   job        J holds every block of its chain on one accelerator: it is `running` (the policy
 *              cannot dispatch it elsewhere) until its last committed block retires; its
 *              `nextLayer` stays the layer after its retired blocks (committed work is still work
 *              to do). The cancel rule covers every queued block of J; replies match by job and
 *              first layer.
 *   recorded   a continuation is the kernel's, not a policy decision: no `decision` event; its
 *              `block.dispatched` when it starts, like any block. `chainMs` is in the log header
 *              (and the run spec) only when on, so every other log is byte for byte what it was.
 */
import type { Running } from "./kernel-state";

/** Largest `--chain`, ms. */
export const MAX_CHAIN_MS = 1000;

/** The accelerator's last committed block (undefined when idle). */
export const tailOf = (head: Running | undefined): Running | undefined => {
  if (head === undefined) return undefined;
  const q = head.queued;
  return q === undefined || q.length === 0 ? head : q[q.length - 1]!;
};

/**
 * The tail of the queue whose chain the kernel continues on an accelerator with head `head`, or
 * undefined: no room, no chain, a cancelled tail, a tail whose completion is not known yet, or a
 * spent budget. (Whether the tail's job has layers left and has not ended is the caller's.)
 */
export const chainTail = (head: Running | undefined, queueDepth: number, chainMs: number): Running | undefined => {
  if (head === undefined || 1 + (head.queued?.length ?? 0) >= queueDepth) return undefined;
  const tail = tailOf(head)!;
  if (tail.chainFrom === undefined || tail.cancelled === true || Number.isNaN(tail.completesAt)) return undefined;
  return tail.completesAt - tail.chainFrom < chainMs ? tail : undefined;
};

/** Whether job `job` holds a block (running or queued, not cancelled) on the accelerator with head `head`. */
export const holdsBlock = (head: Running | undefined, job: number): boolean => {
  if (head === undefined) return false;
  if (head.job === job && head.cancelled !== true) return true;
  return head.queued?.some((b) => b.job === job && b.cancelled !== true) ?? false;
};

/** The head with every queued block of job `job` cancelled (its places stay as idle time); the head itself runs on. */
export const cancelQueuedOf = (head: Running, job: number): Running => {
  const q = head.queued;
  if (q === undefined || !q.some((b) => b.job === job && b.cancelled !== true)) return head;
  return { ...head, queued: q.map((b) => (b.job === job ? { ...b, cancelled: true } : b)) };
};

/** Refuses a chain budget that is not a number of ms in (0, MAX_CHAIN_MS], or a chain without a queue. */
export const checkChainValue = (chainMs: number, queueDepth: number): number => {
  if (!(Number.isFinite(chainMs) && chainMs > 0 && chainMs <= MAX_CHAIN_MS)) throw new Error(`chain budget: expected a number of ms in (0, ${MAX_CHAIN_MS}], got ${chainMs}`);
  if (queueDepth < 2) throw new Error(`chain budget ${chainMs} ms needs a dispatch queue (queue depth 2 or more; got ${queueDepth})`);
  return chainMs;
};
