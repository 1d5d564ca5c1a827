/**
 * How an error fails (Restate's split of terminal and retryable errors, plus the user's own
 * mistakes): every sdrm3 error class says which kind it is, so whether to retry and which exit code
 * to give are read from the error, not decided by listing classes.
 *
 *   input       the user's input is wrong (a flag, a data file, a name, a log): retrying the same
 *               input fails the same way. The CLI exits 2 and prints the message.
 *   terminal    the run cannot go on (an invariant broke, a peer sent what cannot be used, a lease
 *               was taken over): retrying the same call fails the same way. The CLI exits 1.
 *   retryable   the same call may succeed later (a timeout, no responder yet, a lost connection).
 *
 * An error of another origin (a Node error, a bug) has no kind and counts as terminal.
 */
export type FailureKind = "input" | "terminal" | "retryable";

const KINDS: ReadonlySet<unknown> = new Set<FailureKind>(["input", "terminal", "retryable"]);

/** Base of sdrm3's own error classes (those not built on Effect's Data.TaggedError). */
export abstract class Sdrm3Error extends Error {
  abstract readonly _tag: string;
  abstract readonly failure: FailureKind;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The kind of a failure: the error's own `failure`, or "terminal" for an error that does not say. */
export const failureKind = (e: unknown): FailureKind =>
  typeof e === "object" && e !== null && "failure" in e && KINDS.has(e.failure) ? (e.failure as FailureKind) : "terminal";

/** The same call may succeed when tried again. */
export const isRetryable = (e: unknown): boolean => failureKind(e) === "retryable";

/** The user's input is wrong (the CLI exits 2). */
export const isInputError = (e: unknown): e is Error => e instanceof Error && failureKind(e) === "input";

/** An error's message, for any thrown value. */
export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A run's configuration cannot run (options that contradict each other or the data): the user's input. */
export class RunConfigError extends Sdrm3Error {
  readonly _tag = "RunConfigError";
  readonly failure = "input";
}

/** A run failed: a service stopped it, an actor stopped on an error, a peer broke the protocol. */
export class RunFailedError extends Sdrm3Error {
  readonly _tag = "RunFailedError";
  readonly failure = "terminal";
}
