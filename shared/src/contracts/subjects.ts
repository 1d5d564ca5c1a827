/**
 * Subject names: the addresses of actors on the bus. Pure functions, one per address, so that no
 * other module spells a subject by hand. Every token is validated: a run id, actor id or model name
 * that could inject NATS wildcards (`*`, `>`), extra tokens (`.`) or whitespace is refused.
 *
 * Layout (DESIGN.md §3):
 *   sdrm3.<run>.accel.<id>.cmd        commands to one accelerator actor (request/reply)
 *   sdrm3.<run>.task.<model>.cmd      commands to one model task actor (request/reply)
 *   sdrm3.<run>.sched.in              inputs to the scheduler (registration, control)
 *   sdrm3.<run>.evt.<source>.<type>   recorded events
 *   sdrm3.<run>.ctl.<kind>            lifecycle: registration, heartbeats, run control
 */

export const SUBJECT_ROOT = "sdrm3";

/** Tokens: letters, digits, `_` and `-`, 1–64 characters. */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

export class InvalidSubjectTokenError extends Error {
  constructor(
    readonly what: string,
    readonly value: string,
  ) {
    super(
      `invalid ${what} ${JSON.stringify(value)}: expected 1-64 characters of letters, digits, '_' or '-' (no '.', '*', '>' or whitespace)`,
    );
    this.name = "InvalidSubjectTokenError";
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
  schedIn: (run: string) => `${base(run)}.sched.in`,
  event: (run: string, source: string, type: string) =>
    `${base(run)}.evt.${checkToken("event source", source)}.${checkToken("event type", type)}`,
  allEvents: (run: string) => `${base(run)}.evt.>`,
  control: (run: string, kind: string) => `${base(run)}.ctl.${checkToken("control kind", kind)}`,
  allOfRun: (run: string) => `${base(run)}.>`,
  /**
   * A service's inbox prefix, `_INBOX.<run>.<role>`: its request replies (and JetStream deliveries)
   * arrive under it, so NATS permissions can give each role of a run its own inbox
   * (`_INBOX.<run>.<role>.>`) instead of every user reading every reply on `_INBOX.>`.
   */
  inboxPrefix: (run: string, role: string) => `_INBOX.${checkToken("run id", run)}.${checkToken("service role", role)}`,
} as const;
