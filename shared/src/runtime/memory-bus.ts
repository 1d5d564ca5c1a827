/**
 * In-memory Bus: the embedded default (one process, no server). Mirrors NATS core semantics so that
 * code tested here behaves the same over NATS (test/bus-contract.test.ts checks both):
 *
 * - delivery is asynchronous: `publish` only enqueues; handlers run in a later microtask
 *   (`queueMicrotask`), never inside `publish`;
 * - per-subscription FIFO: a subscription sees messages in publish order;
 * - interest is fixed at publish time: a subscription made after `publish` does not get the message,
 *   one removed before delivery does not either;
 * - one copy per plain subscription, one copy per queue group. Within a group the member is chosen
 *   deterministically (NATS picks at random): round-robin in subscription order over the members whose
 *   subject matches, with one counter per group name — the n-th matching message goes to member n mod k;
 * - wildcards `*` and `>` with NATS rules; subjects are validated like in the NATS bus;
 * - `request` with no matching subscription rejects with BusNoRespondersError at once; otherwise
 *   the first reply wins, and BusTimeoutError after `timeoutMs`;
 * - payloads over `maxPayload` UTF-8 bytes (default 1 MiB, the NATS default) are refused;
 * - zero copy: the published string is handed as is to every handler (one shared BusMsg);
 * - typed payloads (`typed(schema, value)`, bus.ts): handed as `msg.typed`; their JSON text is
 *   made only if a handler reads `msg.data`; their size is not checked (they are built by typed code,
 *   and the NATS bus checks the text it sends).
 *
 * A throwing handler is caught, counted (`handlerErrors`) and reported to `onError`; delivery goes on.
 */

import {
  BusClosedError,
  BusNoRespondersError,
  BusTimeoutError,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  checkPayloadSize,
  checkPublishSubject,
  checkSubscribeSubject,
  consoleBusErrorHandler,
  hasWildcard,
  reportBusError,
  subjectMatches,
} from "./bus";
import type { Bus, BusErrorHandler, BusMsg, Payload, RequestOptions, SubscribeOptions, Subscription, TypedPayload } from "./bus";

export interface MemoryBusOptions {
  /** Largest accepted payload in UTF-8 bytes. Default {@link DEFAULT_MAX_PAYLOAD_BYTES} (1 MiB). */
  readonly maxPayload?: number;
  /** Receives handler exceptions. Default: {@link consoleBusErrorHandler}. */
  readonly onError?: BusErrorHandler;
}

export interface MemoryBus extends Bus {
  readonly kind: "memory";
  readonly maxPayload: number;
  /** Number of handler exceptions caught so far. */
  readonly handlerErrors: number;
  /** Messages accepted by `publish` (including requests and replies). */
  readonly published: number;
}

interface Sub {
  readonly id: number;
  readonly subject: string;
  readonly queue: string | undefined;
  readonly handler: (msg: BusMsg) => void;
  active: boolean;
}

interface PendingRequest {
  readonly reject: (error: unknown) => void;
  /** performance.now() reading at which it times out. */
  readonly deadline: number;
  readonly subject: string;
  readonly timeoutMs: number;
  /** Its inbox subscription (in `inboxes`, not `literal`: nobody else subscribes a fresh inbox). */
  readonly sub: Sub;
}

const bySubscriptionOrder = (a: Sub, b: Sub): number => a.id - b.id;

/** A delivered message: one object, no closure per message (the text of a typed payload is made on first read). */
class MemoryMsg implements BusMsg {
  constructor(
    readonly subject: string,
    private readonly payload: Payload,
    readonly reply: string | undefined,
    private readonly send: (subject: string, data: Payload, reply: string | undefined) => number,
  ) {}
  get data(): string {
    return typeof this.payload === "string" ? this.payload : this.payload.text;
  }
  get typed(): TypedPayload | undefined {
    return typeof this.payload === "string" ? undefined : this.payload;
  }
  respond(response: Payload): boolean {
    if (this.reply === undefined) return false;
    this.send(this.reply, response, undefined);
    return true;
  }
}

export const createMemoryBus = (opts: MemoryBusOptions = {}): MemoryBus => {
  const maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const onError = opts.onError ?? consoleBusErrorHandler;

  /** Literal subscriptions by subject (insertion order = subscription order). */
  const literal = new Map<string, Set<Sub>>();
  /** Wildcard subscriptions, in subscription order. */
  let wildcard: Sub[] = [];
  /** Round-robin counters, one per queue group name. */
  const queueCursor = new Map<string, number>();
  /** Pending requests by inbox subject (their reply subscriptions), in the order they were made. */
  const inboxes = new Map<string, PendingRequest>();
  /** Publish subjects already validated (a bounded cache: most runs use a few dozen subjects). */
  const validSubjects = new Set<string>();
  /** Literal subscription lists by subject, snapshotted for delivery; dropped when a subscription changes. */
  const literalLists = new Map<string, Sub[]>();
  let flushWaiters: Array<() => void> = [];
  // One timer for every pending request's timeout (armed for the earliest deadline), instead of a
  // timer per request: a request answered in time costs no timer.
  let timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  let timeoutDue = Infinity;

  let nextSubId = 0;
  let nextInbox = 0;
  let inFlight = 0; // publishes whose delivery microtask has not run yet
  let handlerErrors = 0;
  let published = 0;
  let state: "open" | "closing" | "closed" = "open";
  let closePromise: Promise<void> | undefined;

  const NONE: Sub[] = [];
  /** The literal subscriptions of `subject` as a list that is never changed (copied on subscription changes). */
  const literalList = (subject: string): Sub[] => {
    let list = literalLists.get(subject);
    if (list === undefined) {
      const exact = literal.get(subject);
      list = exact === undefined ? NONE : [...exact];
      if (exact !== undefined) literalLists.set(subject, list);
    }
    return list;
  };

  const matching = (subject: string): Sub[] => {
    const exact = literalList(subject);
    const inbox = inboxes.get(subject)?.sub;
    if (wildcard.length === 0 && inbox === undefined) return exact;
    const out: Sub[] = [...exact];
    if (inbox !== undefined) out.push(inbox);
    let wild = false;
    for (const s of wildcard) {
      if (subjectMatches(s.subject, subject)) {
        out.push(s);
        wild = true;
      }
    }
    if ((wild || inbox !== undefined) && out.length > 1) out.sort(bySubscriptionOrder);
    return out;
  };

  /** Plain subscriptions all get a copy; each queue group gives its copy to one member. */
  const recipients = (subject: string): Sub[] => {
    const all = matching(subject);
    let grouped = false;
    for (const s of all) if (s.queue !== undefined) grouped = true;
    if (!grouped) return all;
    const out: Sub[] = [];
    const groups = new Map<string, Sub[]>();
    for (const s of all) {
      if (s.queue === undefined) out.push(s);
      else {
        const members = groups.get(s.queue);
        if (members === undefined) groups.set(s.queue, [s]);
        else members.push(s);
      }
    }
    for (const [queue, members] of groups) {
      const n = queueCursor.get(queue) ?? 0;
      queueCursor.set(queue, n + 1);
      const chosen = members[n % members.length];
      if (chosen !== undefined) out.push(chosen);
    }
    return out.sort(bySubscriptionOrder);
  };

  const settleFlushWaiters = (): void => {
    if (inFlight !== 0 || flushWaiters.length === 0) return;
    const waiters = flushWaiters;
    flushWaiters = [];
    for (const w of waiters) w();
  };

  const deliver = (targets: Sub[], msg: BusMsg): void => {
    try {
      for (const s of targets) {
        if (!s.active) continue;
        try {
          s.handler(msg);
        } catch (error) {
          handlerErrors++;
          reportBusError(onError, error, { kind: "handler", subject: msg.subject });
        }
      }
    } finally {
      inFlight--;
      settleFlushWaiters();
    }
  };

  // Deliveries wait in one FIFO, drained by one microtask: the same order as a microtask per
  // message (publish order), without a microtask (and its async resource) per message. What a
  // delivery publishes joins the queue behind it and the same drain delivers it (a request's reply
  // handed on at once keeps one drain going for a whole virtual-time run): a ring of slots, reused,
  // grown only when more deliveries wait than it holds.
  let ringTargets: Array<Sub[] | undefined> = new Array<undefined>(16).fill(undefined);
  let ringMsgs: Array<BusMsg | undefined> = new Array<undefined>(16).fill(undefined);
  let head = 0;
  let waiting = 0;
  let draining = false;
  const grow = (): void => {
    const size = ringTargets.length;
    const targets = new Array<Sub[] | undefined>(2 * size).fill(undefined);
    const msgs = new Array<BusMsg | undefined>(2 * size).fill(undefined);
    for (let i = 0; i < waiting; i++) {
      targets[i] = ringTargets[(head + i) % size];
      msgs[i] = ringMsgs[(head + i) % size];
    }
    ringTargets = targets;
    ringMsgs = msgs;
    head = 0;
  };
  const drain = (): void => {
    while (waiting > 0) {
      const targets = ringTargets[head]!;
      const msg = ringMsgs[head]!;
      ringTargets[head] = undefined;
      ringMsgs[head] = undefined;
      head = (head + 1) % ringTargets.length;
      waiting--;
      deliver(targets, msg);
    }
    draining = false;
  };
  const enqueueDelivery = (targets: Sub[], msg: BusMsg): void => {
    if (waiting === ringTargets.length) grow();
    const slot = (head + waiting) % ringTargets.length;
    ringTargets[slot] = targets;
    ringMsgs[slot] = msg;
    waiting++;
    if (draining) return;
    draining = true;
    queueMicrotask(drain);
  };

  const ensureUsable = (): void => {
    if (state === "closed") throw new BusClosedError();
  };

  /** Validates, then enqueues delivery. Returns the number of subscriptions that will get the message. */
  const send = (subject: string, data: Payload, reply: string | undefined): number => {
    ensureUsable();
    if (!inboxes.has(subject)) checkSubject(subject); // an inbox of ours is valid by construction
    if (typeof data === "string") checkPayloadSize(subject, data, maxPayload);
    published++;
    const targets = recipients(subject);
    if (targets.length === 0) return 0;
    const msg = makeMsg(subject, data, reply);
    inFlight++;
    enqueueDelivery(targets, msg);
    return targets.length;
  };

  const checkSubject = (subject: string): void => {
    if (validSubjects.has(subject)) return;
    checkPublishSubject(subject);
    if (validSubjects.size >= 4096) validSubjects.clear();
    validSubjects.add(subject);
  };

  const makeMsg = (subject: string, data: Payload, reply: string | undefined): BusMsg => new MemoryMsg(subject, data, reply, send);

  const subscribe = (
    subject: string,
    handler: (msg: BusMsg) => void,
    subOpts: SubscribeOptions = {},
  ): Subscription => {
    if (state !== "open") throw new BusClosedError();
    checkSubscribeSubject(subject);
    const sub: Sub = { id: nextSubId++, subject, queue: subOpts.queue, handler, active: true };
    if (hasWildcard(subject)) wildcard.push(sub);
    else {
      const set = literal.get(subject);
      if (set === undefined) literal.set(subject, new Set([sub]));
      else set.add(sub);
      literalLists.delete(subject);
    }
    return {
      subject,
      unsubscribe: (): void => {
        if (!sub.active) return;
        sub.active = false;
        if (hasWildcard(subject)) wildcard = wildcard.filter((s) => s !== sub);
        else {
          const set = literal.get(subject);
          set?.delete(sub);
          if (set !== undefined && set.size === 0) literal.delete(subject);
          literalLists.delete(subject);
        }
      },
    };
  };

  /** Rejects every request past its deadline, then arms the timer for the earliest remaining one. */
  const expire = (): void => {
    timeoutTimer = undefined;
    timeoutDue = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const p of [...inboxes.values()]) {
      if (p.deadline <= now) p.reject(new BusTimeoutError({ subject: p.subject, timeoutMs: p.timeoutMs }));
      else if (p.deadline < next) next = p.deadline;
    }
    if (next !== Infinity) armTimeout(next);
  };

  /** The timer fires by `deadline` at the latest, and keeps the process alive while requests are pending. */
  const armTimeout = (deadline: number): void => {
    if (timeoutTimer !== undefined && timeoutDue <= deadline) {
      timeoutTimer.ref();
      return;
    }
    if (timeoutTimer !== undefined) clearTimeout(timeoutTimer);
    timeoutDue = deadline;
    timeoutTimer = setTimeout(expire, Math.max(0, Math.ceil(deadline - performance.now())));
  };

  /** No request pending: the timer (kept, to be reused) no longer keeps the process alive. */
  const idleTimeout = (): void => {
    timeoutTimer?.unref();
  };

  /** `request` with callbacks (bus.ts `requestWith`): the reply or the error is handed on, no promise. */
  const requestWith = (subject: string, data: Payload, reqOpts: RequestOptions, resolve: (reply: BusMsg) => void, reject: (error: unknown) => void): void => {
    const timeoutMs = reqOpts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    try {
      if (state !== "open") throw new BusClosedError();
      checkSubject(subject);
      if (typeof data === "string") checkPayloadSize(subject, data, maxPayload);
    } catch (error) {
      reject(error);
      return;
    }
    const inbox = `_INBOX.mem.${nextInbox++}`;
    let pending: PendingRequest | undefined;
    const done = (): void => {
      if (pending === undefined) return;
      pending.sub.active = false;
      inboxes.delete(inbox);
      pending = undefined;
      // the last pending request gone: no timer keeps the process alive
      if (inboxes.size === 0) idleTimeout();
    };
    const sub: Sub = {
      id: nextSubId++,
      subject: inbox,
      queue: undefined,
      handler: (reply) => {
        done();
        resolve(reply);
      },
      active: true,
    };
    pending = {
      sub,
      subject,
      timeoutMs,
      deadline: performance.now() + timeoutMs,
      reject: (error) => {
        done();
        reject(error);
      },
    };
    inboxes.set(inbox, pending);
    armTimeout(pending.deadline);
    let receivers = 0;
    try {
      receivers = send(subject, data, inbox);
    } catch (error) {
      pending.reject(error);
      return;
    }
    if (receivers === 0) pending.reject(new BusNoRespondersError({ subject }));
  };

  const request = (subject: string, data: Payload, reqOpts: RequestOptions = {}): Promise<BusMsg> =>
    new Promise<BusMsg>((resolve, reject) => requestWith(subject, data, reqOpts, resolve, reject));

  const flush = (): Promise<void> => {
    if (state === "closed") return Promise.reject(new BusClosedError());
    if (inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      flushWaiters.push(resolve);
    });
  };

  const close = (): Promise<void> => {
    if (closePromise !== undefined) return closePromise;
    state = "closing";
    // Drain: deliveries already queued still run (and may still publish), then everything stops.
    closePromise = new Promise<void>((resolve) => {
      const finish = (): void => {
        state = "closed";
        for (const p of [...inboxes.values()]) p.reject(new BusClosedError());
        if (timeoutTimer !== undefined) clearTimeout(timeoutTimer);
        timeoutTimer = undefined;
        for (const set of literal.values()) for (const s of set) s.active = false;
        for (const s of wildcard) s.active = false;
        literal.clear();
        literalLists.clear();
        wildcard = [];
        resolve();
      };
      if (inFlight === 0) queueMicrotask(finish);
      else flushWaiters.push(finish);
    });
    return closePromise;
  };

  return {
    kind: "memory",
    maxPayload,
    get handlerErrors() {
      return handlerErrors;
    },
    get published() {
      return published;
    },
    publish: (subject, data) => {
      send(subject, data, undefined);
    },
    subscribe,
    request,
    requestWith,
    flush,
    close,
  };
};
