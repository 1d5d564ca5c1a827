/**
 * Errors of hosted actors (accelerator slots, model tasks). Every message a machine is given has
 * been decoded at the edge (relay.ts), so an actor that stops on an error is a bug; without a
 * subscriber XState throws it from a timer, and the process dies with a stack trace that does not
 * say which actor. Hosts watch each actor: the error goes to `onActorError` (a run fails, naming the
 * actor), or, with no handler, is thrown as before but with the actor named.
 */
import type { AnyActorRef } from "xstate";
import { RunFailedError, errorMessage } from "../contracts/errors";

export type ActorErrorListener = (who: string, error: unknown) => void;

/** The error of a run whose actor `who` stopped on `error`. */
export const actorStopped = (who: string, error: unknown): RunFailedError => new RunFailedError(`${who} stopped: ${errorMessage(error)}`);

/** Sends an error that stops `actor` (named `who`) to `onError`; without one, throws it from a timer, naming the actor. */
export const watchActor = (actor: AnyActorRef, who: string, onError: ActorErrorListener | undefined): void => {
  actor.subscribe({
    error: (error) => {
      if (onError !== undefined) onError(who, error);
      else setTimeout(() => { throw actorStopped(who, error); }, 0);
    },
  });
};

/** For a host of a whole run: a promise that rejects when an actor stops on an error, and the listener that does it. */
export const actorFailures = (): { readonly onActorError: ActorErrorListener; readonly failed: Promise<never> } => {
  let fail: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {}); // raced by its owner: never an unhandled rejection once the run is over
  return { onActorError: (who, error) => fail(actorStopped(who, error)), failed };
};
