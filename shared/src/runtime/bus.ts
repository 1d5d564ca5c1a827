/**
 * The message bus port: the one contract every actor and service uses to talk, whatever carries
 * the bytes. Two implementations honour it: the in-memory bus (./memory-bus, the embedded default)
 * and the NATS bus (../nats). The contract suite in test/bus-contract.test.ts runs against both.
 *
 * Payloads are strings (UTF-8 JSON text), never bytes: the memory bus hands the very same string to
 * every subscriber (zero copy), and only the NATS bus encodes to bytes at its edge. In-process code
 * may also publish a typed message (`typed(value)`, a {@link TypedPayload}): the NATS bus sends its
 * JSON text; the memory bus hands the value itself to its subscribers (`BusMsg.value`) and makes the
 * text only if a subscriber reads `data` — the trusted in-process fast lane (docs/bus.md).
 *
 * Also here: the tagged error types, the error-reporting callback, and the pure subject helpers
 * (validation, wildcard matching, UTF-8 size) that both implementations share so they refuse and
 * accept exactly the same subjects and payloads. See docs/bus.md.
 */

import { Data, type Schema } from "effect";
import type { FailureKind } from "../contracts/errors";

// ---------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------

/**
 * A message built in this process by typed code: a value of the contract schema `schema` (the type
 * checker saw to it), whose JSON text is made once, when first asked for. A receiver in the same
 * process that expects exactly that schema takes `value` without decoding it (runtime/relay.ts);
 * any other receiver decodes the text.
 */
export class TypedPayload {
  private json: string | undefined;
  constructor(
    /** The contract schema the value is of (compared by identity by the receiver). */
    readonly schema: unknown,
    readonly value: unknown,
  ) {}
  get text(): string {
    return (this.json ??= JSON.stringify(this.value));
  }
}

/** A contract value for publishing: see {@link TypedPayload}. */
export const typed = <A>(schema: Schema.Schema<A, any>, value: A): TypedPayload => new TypedPayload(schema, value);

/** What a publisher hands the bus: JSON text, or a typed message. */
export type Payload = string | TypedPayload;

/** The JSON text of a payload. */
export const textOf = (p: Payload): string => (typeof p === "string" ? p : p.text);

/** A delivered message. `data` is the published string itself (JSON text by convention). */
export interface BusMsg {
  readonly subject: string;
  /** UTF-8 JSON text. */
  readonly data: string;
  /** The typed message, when a publisher in this process handed one (memory bus only; never over NATS). */
  readonly typed?: TypedPayload | undefined;
  /** Reply subject when the message is a request; `undefined` for a plain publish. */
  readonly reply: string | undefined;
  /**
   * Publishes `data` to `reply`. Returns `false` (and sends nothing) when there is no reply subject.
   * Throws PayloadTooLargeError / BusClosedError like `publish`.
   */
  respond(data: Payload): boolean;
}

export interface Subscription {
  /** Stops delivery; messages already queued for this subscription are dropped. Idempotent. */
  unsubscribe(): void;
  /** The subject (possibly with wildcards) this subscription was made with. */
  readonly subject: string;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to exactly one member of the group. */
  readonly queue?: string;
}

export interface RequestOptions {
  /** Defaults to {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

export interface Bus {
  readonly kind: "memory" | "nats";
  /**
   * Fire and forget (at most once). Throws synchronously: BusInvalidSubjectError (empty token,
   * whitespace, wildcard), PayloadTooLargeError, BusClosedError.
   */
  publish(subject: string, data: Payload): void;
  /**
   * Optional: `publish` for observers (the scheduler's events), which the bus may hold for a few
   * milliseconds and send with the next message it sends (one socket write instead of two); order
   * with everything else this bus publishes is kept, and `flush`/`close` send what it holds. Same
   * checks and errors as `publish`. Callers without it publish.
   */
  publishSoon?(subject: string, data: Payload): void;
  /** `subject` may use NATS wildcards: `*` (one token) and `>` (one or more trailing tokens). */
  subscribe(subject: string, handler: (msg: BusMsg) => void, opts?: SubscribeOptions): Subscription;
  /**
   * Resolves with the first reply. Rejects with BusTimeoutError, BusNoRespondersError (nobody
   * subscribed: immediately), PayloadTooLargeError, BusInvalidSubjectError or BusClosedError.
   */
  request(subject: string, data: Payload, opts?: RequestOptions): Promise<BusMsg>;
  /**
   * Optional: `request` with callbacks instead of a promise — the same checks, reply and errors,
   * `onReply` called as the reply is delivered (no promise, no microtask hop per request:
   * runtime/relay.ts `requestEitherWith`). Callers fall back to `request`.
   */
  requestWith?(subject: string, data: Payload, opts: RequestOptions, onReply: (reply: BusMsg) => void, onError: (error: unknown) => void): void;
  /** Resolves when everything published so far has been delivered (memory) / acknowledged by the server (NATS). */
  flush(): Promise<void>;
  /** Drains: pending deliveries finish, then the bus refuses all further use. Idempotent. */
  close(): Promise<void>;
}

/** `bus.publishSoon` where the bus has it, else `bus.publish`. */
export const publishSoon = (bus: Bus, subject: string, data: Payload): void =>
  bus.publishSoon === undefined ? bus.publish(subject, data) : bus.publishSoon(subject, data);

/** Same default as the NATS client. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 1_000;

/** NATS server default `max_payload` (1 MiB); the memory bus enforces the same by default. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

export class BusTimeoutError extends Data.TaggedError("BusTimeoutError")<{
  readonly subject: string;
  readonly timeoutMs: number;
}> {
  /** contracts/errors: retryable. */
  get failure(): FailureKind {
    return "retryable";
  }
  override get message(): string {
    return `request to '${this.subject}' timed out after ${this.timeoutMs} ms`;
  }
}

export class BusNoRespondersError extends Data.TaggedError("BusNoRespondersError")<{
  readonly subject: string;
}> {
  /** contracts/errors: retryable. */
  get failure(): FailureKind {
    return "retryable";
  }
  override get message(): string {
    return `no responders for '${this.subject}'`;
  }
}

export class BusClosedError extends Data.TaggedError("BusClosedError")<{}> {
  /** contracts/errors: terminal. */
  get failure(): FailureKind {
    return "terminal";
  }
  override get message(): string {
    return "the bus is closed";
  }
}

export class PayloadTooLargeError extends Data.TaggedError("PayloadTooLargeError")<{
  readonly subject: string;
  /** UTF-8 size of the refused payload. */
  readonly bytes: number;
  readonly limit: number;
}> {
  /** contracts/errors: terminal. */
  get failure(): FailureKind {
    return "terminal";
  }
  override get message(): string {
    return `payload for '${this.subject}' is ${this.bytes} bytes, over the ${this.limit}-byte limit`;
  }
}

export class BusInvalidSubjectError extends Data.TaggedError("BusInvalidSubjectError")<{
  readonly subject: string;
  readonly reason: string;
}> {
  /** contracts/errors: input. */
  get failure(): FailureKind {
    return "input";
  }
  override get message(): string {
    return `invalid subject '${this.subject}': ${this.reason}`;
  }
}

/** Every error the bus itself raises. Anything else escaping a bus call is an unexpected transport failure. */
export type BusError =
  | BusTimeoutError
  | BusNoRespondersError
  | BusClosedError
  | PayloadTooLargeError
  | BusInvalidSubjectError;

/** Where an error reported through {@link BusErrorHandler} came from. */
export interface BusErrorContext {
  /** `handler`: a subscription handler threw. `transport`: an asynchronous error from the transport. */
  readonly kind: "handler" | "transport";
  readonly subject: string | undefined;
}

/** Receives errors that have no caller to be thrown to. Must not throw (if it does, that is ignored). */
export type BusErrorHandler = (error: unknown, ctx: BusErrorContext) => void;

/** The default reporter when no `onError` is given: errors are never silently lost. */
export const consoleBusErrorHandler: BusErrorHandler = (error, ctx) => {
  console.error(`[bus] ${ctx.kind} error${ctx.subject === undefined ? "" : ` on '${ctx.subject}'`}:`, error);
};

/** Calls the reporter, shielding the bus from a reporter that throws. */
export const reportBusError = (onError: BusErrorHandler, error: unknown, ctx: BusErrorContext): void => {
  try {
    onError(error, ctx);
  } catch {
    // a failing reporter must not break delivery
  }
};

// ---------------------------------------------------------------------------------------------
// Subjects and sizes (pure; shared by both implementations)
// ---------------------------------------------------------------------------------------------

const WHITESPACE = /\s/;

/** Returns a reason when `subject` is not a valid subject to publish to, else undefined. */
export const publishSubjectProblem = (subject: string): string | undefined => {
  const problem = subjectShapeProblem(subject);
  if (problem !== undefined) return problem;
  for (const token of subject.split(".")) {
    if (token === "*" || token === ">") return "wildcards are not allowed when publishing";
  }
  return undefined;
};

/** Returns a reason when `subject` is not a valid subscription subject (wildcards allowed), else undefined. */
export const subscribeSubjectProblem = (subject: string): string | undefined => {
  const problem = subjectShapeProblem(subject);
  if (problem !== undefined) return problem;
  const tokens = subject.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? "";
    if (token === ">" && i !== tokens.length - 1) return "'>' must be the last token";
    if (token.length > 1 && (token.includes("*") || token.includes(">"))) {
      return "wildcards must be whole tokens";
    }
  }
  return undefined;
};

const subjectShapeProblem = (subject: string): string | undefined => {
  if (subject.length === 0) return "empty subject";
  if (WHITESPACE.test(subject)) return "contains whitespace";
  if (subject.split(".").some((t) => t.length === 0)) return "empty token";
  return undefined;
};

export const checkPublishSubject = (subject: string): void => {
  const reason = publishSubjectProblem(subject);
  if (reason !== undefined) throw new BusInvalidSubjectError({ subject, reason });
};

export const checkSubscribeSubject = (subject: string): void => {
  const reason = subscribeSubjectProblem(subject);
  if (reason !== undefined) throw new BusInvalidSubjectError({ subject, reason });
};

/** True when the literal `subject` matches the (possibly wildcard) `pattern`, with NATS rules. */
export const subjectMatches = (pattern: string, subject: string): boolean => {
  if (pattern === subject) return true;
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    const pt = p[i];
    if (pt === ">") return s.length > i;
    const st = s[i];
    if (st === undefined) return false;
    if (pt !== "*" && pt !== st) return false;
  }
  return p.length === s.length;
};

export const hasWildcard = (subject: string): boolean =>
  subject.split(".").some((t) => t === "*" || t === ">");

/** UTF-8 byte length of a JS string, computed without encoding it (no allocation). */
export const utf8ByteLength = (text: string): number => {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4; // a surrogate pair is one 4-byte code point
        i++;
      } else bytes += 3; // lone surrogate: encoded as U+FFFD (3 bytes), like TextEncoder
    } else bytes += 3;
  }
  return bytes;
};

/**
 * Throws PayloadTooLargeError when `data` is over `limit` UTF-8 bytes. Cheap for the common case:
 * each UTF-16 unit is at most 3 UTF-8 bytes and at least 1, so most strings are decided by length.
 */
export const checkPayloadSize = (subject: string, data: string, limit: number): void => {
  if (data.length * 3 <= limit) return;
  const bytes = utf8ByteLength(data);
  if (bytes > limit) throw new PayloadTooLargeError({ subject, bytes, limit });
};
