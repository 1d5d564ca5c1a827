/** replyOrder: replies handed over in request order, whatever order they arrive in (runtime/reply-order.ts). */
import { describe, expect, it } from "vitest";
import { replyOrder } from "./reply-order";

describe("replyOrder", () => {
  it("hands a reply over once every earlier request's reply has been", () => {
    const o = replyOrder<string>();
    for (const c of [3, 4, 7, 9]) o.sent(c);
    expect(o.arrived(7, "g")).toEqual([]);
    expect(o.arrived(4, "d")).toEqual([]);
    expect(o.arrived(3, "c")).toEqual([{ corr: 3, reply: "c" }, { corr: 4, reply: "d" }, { corr: 7, reply: "g" }]);
    o.sent(12);
    expect(o.arrived(12, "l")).toEqual([]);
    expect(o.arrived(9, "i")).toEqual([{ corr: 9, reply: "i" }, { corr: 12, reply: "l" }]);
  });

  it("in order, each reply is handed over as it comes", () => {
    const o = replyOrder<number>();
    for (let c = 1; c <= 100; c++) {
      o.sent(c);
      expect(o.arrived(c, c * 10)).toEqual([{ corr: c, reply: c * 10 }]);
    }
  });

  it("refuses a reply to a request not awaited and a request sent out of order", () => {
    const o = replyOrder<string>();
    o.sent(5);
    expect(() => o.arrived(6, "x")).toThrow("a reply to request 6, which is not awaited");
    expect(() => o.sent(5)).toThrow("request 5 sent after request 5");
    expect(o.arrived(5, "e")).toEqual([{ corr: 5, reply: "e" }]);
    expect(() => o.arrived(5, "e")).toThrow("a reply to request 5, which is not awaited");
  });
});
