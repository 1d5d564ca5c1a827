/**
 * Speculation: virtual time without a round trip per step (docs/architecture.md "Speculation").
 *
 * In virtual time a block's reply is a pure function of its dispatch and the accelerator's cost
 * table, which the run spec gives every role (runtime/direct.ts `blockPredictor`). The scheduler
 * actor predicts it and feeds the predicted reply to the kernel at once, in the same transition
 * (actors/scheduler.ts: a chain of steps, each fed the reply predicted for a dispatch before it, is
 * one event); its host sends the dispatch as always and registers the prediction here, so the
 * kernel goes on to its next event while the accelerator computes the same block.
 * Nothing that leaves the run's result is let out before it is confirmed: each recorded step (the
 * event log) and each published event waits until every prediction fed before it has been
 * confirmed by its accelerator's reply, and the run ends only when all are. A reply that differs
 * from its prediction fails the run, naming both (an accelerator that computes other costs than
 * the run's spec, or answers wrongly); the recorded log stops before the first unconfirmed step.
 * The kernel's inputs are the replies it would have had, in the same order, so every transport
 * gives the same log bytes.
 *
 * Bounded: at most `depth` predictions unconfirmed at once (a dispatch beyond that waits for its
 * reply, as without speculation). One message in flight per accelerator (`dispatchLanes`): the
 * dispatches made while it is unanswered go together, in order, as one `block.batch`, so an
 * accelerator sees its blocks one message at a time and in the order they were decided, and a retry
 * or a slot takeover (a spare answers a retried batch) keeps its meaning.
 */
import type { BlockResult } from "../contracts/messages";
import { RunConfigError } from "../contracts/errors";

// the predictor's type is the scheduler actor's, which is given the predictor (actors/scheduler.ts)
export type { BlockPredictor } from "../actors/scheduler";

/** Predictions unconfirmed at most at once, by default (`--speculate`). */
export const DEFAULT_SPECULATION_DEPTH = 256;

/** Largest depth: each unconfirmed prediction holds the steps and events after it until confirmed. */
export const MAX_SPECULATION_DEPTH = 1024;

/** `depth` when it is a speculation depth (an integer in [0, MAX_SPECULATION_DEPTH]); throws RunConfigError otherwise. */
export const checkSpeculationDepth = (depth: number): number => {
  if (!(Number.isInteger(depth) && depth >= 0 && depth <= MAX_SPECULATION_DEPTH)) {
    throw new RunConfigError(`speculation depth: expected an integer in [0, ${MAX_SPECULATION_DEPTH}], got ${depth}`);
  }
  return depth;
};

export type Verdict = "unpredicted" | "confirmed" | { readonly mismatch: string };

export interface Speculation {
  /**
   * How many more predictions may be fed now (0 once a reply differed from its prediction): the
   * scheduler actor is told it with each reply (an event queued behind another may find a little
   * less: the depth bounds what is held, it is not a protocol rule).
   */
  readonly room: number;
  /** The reply predicted for dispatch `corr` was fed to the kernel: it stays unconfirmed until `verify`. */
  fed(corr: number, reply: BlockResult): void;
  /** The reply to `corr` arrived: not predicted (feed it), confirmed, or a mismatch (the run fails; it stays unconfirmed). */
  verify(corr: number, reply: unknown): Verdict;
  /** Runs `output` once every prediction fed before now is confirmed: at once when none is pending. */
  hold(output: () => void): void;
  /** Runs `f` once no prediction is unconfirmed (after the outputs held until then). */
  settled(f: () => void): void;
  readonly unconfirmed: number;
}

/** The fields of a block result, in the order a mismatch names them. */
const FIELDS = ["run", "acc", "job", "firstLayer", "layerCount", "startedAt", "completesAt", "latencyMs", "energyMJ"] as const;

const difference = (predicted: BlockResult, reply: unknown): string | undefined => {
  if (typeof reply !== "object" || reply === null || (reply as { _tag?: unknown })._tag !== "block.result") return "a reply that is not a block result";
  const r = reply as BlockResult;
  if (FIELDS.every((f) => r[f] === predicted[f])) return undefined; // every block: nothing built
  return FIELDS.filter((f) => r[f] !== predicted[f]).map((f) => `${f} ${String(r[f])} (the run's cost table gives ${String(predicted[f])})`).join(", ");
};

export const speculation = (depth: number = DEFAULT_SPECULATION_DEPTH): Speculation => {
  let fed = 0; // predictions fed so far: sequence numbers 0 … fed − 1
  const open = new Map<number, { readonly seq: number; readonly reply: BlockResult }>(); // by corr
  const held: Array<{ readonly after: number; readonly output: () => void }> = [];
  const waiters: Array<() => void> = [];
  let mismatched = false;
  /** The oldest unconfirmed prediction (every one before it is confirmed); `fed` when none is. */
  // `open` keeps the order predictions were fed in (a Map's insertion order; `seq` grows): the oldest is its first
  const frontier = (): number => (open.size === 0 ? fed : open.values().next().value!.seq);
  const release = (): void => {
    const f = frontier();
    let n = 0;
    while (n < held.length && held[n]!.after <= f) n++;
    for (const h of held.splice(0, n)) h.output();
    if (open.size === 0 && !mismatched) for (const w of waiters.splice(0)) w();
  };
  return {
    get room() {
      return mismatched ? 0 : Math.max(0, depth - open.size);
    },
    fed: (corr, reply) => {
      open.set(corr, { seq: fed++, reply });
    },
    verify: (corr, reply) => {
      const p = open.get(corr);
      if (p === undefined) return "unpredicted";
      const diff = difference(p.reply, reply);
      if (diff !== undefined) {
        mismatched = true;
        return { mismatch: `its reply differs from the prediction: ${diff}` };
      }
      open.delete(corr);
      release();
      return "confirmed";
    },
    hold: (output) => {
      if (open.size === 0 && held.length === 0) output();
      else held.push({ after: fed, output });
    },
    settled: (f) => {
      if (open.size === 0 && held.length === 0 && !mismatched) f();
      else waiters.push(f);
    },
    get unconfirmed() {
      return open.size;
    },
  };
};

/**
 * One message in flight per accelerator: the dispatches made while it is unanswered wait, and go
 * together (`transmit`, at most `max` at a time, in the order they were made) once it is answered
 * or has failed.
 */
export const dispatchLanes = <T>(transmit: (acc: string, items: ReadonlyArray<T>) => void, max: number) => {
  const lanes = new Map<string, T[]>(); // present: a message in flight; the array: the dispatches waiting
  return {
    send: (acc: string, item: T): void => {
      const waiting = lanes.get(acc);
      if (waiting !== undefined) {
        waiting.push(item);
        return;
      }
      lanes.set(acc, []);
      transmit(acc, [item]);
    },
    /** The message in flight to `acc` was answered (or failed): what waited goes. */
    answered: (acc: string): void => {
      const waiting = lanes.get(acc);
      if (waiting === undefined || waiting.length === 0) {
        lanes.delete(acc);
        return;
      }
      transmit(acc, waiting.splice(0, max));
    },
  };
};
