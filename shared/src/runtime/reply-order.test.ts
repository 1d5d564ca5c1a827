/** aheadAnswers: answers to releases asked ahead, handed over oldest first while the kernel waits (runtime/reply-order.ts). */
import { describe, expect, it } from "vitest";
import { aheadAnswers } from "./reply-order";

describe("aheadAnswers", () => {
  it("hands over kept answers only while the kernel waits, the oldest request's first, whatever order they arrive in", () => {
    let waiting = false;
    const fed: Array<[number, string]> = [];
    // the kernel in this sketch waits until it has been fed the answer to request 4
    const a = aheadAnswers<string>(() => waiting, (corr, reply) => {
      fed.push([corr, reply]);
      if (corr === 4) waiting = false;
    });
    for (const c of [3, 4, 7]) a.asked(c);
    a.arrived(7, "g");
    a.arrived(4, "d");
    a.arrived(3, "c");
    expect(fed).toEqual([]); // the kernel does not wait: nothing is handed over
    waiting = true;
    a.handOver();
    expect(fed).toEqual([[3, "c"], [4, "d"]]); // 7 stays kept: the kernel stopped waiting
    a.asked(9);
    waiting = true;
    a.handOver();
    expect(fed).toEqual([[3, "c"], [4, "d"], [7, "g"]]); // 9 has not arrived: the kernel waits on
    a.arrived(9, "i");
    expect(fed.at(-1)).toEqual([9, "i"]); // handed over as it arrives, the kernel waiting for it
  });

  it("refuses an answer not awaited, a second answer, and a request asked out of order", () => {
    const a = aheadAnswers<string>(() => false, () => {});
    a.asked(5);
    expect(() => a.arrived(6, "x")).toThrow("an answer to request 6, which is not awaited");
    a.arrived(5, "e");
    expect(() => a.arrived(5, "e")).toThrow("an answer to request 5, which is not awaited");
    expect(() => a.asked(5)).toThrow("request 5 asked after request 5");
  });
});
