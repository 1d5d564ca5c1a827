/**
 * The relay: the one place where bus messages become typed values (STYLE.md practice 3). Every
 * host and service subscribes and requests through it: it decodes each payload with the contract's
 * schema at the edge (a payload that does not decode is refused — answered with an `error` reply
 * naming the field when it was a request, counted, reported — and never reaches an actor), hands
 * good messages on (commands with a reply token), answers through the token, and announces services
 * on the run's control subject. test/relay-boundary.test.ts checks that nothing else decodes bus
 * messages.
 *
 * The in-process fast lane: a message a publisher in this process built as `typed(schema, value)`
 * (runtime/bus.ts) and that arrives where exactly that schema is expected is taken as the value,
 * without parsing or decoding (the type checker already held it to the schema). Over NATS, and for
 * any text payload, every message is decoded.
 */
import { Either } from "effect";
import type { Schema } from "effect";
import type { ParseOptions } from "effect/SchemaAST";
import { type ErrorReply, Registration, RunControl } from "../contracts/messages";
import { Subjects } from "../contracts/subjects";
import { type Bus, type BusMsg, type RequestOptions, type SubscribeOptions, type Subscription, typed } from "./bus";
import { DecodeErrorReply, type DecodeFailure, RemoteDecodeError, decodeErrorReply, decodeJson } from "./codec";

/** Counts of what passed the relay point, per hosted actor. */
export interface RelayStats {
  received: number;
  rejected: number;
  sent: number;
}

/** Called for every payload refused at the edge (for logging and counting). */
export type RejectListener = (subject: string, message: string) => void;

export const newStats = (): RelayStats => ({ received: 0, rejected: 0, sent: 0 });

/** A message as a value of `schema`: a typed in-process message of that schema as is, anything else decoded. */
export const decodeMsg = <A, I>(schema: Schema.Schema<A, I>, msg: Pick<BusMsg, "data" | "typed">, options?: ParseOptions): Either.Either<A, DecodeFailure> =>
  msg.typed !== undefined && msg.typed.schema === schema ? Either.right(msg.typed.value as A) : decodeJson(schema, msg.data, options);

export interface DecodedSubscription extends Subscription {
  /** Messages that decoded and were passed on. */
  readonly accepted: number;
  /** Messages refused (never passed on). */
  readonly rejected: number;
}

export interface SubscribeDecodedOptions extends SubscribeOptions {
  readonly parseOptions?: ParseOptions;
}

/**
 * Subscribes and decodes every message with `schema`. Good messages go to `onValue`; bad ones go to
 * `onReject(subject, failure, msg)` only, and a request gets the contract's decode-error reply.
 * Exceptions from either callback are the bus's to catch and report (its `onError`).
 */
export const subscribeDecoded = <A, I>(
  bus: Bus,
  subject: string,
  schema: Schema.Schema<A, I>,
  onValue: (value: A, msg: BusMsg) => void,
  onReject: (subject: string, failure: DecodeFailure, msg: BusMsg) => void,
  opts: SubscribeDecodedOptions = {},
): DecodedSubscription => {
  let accepted = 0;
  let rejected = 0;
  const sub = bus.subscribe(
    subject,
    (msg) => {
      const decoded = decodeMsg(schema, msg, opts.parseOptions);
      if (Either.isRight(decoded)) {
        accepted++;
        onValue(decoded.right, msg);
        return;
      }
      rejected++;
      if (msg.reply !== undefined) msg.respond(decodeErrorReply(decoded.left));
      onReject(msg.subject, decoded.left, msg);
    },
    opts.queue === undefined ? {} : { queue: opts.queue },
  );
  return {
    subject: sub.subject,
    unsubscribe: () => sub.unsubscribe(),
    get accepted() {
      return accepted;
    },
    get rejected() {
      return rejected;
    },
  };
};

/** A reply decoded with `replySchema`: a value, or why not (a refusal of our request, or a bad reply). */
export const decodeReply = <A, I>(subject: string, reply: BusMsg, replySchema: Schema.Schema<A, I>, parseOptions?: ParseOptions): Either.Either<A, DecodeFailure | RemoteDecodeError> => {
  const decoded = decodeMsg(replySchema, reply, parseOptions);
  if (Either.isRight(decoded)) return decoded;
  const refusal = decodeJson(DecodeErrorReply, reply.data);
  if (Either.isRight(refusal) && refusal.right.kind === "decode") return Either.left(new RemoteDecodeError({ subject, issues: refusal.right.issues }));
  return decoded;
};

/** Sends a request and decodes its reply with `replySchema`: bus errors reject, a reply that does not decode is a Left. */
export const requestEither = <A, I>(
  bus: Bus,
  subject: string,
  payload: Parameters<Bus["request"]>[1],
  replySchema: Schema.Schema<A, I>,
  opts: RequestOptions = {},
): Promise<Either.Either<A, DecodeFailure>> => {
  let sent: Promise<BusMsg>;
  try {
    sent = bus.request(subject, payload, opts);
  } catch (error) {
    return Promise.reject(error);
  }
  // one promise per request on the hot path (no async function around it)
  return sent.then((reply) => decodeMsg(replySchema, reply));
};

/**
 * `requestEither` with callbacks: on a bus that offers `requestWith` (the memory and NATS buses) no promise is
 * made and the reply is decoded and handed to `onDecoded` as it is delivered; elsewhere through
 * `requestEither`. Bus errors go to `onError`.
 */
export const requestEitherWith = <A, I>(
  bus: Bus,
  subject: string,
  payload: Parameters<Bus["request"]>[1],
  replySchema: Schema.Schema<A, I>,
  opts: RequestOptions,
  onDecoded: (decoded: Either.Either<A, DecodeFailure>) => void,
  onError: (error: unknown) => void,
): void => {
  if (bus.requestWith === undefined) requestEither(bus, subject, payload, replySchema, opts).then(onDecoded, onError);
  else bus.requestWith(subject, payload, opts, (reply) => onDecoded(decodeMsg(replySchema, reply)), onError);
};

/**
 * Sends `payload` as a request and decodes the reply with `replySchema`. Rejects with the bus
 * errors (BusTimeoutError, BusNoRespondersError, …), with RemoteDecodeError when the responder
 * refused the payload, or with DecodeFailure when the reply does not decode.
 */
export const requestDecoded = async <A, I>(
  bus: Bus,
  subject: string,
  payload: Parameters<Bus["request"]>[1],
  replySchema: Schema.Schema<A, I>,
  opts: RequestOptions & { readonly parseOptions?: ParseOptions } = {},
): Promise<A> => {
  const reply = await bus.request(subject, payload, opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
  const decoded = decodeReply(subject, reply, replySchema, opts.parseOptions);
  if (Either.isRight(decoded)) return decoded.right;
  throw decoded.left;
};

/**
 * Subscribes `subject` for `schema` messages with the relay's counting: every message counts as
 * received, a refused one as rejected and is reported to `onReject` (and answered, if a request).
 */
export const relaySubscribe = <A, I>(
  bus: Bus,
  subject: string,
  schema: Schema.Schema<A, I>,
  stats: RelayStats | undefined,
  onValue: (value: A, msg: BusMsg) => void,
  onReject: RejectListener | undefined,
  opts: SubscribeOptions = {},
): Subscription =>
  subscribeDecoded(
    bus,
    subject,
    schema,
    (value, msg) => {
      if (stats !== undefined) stats.received++;
      onValue(value, msg);
    },
    (subj, failure) => {
      if (stats !== undefined) {
        stats.received++;
        stats.rejected++;
      }
      onReject?.(subj, failure.message);
    },
    opts,
  );

/**
 * Announces a service on `ctl.register` now and again whenever the scheduler asks
 * (`run.control discover`), so processes may start in any order; calls `onFinished` when the
 * scheduler says the run is over.
 */
export const announce = (
  bus: Bus,
  run: string,
  registration: Registration,
  onReject: RejectListener | undefined,
  onFinished: (() => void) | undefined,
  onStopped?: (reason: string) => void,
): Subscription => {
  const payload = typed(Registration, registration);
  const sub = relaySubscribe(bus, Subjects.control(run, "control"), RunControl, undefined, (control) => {
    if (control.run !== run) return; // another run's control message on this subject: not ours
    if (control.op === "discover") bus.publish(Subjects.control(run, "register"), payload);
    if (control.op === "finished") onFinished?.();
    if (control.op === "stop") (onStopped ?? (() => onFinished?.()))(control.reason ?? "the scheduler stopped the run");
  }, onReject);
  bus.publish(Subjects.control(run, "register"), payload);
  return sub;
};

/**
 * Subscribes `subject`, decodes with `schema`, and hands good commands to `deliver` together with a
 * reply token; bad ones are answered with an `error` reply and reported. `deliver` returns true
 * when it will answer later (a live accelerator's block): the request is kept until `respond` or
 * `forget`. Answers are typed messages of `replySchema`.
 */
export const relayCommands = <A, I, R>(
  bus: Bus,
  subject: string,
  schema: Schema.Schema<A, I>,
  replySchema: Schema.Schema<R | ErrorReply, any>,
  stats: RelayStats,
  deliver: (cmd: A, replyTo: string | undefined) => boolean | void,
  onReject: RejectListener | undefined,
): { sub: Subscription; respond: (replyTo: string, message: R | ErrorReply) => void; forget: (replyTo: string) => void } => {
  // Requests answered later (a live block), by token; the one being delivered is `current` (actors
  // answer during `deliver`: XState runs actions synchronously), kept out of the map.
  const waiting = new Map<string, BusMsg>();
  let seq = 0;
  let current: string | undefined;
  let currentMsg: BusMsg | undefined;
  const sub = relaySubscribe(bus, subject, schema, stats, (cmd, msg) => {
    let token: string | undefined;
    if (msg.reply !== undefined) {
      token = String(++seq);
      current = token;
      currentMsg = msg;
    }
    const later = deliver(cmd, token);
    // a request left unanswered (a notification sent as a request, a fenced accelerator) is not kept in memory
    if (token !== undefined && later === true && current === token) waiting.set(token, msg);
    current = undefined;
    currentMsg = undefined;
  }, onReject);
  /** The request `replyTo`, taken (answered or forgotten): from `current` or from the map. */
  const take = (replyTo: string): BusMsg | undefined => {
    if (replyTo === current) {
      const msg = currentMsg;
      current = undefined;
      currentMsg = undefined;
      return msg;
    }
    const msg = waiting.get(replyTo);
    if (msg !== undefined) waiting.delete(replyTo);
    return msg;
  };
  const respond = (replyTo: string, message: R | ErrorReply) => {
    const msg = take(replyTo);
    if (msg === undefined) return;
    stats.sent++;
    msg.respond(typed(replySchema, message));
  };
  return { sub, respond, forget: (replyTo: string) => void take(replyTo) };
};

