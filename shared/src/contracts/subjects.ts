/**
 * Subject names: the addresses of actors on the bus. Pure functions, one per address, so that no
 * other module spells a subject by hand. Every token is validated: a run id, actor id or model name
 * that could inject NATS wildcards (`*`, `>`), extra tokens (`.`) or whitespace is refused.
 *
 * Layout (DESIGN.md §3):
 *   sdrm3.<run>.accel.<id>.cmd        commands to one accelerator actor (request/reply)
 *   sdrm3.<run>.task.<model>.cmd      commands to one model task actor (request/reply)
 *   sdrm3.<run>.evt.<source>.<type>   recorded events
 *   sdrm3.<run>.ctl.<kind>            lifecycle: registration, run control
 *   sdrm3.<run>.log                   the run's event log in JetStream (stream SDRM3_LOG, subjects sdrm3.*.log)
 *   sdrm3.sweep.run                   sweep jobs for workers (one queue group)
 * and the run's lease bucket (JetStream KV) `sdrm3_leases_<run>`.
 */
import { Sdrm3Error } from "./errors";

export const SUBJECT_ROOT = "sdrm3";

/** Tokens: letters, digits, `_` and `-`, 1–64 characters. */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

export class InvalidSubjectTokenError extends Sdrm3Error {
  readonly _tag = "InvalidSubjectTokenError";
  readonly failure = "input";
  constructor(
    readonly what: string,
    readonly value: string,
  ) {
    super(
      `invalid ${what} ${JSON.stringify(value)}: expected 1-64 characters of letters, digits, '_' or '-' (no '.', '*', '>' or whitespace)`,
    );
  }
}

export const isValidToken = (value: string): boolean => TOKEN.test(value);

export const checkToken = (what: string, value: string): string => {
  if (!TOKEN.test(value)) throw new InvalidSubjectTokenError(what, value);
  return value;
};

const base = (run: string) => `${SUBJECT_ROOT}.${checkToken("run id", run)}`;

export const Subjects = {
  accelCmd: (run: string, acc: string) => `${base(run)}.accel.${checkToken("accelerator id", acc)}.cmd`,
  taskCmd: (run: string, model: string) => `${base(run)}.task.${checkToken("model name", model)}.cmd`,
  /** Every accelerator's commands of a run (observers, fault injection). */
  allAccelCmds: (run: string) => `${base(run)}.accel.*.cmd`,
  /** Every model task's commands of a run. */
  allTaskCmds: (run: string) => `${base(run)}.task.*.cmd`,
  event: (run: string, source: string, type: string) =>
    `${base(run)}.evt.${checkToken("event source", source)}.${checkToken("event type", type)}`,
  allEvents: (run: string) => `${base(run)}.evt.>`,
  control: (run: string, kind: string) => `${base(run)}.ctl.${checkToken("control kind", kind)}`,
  allOfRun: (run: string) => `${base(run)}.>`,
  /** A run's event log in JetStream: message k is line k of its JSONL log. */
  log: (run: string) => `${base(run)}.log`,
  /** The subjects of the log stream: every run's log. */
  allLogs: () => `${SUBJECT_ROOT}.*.log`,
  /** Sweep jobs, shared by every sweep and worker (not per run: a sweep spans runs). */
  sweep: () => `${SUBJECT_ROOT}.sweep.run`,
  /** A run's JetStream KV bucket of accelerator slot leases (a bucket name: '_' joins, NATS buckets allow no '.'). */
  leaseBucket: (run: string) => `${SUBJECT_ROOT}_leases_${checkToken("run id", run)}`,
  /**
   * A service's inbox prefix, `_INBOX.<run>.<role>`: its request replies (and JetStream deliveries)
   * arrive under it, so NATS permissions can give each role of a run its own inbox
   * (`_INBOX.<run>.<role>.>`) instead of every user reading every reply on `_INBOX.>`.
   */
  inboxPrefix: (run: string, role: string) => `_INBOX.${checkToken("run id", run)}.${checkToken("service role", role)}`,
} as const;
