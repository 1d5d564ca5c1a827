/**
 * Virtual time: when the scheduler's kernel takes the answers to releases asked ahead
 * (docs/architecture.md "Virtual time"). Such a request does not hold its step (the kernel marks
 * it `ahead`), so its answer may arrive in the middle of a later step; handed over on arrival, where
 * it lands in the run's log would depend on message timing (over NATS a task's answer and an
 * accelerator's cross). The host keeps these answers and hands them over only while the kernel
 * waits for one (its step is `waiting`, with no request of a step pending), the oldest request
 * first, one at a time: a point that depends on the kernel's inputs alone, so every transport gives
 * the same inputs in the same order and a log's bytes do not depend on the transport. The answer
 * the kernel waits for was asked a step or more before, so it has usually arrived by then.
 */
export interface AheadAnswers<T> {
  /** Request `corr`, a release asked ahead, was sent (in increasing corr order). */
  asked(corr: number): void;
  /** The answer to `corr` arrived: kept, and handed over if the kernel waits for it. */
  arrived(corr: number, reply: T): void;
  /** Hands over kept answers while the kernel waits (after any other input). */
  handOver(): void;
}

/** `waiting`: whether the kernel waits for an answer; `handTo`: hands one over (feeds it to the kernel). */
export const aheadAnswers = <T>(waiting: () => boolean, handTo: (corr: number, reply: T) => void): AheadAnswers<T> => {
  const asked: number[] = []; // increasing: the order they are handed over in
  const kept = new Map<number, T>();
  const handOver = () => {
    while (asked.length > 0 && kept.has(asked[0]!) && waiting()) {
      const corr = asked.shift()!;
      const reply = kept.get(corr)!;
      kept.delete(corr);
      handTo(corr, reply);
    }
  };
  return {
    asked: (corr) => {
      if (asked.length > 0 && corr <= asked[asked.length - 1]!) throw new Error(`request ${corr} asked after request ${asked[asked.length - 1]}`);
      asked.push(corr);
    },
    arrived: (corr, reply) => {
      if (!asked.includes(corr) || kept.has(corr)) throw new Error(`an answer to request ${corr}, which is not awaited`);
      kept.set(corr, reply);
      handOver();
    },
    handOver,
  };
};
