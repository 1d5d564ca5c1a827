/**
 * The message codec: JSON text ↔ contract values with an Effect Schema, and the failures it
 * reports (issues that name the field: `payload.frame: is missing`). Bus messages are decoded only
 * by the relay (runtime/relay.ts), which uses this; files have their own readers (data/, event-log/).
 */

import { Data, Either, ParseResult, Schema } from "effect";
import type { ParseOptions } from "effect/SchemaAST";
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
