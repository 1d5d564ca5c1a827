/**
 * The accelerator slot actor (XState v5): one sub-accelerator that executes blocks. A pure
 * reducer: its effects are named (`respond`, `forget`, `armTimer`) and provided by the host
 * (runtime/host), which owns the bus and the timers.
 *
 * Lifecycle of the slot, as this process sees it (docs/distributed.md, docs/reliability.md):
 *   spare    hosted but not holding the slot's lease: dispatches are left unanswered (the owner answers)
 *   ready    the owner: executes blocks and answers
 *   fenced   the lease may have lapsed: dispatches are left unanswered, and a block running when the
 *            fence closed is forgotten (the slot's new owner answers the scheduler's retry); a
 *            lease found valid again makes it the owner again
 *   stopped  final
 * The host reports the lease with `lease` events (before each dispatch it hands over and each
 * timer it delivers); a process that does not lease slots never sends one and stays `ready`.
 *
 * In virtual time the accelerator answers a dispatch at once with the block's completion time and
 * energy (a batch of them, `block.batch`, in one transition, each block as if it came alone); in live mode (the dispatch names a speed) it answers once the host's timer says the
 * block is over: its due completion on the run's timeline, less the completion lead
 * (runtime/live-clock blockClock). It refuses a block while a previous one is still in flight
 * (it completes after the new block's start), so a scheduler bug can never double-book it. A
 * repeated dispatch gets the first answer: recent results are remembered by dispatch key, and a
 * retry of a block still running joins it.
 */
import { enqueueActions, setup } from "xstate";
import { type BlockDispatch, type BlockResult, type ErrorReply, errorReply } from "../contracts/messages";
import { type AccelModelCosts, busyRefusal, executeBlock, isFreeFor } from "./accelerator-logic";
import { type ReplyMemory, recall, remember, replyMemory } from "./reply-memory";

/**
 * How many recent dispatches an accelerator remembers, to answer a repeated one identically: a
 * dispatch retried after a lost reply, and every request a resumed scheduler sends again for the
 * steps its dead predecessor took but did not get recorded (runtime/resume.ts). The bound on that
 * unrecorded tail is this many requests per actor.
 */
export const ACCEL_REPLY_MEMORY = 4096;

export interface AcceleratorInput {
  readonly id: string;
  readonly costs: ReadonlyMap<string, AccelModelCosts>;
  /** Start as a hot spare (no lease yet); default false, the owner. */
  readonly spare?: boolean;
}

/** A live block running out its latency (or queued behind the one that does): who waits for its answer. */
export interface BlockInProgress {
  readonly replyTos: ReadonlyArray<string>;
  /** The dispatch's time (part of its identity: see {@link dispatchHash}). */
  readonly at: number;
  readonly message: BlockResult;
  /** Wall time it runs for (its latency at the run's speed). */
  readonly wallMs: number;
  /** The run's speed. */
  readonly speed: number;
}

export interface AcceleratorContext {
  readonly id: string;
  readonly costs: ReadonlyMap<string, AccelModelCosts>;
  readonly busyUntil: number;
  readonly blocks: number;
  readonly energyMJ: number;
  readonly refused: number;
  /** Results of recent dispatches by {@link dispatchHash} (answered again to a repeat). */
  readonly recent: ReplyMemory<RememberedBlock>;
  /**
   * Live blocks by dispatch key, in the order they run (a Map keeps insertion order; a repeat
   * joining a block keeps its place): the first is running, the others (dispatch queues) wait
   * behind it, each started — its timer armed — when the one before it has elapsed.
   */
  readonly inProgress: ReadonlyMap<string, BlockInProgress>;
  readonly startsSpare: boolean;
}

export type AcceleratorEvent =
  | { readonly type: "block.dispatch"; readonly cmd: BlockDispatch; readonly replyTo: string }
  /**
   * Virtual-time blocks sent together (`block.batch`, runtime/speculation.ts), in one transition:
   * each answered as the same dispatch alone would be, in order, the answers in one `respondBatch`.
   */
  | { readonly type: "block.batch"; readonly cmds: ReadonlyArray<BlockDispatch>; readonly replyTo: string }
  /** The host's timer for the live block `key` went off. */
  | { readonly type: "block.elapsed"; readonly key: string }
  /** Whether this process holds the slot's lease now. */
  | { readonly type: "lease"; readonly valid: boolean }
  | { readonly type: "stop" };

/** A block answered, remembered with the time it was dispatched at (its identity: job, time, layers). */
export interface RememberedBlock {
  readonly at: number;
  readonly result: BlockResult;
}

const keyTime = new Float64Array(1);
const keyTimeBits = new Uint16Array(keyTime.buffer);
const keyTimeWords = new Int32Array(keyTime.buffer);

/**
 * A number for a dispatch's identity, for the reply memory: a hash of its job, time and layers
 * (FNV-1a over the job's characters, the time's float64 bits and the layer numbers), in the small
 * integer range V8 keeps unboxed. Not the identity itself: the memory tells entries with one hash
 * apart with {@link sameDispatch}. A string key per dispatch (built, then hashed by the map) cost
 * more than the rest of the accelerator's step.
 */
export const dispatchHash = (cmd: Pick<BlockDispatch, "job" | "at" | "firstLayer" | "layerCount">): number => {
  keyTime[0] = cmd.at === 0 ? 0 : cmd.at; // -0 and 0 are one time
  let h = Math.imul(0x811c9dc5 ^ keyTimeWords[0]!, 0x01000193);
  h = Math.imul(h ^ keyTimeWords[1]!, 0x01000193);
  h = Math.imul(h ^ cmd.firstLayer, 0x01000193);
  h = Math.imul(h ^ cmd.layerCount, 0x01000193);
  const job = cmd.job;
  for (let i = 0; i < job.length; i++) h = Math.imul(h ^ job.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
};

/** Whether `r` is the answer to a dispatch of `job` at `at` for these layers. */
const sameDispatch = (r: RememberedBlock, cmd: Pick<BlockDispatch, "job" | "at" | "firstLayer" | "layerCount">): boolean =>
  (r.at === cmd.at || (r.at !== r.at && cmd.at !== cmd.at)) && r.result.job === cmd.job && r.result.firstLayer === cmd.firstLayer && r.result.layerCount === cmd.layerCount;

/**
 * A live block's key (its dispatch's identity: the same block of the same job at the same time).
 * The time is written as the four 16-bit halves of its float64 (one time, one key, as with its
 * decimal text), not in decimal: V8 keeps every double it turned into text in a cache, which made
 * each dispatch's key outlive the young generation (a cost per block in garbage collection). A map
 * key, never shown.
 */
export const dispatchKey = (cmd: Pick<BlockDispatch, "job" | "at" | "firstLayer" | "layerCount">): string => {
  keyTime[0] = cmd.at === 0 ? 0 : cmd.at; // -0 and 0 are one time, as in decimal
  return `${cmd.job}@${String.fromCharCode(keyTimeBits[0]!, keyTimeBits[1]!, keyTimeBits[2]!, keyTimeBits[3]!)}:${cmd.firstLayer}+${cmd.layerCount}`;
};

/** What a virtual-time block changes in the context (a working copy while a batch is answered). */
interface VirtualFields {
  busyUntil: number;
  blocks: number;
  energyMJ: number;
  refused: number;
  recent: ReplyMemory<RememberedBlock>;
}

const virtualFields = (c: AcceleratorContext): VirtualFields => ({ busyUntil: c.busyUntil, blocks: c.blocks, energyMJ: c.energyMJ, refused: c.refused, recent: c.recent });

/**
 * A virtual-time dispatch (no speed: answered at once) answered into `f`: a repeat gets the
 * remembered answer, a block the busy rule refuses its refusal, else the block's result (remembered).
 * One rule for a dispatch alone and for each block of a batch.
 */
const answerVirtual = (id: string, costs: AcceleratorContext["costs"], f: VirtualFields, cmd: BlockDispatch): BlockResult | ErrorReply => {
  const hash = dispatchHash(cmd);
  const same = (r: RememberedBlock) => sameDispatch(r, cmd);
  const answered = recall(f.recent, hash, same, cmd.at);
  if (answered !== undefined) return answered.result;
  if (!isFreeFor(f.busyUntil, cmd)) {
    f.refused++;
    return busyRefusal(id, f.busyUntil, cmd);
  }
  const result = executeBlock(costs, cmd);
  if (result._tag !== "block.result") return result;
  f.busyUntil = cmd.queueDepth === undefined ? result.completesAt : Math.max(f.busyUntil, result.completesAt);
  f.blocks++;
  f.energyMJ += result.energyMJ;
  f.recent = remember(f.recent, hash, { at: cmd.at, result }, same, cmd.at);
  return result;
};

const without = <K, V>(m: ReadonlyMap<K, V>, key: K): ReadonlyMap<K, V> => {
  const next = new Map(m);
  next.delete(key);
  return next;
};

export const acceleratorMachine = setup({
  types: {} as { context: AcceleratorContext; input: AcceleratorInput; events: AcceleratorEvent },
  actions: {
    /** Provided by the host: send `message` as the reply to the request identified by `replyTo`. */
    respond: (_, _params: { replyTo: string; message: BlockResult | ErrorReply }) => {},
    /** Provided by the host: the answers to a `block.batch`, in its order, as one reply to `replyTo`. */
    respondBatch: (_, _params: { replyTo: string; answers: ReadonlyArray<BlockResult | ErrorReply> }) => {},
    /** Provided by the host: the request `replyTo` will not be answered here (let it go). */
    forget: (_, _params: { replyTo: string }) => {},
    /**
     * Provided by the host: send `block.elapsed` with `key` once the block has run — `wallMs` of wall
     * time, or until its due completion `endsAt` (run ms) at `speed` on the run's timeline (runtime/live-clock blockClock).
     */
    armTimer: (_, _params: { key: string; wallMs: number; endsAt: number; speed: number }) => {},
  },
  guards: {
    leaseValid: ({ event }) => event.type === "lease" && event.valid,
    leaseLost: ({ event }) => event.type === "lease" && !event.valid,
  },
}).createMachine({
  id: "accelerator",
  context: ({ input }) => ({
    id: input.id,
    costs: input.costs,
    busyUntil: 0,
    blocks: 0,
    energyMJ: 0,
    refused: 0,
    recent: replyMemory(ACCEL_REPLY_MEMORY),
    inProgress: new Map(),
    startsSpare: input.spare === true,
  }),
  initial: "boot",
  on: { stop: ".stopped" },
  states: {
    boot: {
      always: [{ guard: ({ context }) => context.startsSpare, target: "spare" }, { target: "ready" }],
    },
    spare: {
      on: { lease: { guard: "leaseValid", target: "ready" } },
    },
    ready: {
      on: {
        lease: { guard: "leaseLost", target: "fenced" },
        "block.dispatch": {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const cmd = event.cmd;
            if (cmd.speed === undefined) {
              // virtual time: answered at once
              const f = virtualFields(context);
              const message = answerVirtual(context.id, context.costs, f, cmd);
              enqueue.assign(() => f);
              enqueue({ type: "respond", params: { replyTo: event.replyTo, message } });
              return;
            }
            const hash = dispatchHash(cmd);
            const same = (r: RememberedBlock) => sameDispatch(r, cmd);
            const answered = recall(context.recent, hash, same, cmd.at);
            if (answered !== undefined) {
              // a repeat of a block already answered: the same answer
              enqueue({ type: "respond", params: { replyTo: event.replyTo, message: answered.result } });
              return;
            }
            // live blocks (a few at a time) are kept by their dispatch key
            const key = context.inProgress.size === 0 ? "" : dispatchKey(cmd);
            const running = context.inProgress.get(key);
            if (running !== undefined) {
              // a repeat of a live block still running: answered with it
              enqueue.assign({ inProgress: new Map(context.inProgress).set(key, { ...running, replyTos: [...running.replyTos, event.replyTo] }) });
              return;
            }
            // live with dispatch queues: its queue must have room (it runs blocks in arrival order); else the busy rule
            const full = cmd.queueDepth !== undefined ? context.inProgress.size >= cmd.queueDepth : !isFreeFor(context.busyUntil, cmd);
            if (full) {
              enqueue.assign({ refused: context.refused + 1 });
              enqueue({ type: "respond", params: { replyTo: event.replyTo, message: busyRefusal(context.id, context.busyUntil, cmd) } });
              return;
            }
            const result = executeBlock(context.costs, cmd);
            if (result._tag !== "block.result") {
              enqueue({ type: "respond", params: { replyTo: event.replyTo, message: result } });
              return;
            }
            const busyUntil = cmd.queueDepth === undefined ? result.completesAt : Math.max(context.busyUntil, result.completesAt);
            const blocks = context.blocks + 1;
            const energyMJ = context.energyMJ + result.energyMJ;
            // live: the hardware takes the block's latency (scaled by the run's speed) to run it,
            // after the blocks in front of it (dispatch queues: it waits until they have elapsed)
            const wallMs = result.latencyMs / cmd.speed;
            const liveKey = key === "" ? dispatchKey(cmd) : key;
            const inProgress = new Map(context.inProgress).set(liveKey, { replyTos: [event.replyTo], at: cmd.at, message: result, wallMs, speed: cmd.speed });
            if (context.inProgress.size > 0) {
              enqueue.assign({ busyUntil, blocks, energyMJ, inProgress });
              return;
            }
            enqueue.assign({ busyUntil, blocks, energyMJ, inProgress });
            enqueue({ type: "armTimer", params: { key: liveKey, wallMs, endsAt: result.completesAt, speed: cmd.speed } });
          }),
        },
        "block.batch": {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const f = virtualFields(context);
            const answers = event.cmds.map((cmd) =>
              cmd.speed === undefined
                ? answerVirtual(context.id, context.costs, f, cmd)
                : errorReply("rejected", `block of ${cmd.job} at ${cmd.at} ms in a batch: batches are for virtual time`),
            );
            enqueue.assign(() => f);
            enqueue({ type: "respondBatch", params: { replyTo: event.replyTo, answers } });
          }),
        },
        "block.elapsed": {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const p = context.inProgress.get(event.key);
            if (p === undefined) return;
            const inProgress = without(context.inProgress, event.key);
            const next = inProgress.keys().next().value; // the block behind it, if any
            const cmd = { job: p.message.job, at: p.at, firstLayer: p.message.firstLayer, layerCount: p.message.layerCount };
            const recent = remember(context.recent, dispatchHash(cmd), { at: p.at, result: p.message }, (r) => sameDispatch(r, cmd), p.at);
            enqueue.assign({ inProgress, recent });
            for (const replyTo of p.replyTos) enqueue({ type: "respond", params: { replyTo, message: p.message } });
            // the next queued block starts now
            if (next !== undefined) {
              const b = inProgress.get(next)!;
              enqueue({ type: "armTimer", params: { key: next, wallMs: b.wallMs, endsAt: b.message.completesAt, speed: b.speed } });
            }
          }),
        },
      },
    },
    fenced: {
      on: {
        lease: { guard: "leaseValid", target: "ready" },
        // fenced while the block ran: the slot's new owner answers the scheduler's retry
        "block.elapsed": {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const p = context.inProgress.get(event.key);
            if (p === undefined) return;
            // the blocks queued behind it are forgotten too: the slot's new owner answers their retries
            enqueue.assign({ inProgress: new Map() });
            for (const { replyTos } of context.inProgress.values()) {
              for (const replyTo of replyTos) enqueue({ type: "forget", params: { replyTo } });
            }
          }),
        },
      },
    },
    stopped: { type: "final" },
  },
});
