/**
 * Virtual time: replies are handed to the scheduler in the order of their requests, whatever order
 * they arrive in (docs/architecture.md "Virtual time"). A step's replies always were applied in
 * request order by the kernel; since releases are asked ahead, a task's answer can be outstanding
 * across steps, and handing it over when it arrives would make where it lands in the run's log
 * depend on message timing (over NATS a task's answer and an accelerator's cross). Handed over in
 * request order, every transport gives the same inputs in the same order: a log's bytes do not
 * depend on the transport. A reply waits only for replies to earlier requests, which were sent
 * before it (a release asked ahead was sent a step or more before the dispatches it could delay).
 */
export interface ReplyOrder<T> {
  /** Request `corr` was sent (requests are sent in increasing corr order). */
  sent(corr: number): void;
  /** The reply to `corr` arrived: the replies now due, in request order (possibly none). */
  arrived(corr: number, reply: T): ReadonlyArray<{ readonly corr: number; readonly reply: T }>;
}

export const replyOrder = <T>(): ReplyOrder<T> => {
  const waiting: number[] = []; // corrs sent and not handed over, increasing
  const arrivedEarly = new Map<number, T>();
  return {
    sent: (corr) => {
      if (waiting.length > 0 && corr <= waiting[waiting.length - 1]!) throw new Error(`request ${corr} sent after request ${waiting[waiting.length - 1]}`);
      waiting.push(corr);
    },
    arrived: (corr, reply) => {
      if (waiting[0] !== corr) {
        if (!waiting.includes(corr)) throw new Error(`a reply to request ${corr}, which is not awaited`);
        arrivedEarly.set(corr, reply);
        return [];
      }
      const due = [{ corr, reply }];
      waiting.shift();
      while (waiting.length > 0 && arrivedEarly.has(waiting[0]!)) {
        const next = waiting.shift()!;
        due.push({ corr: next, reply: arrivedEarly.get(next)! });
        arrivedEarly.delete(next);
      }
      return due;
    },
  };
};
