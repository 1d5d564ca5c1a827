/**
 * Decoding at the edge: helpers that turn bus strings into typed values with an Effect Schema.
 * A payload that does not decode never reaches the handler; it is counted, passed to `onReject`
 * with issues that name the field (`payload.frame: is missing`), and, when the message was a
 * request, answered with a decode-error reply so the requester learns why:
 *
 *   {"_tag":"error","v":1,"kind":"decode","message":"payload.frame: is missing","issues":[{"path":"payload.frame","message":"is missing"}]}
 *
 * Works over any Bus (memory or NATS); no transport specifics here.
 */

import { Data, Either, ParseResult, Schema } from "effect";
import type { ParseOptions } from "effect/SchemaAST";
import type { Bus, BusMsg, RequestOptions, SubscribeOptions, Subscription } from "./bus";
import type { FailureKind } from "../contracts/errors";
import { ErrorReply, errorReply } from "../contracts/messages";
import { errorMessage } from "../contracts/errors";

export interface DecodeIssue {
  /** Dotted path to the offending field (`payload.frame`); "" for the whole message. */
  readonly path: string;
  readonly message: string;
}

/** A payload that is not valid JSON or does not match its schema. */
export class DecodeFailure extends Data.TaggedError("DecodeFailure")<{
  readonly issues: ReadonlyArray<DecodeIssue>;
}> {
  /** contracts/errors: terminal. */
  get failure(): FailureKind {
    return "terminal";
  }
  override get message(): string {
    return formatIssues(this.issues);
  }
}

/** The responder refused our request payload (it answered with a decode-error reply). */
export class RemoteDecodeError extends Data.TaggedError("RemoteDecodeError")<{
  readonly subject: string;
  readonly issues: ReadonlyArray<DecodeIssue>;
}> {
  /** contracts/errors: terminal. */
  get failure(): FailureKind {
    return "terminal";
  }
  override get message(): string {
    return `'${this.subject}' rejected the request: ${formatIssues(this.issues)}`;
  }
}

const formatIssues = (issues: ReadonlyArray<DecodeIssue>): string =>
  issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ");

const DEFAULT_PARSE_OPTIONS: ParseOptions = { errors: "all" };

/** Issue messages quote the offending value; a huge value must not make the error reply huge. */
const MAX_ISSUE_CHARS = 240;
const MAX_ISSUES = 20;
const clip = (text: string) => (text.length <= MAX_ISSUE_CHARS ? text : `${text.slice(0, MAX_ISSUE_CHARS)}… (${text.length} characters)`);

const toIssues = (error: ParseResult.ParseError): DecodeIssue[] =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .slice(0, MAX_ISSUES)
    .map((issue) => ({
      path: clip(issue.path.map((key) => String(key)).join(".")),
      message: clip(issue.message),
    }));

/**
 * Parses `text` as JSON, then decodes it with `schema` (all issues reported; excess properties
 * ignored unless `options` say otherwise).
 */
export const decodeJson = <A, I>(
  schema: Schema.Schema<A, I>,
  text: string,
  options: ParseOptions = DEFAULT_PARSE_OPTIONS,
): Either.Either<A, DecodeFailure> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = errorMessage(error);
    return Either.left(new DecodeFailure({ issues: [{ path: "", message: clip(`invalid JSON: ${reason}`) }] }));
  }
  try {
    return Either.mapLeft(
      Schema.decodeUnknownEither(schema, options)(json),
      (error) => new DecodeFailure({ issues: toIssues(error) }),
    );
  } catch (error) {
    // e.g. RangeError on pathologically deep nesting: still a refused payload, never a crash
    const reason = errorMessage(error);
    return Either.left(new DecodeFailure({ issues: [{ path: "", message: clip(`undecodable payload: ${reason}`) }] }));
  }
};

/** Encodes `value` with `schema` and serialises it to JSON text (throws if the value is invalid). */
export const encodeJson = <A, I>(schema: Schema.Schema<A, I>, value: A): string =>
  JSON.stringify(Schema.encodeSync(schema)(value));

/** Wire form of the reply sent to a request whose payload did not decode: the contract's `error` reply. */
export const DecodeErrorReply = ErrorReply;
export type DecodeErrorReply = ErrorReply;

export const decodeErrorReply = (failure: DecodeFailure): string =>
  JSON.stringify(errorReply("decode", failure.message, failure.issues));

export interface DecodedSubscription extends Subscription {
  /** Messages that decoded and were passed to `onValue`. */
  readonly accepted: number;
  /** Messages refused (never passed to `onValue`). */
  readonly rejected: number;
}

export interface SubscribeDecodedOptions extends SubscribeOptions {
  readonly parseOptions?: ParseOptions;
}

/**
 * Subscribes and decodes every message with `schema`. Good messages go to `onValue`; bad ones go to
 * `onReject(subject, failure, msg)` only, and a request gets a {@link DecodeErrorReply}.
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
  const parseOptions = opts.parseOptions ?? DEFAULT_PARSE_OPTIONS;
  const sub = bus.subscribe(
    subject,
    (msg) => {
      const decoded = decodeJson(schema, msg.data, parseOptions);
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

/**
 * Sends `payload` (JSON text) as a request and decodes the reply with `replySchema`.
 * Rejects with the bus errors (BusTimeoutError, BusNoRespondersError, …), with RemoteDecodeError
 * when the responder refused the payload, or with DecodeFailure when the reply does not decode.
 */
export const requestDecoded = async <A, I>(
  bus: Bus,
  subject: string,
  payload: string,
  replySchema: Schema.Schema<A, I>,
  opts: RequestOptions & { readonly parseOptions?: ParseOptions } = {},
): Promise<A> => {
  const reply = await bus.request(
    subject,
    payload,
    opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs },
  );
  const decoded = decodeJson(replySchema, reply.data, opts.parseOptions ?? DEFAULT_PARSE_OPTIONS);
  if (Either.isRight(decoded)) return decoded.right;
  const refusal = decodeJson(DecodeErrorReply, reply.data);
  if (Either.isRight(refusal) && refusal.right.kind === "decode") throw new RemoteDecodeError({ subject, issues: refusal.right.issues });
  throw decoded.left;
};
