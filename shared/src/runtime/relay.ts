/**
 * The relay pieces every actor host uses (runtime/host.ts): subscribe a subject, decode each
 * payload with the contract's schema at the edge (a payload that does not decode is answered with
 * an `error` reply naming the field, counted, and never reaches the actor), hand good commands on
 * with a reply token, answer through the token; and the service announcement on the run's control
 * subject.
 */
import { Either } from "effect";
import type { Schema } from "effect";
import { type Registration, RunControl, errorReply } from "../contracts/messages";
import { Subjects } from "../contracts/subjects";
import type { Bus, BusMsg, Subscription } from "./bus";
import { decodeJson } from "./typed-bus";

/** Counts of what passed the relay point, per hosted actor. */
export interface RelayStats {
  received: number;
  rejected: number;
  sent: number;
}

/** Called for every payload refused at the edge (for logging and counting). */
export type RejectListener = (subject: string, message: string) => void;

export const newStats = (): RelayStats => ({ received: 0, rejected: 0, sent: 0 });

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
  const text = JSON.stringify(registration);
  const sub = bus.subscribe(Subjects.control(run, "control"), (msg) => {
    const decoded = decodeJson(RunControl, msg.data);
    if (Either.isLeft(decoded)) {
      onReject?.(msg.subject, decoded.left.message);
      return;
    }
    if (decoded.right.run !== run) return; // another run's control message on this subject: not ours
    if (decoded.right.op === "discover") bus.publish(Subjects.control(run, "register"), text);
    if (decoded.right.op === "finished") onFinished?.();
    if (decoded.right.op === "stop") (onStopped ?? (() => onFinished?.()))(decoded.right.reason ?? "the scheduler stopped the run");
  });
  bus.publish(Subjects.control(run, "register"), text);
  return sub;
};


/**
 * Subscribes `subject`, decodes with `schema`, and hands good commands to `deliver` together with a
 * reply token; bad ones are answered with an `error` reply and reported. `deliver` returns true
 * when it will answer later (a live accelerator's block): the request is kept until `respond` or
 * `forget`.
 */
export const relayCommands = <A, I>(
  bus: Bus,
  subject: string,
  schema: Schema.Schema<A, I>,
  stats: RelayStats,
  deliver: (cmd: A, replyTo: string | undefined) => boolean | void,
  onReject: RejectListener | undefined,
): { sub: Subscription; respond: (replyTo: string, message: unknown) => void; forget: (replyTo: string) => void } => {
  const waiting = new Map<string, BusMsg>();
  let seq = 0;
  const sub = bus.subscribe(subject, (msg) => {
    stats.received++;
    const decoded = decodeJson(schema, msg.data);
    if (Either.isLeft(decoded)) {
      stats.rejected++;
      const failure = decoded.left;
      onReject?.(subject, failure.message);
      if (msg.reply !== undefined) msg.respond(JSON.stringify(errorReply("decode", failure.message, failure.issues)));
      return;
    }
    let token: string | undefined;
    if (msg.reply !== undefined) {
      token = String(++seq);
      waiting.set(token, msg);
    }
    const later = deliver(decoded.right, token);
    // Actors answer during `deliver` (XState runs actions synchronously); a request they leave
    // unanswered (a notification sent as a request, a fenced accelerator) is not kept in memory.
    if (token !== undefined && later !== true) waiting.delete(token);
  });
  const respond = (replyTo: string, message: unknown) => {
    const msg = waiting.get(replyTo);
    if (msg === undefined) return;
    waiting.delete(replyTo);
    stats.sent++;
    msg.respond(JSON.stringify(message));
  };
  return { sub, respond, forget: (replyTo: string) => void waiting.delete(replyTo) };
};

