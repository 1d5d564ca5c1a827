import { describe, expect, it } from "vitest";
import { BusNoRespondersError, type BusMsg } from "./bus";
import { createMemoryBus } from "./memory-bus";

describe("memory bus: the delivery queue and requests with callbacks", () => {
  it("delivers in publish order, what handlers publish behind what waits, through bursts larger than the queue's first size", async () => {
    const bus = createMemoryBus();
    const seen: string[] = [];
    bus.subscribe("a", (m) => {
      seen.push(`a${m.data}`);
      // each delivery publishes two more on b, which wait behind everything already queued
      bus.publish("b", `${m.data}.1`);
      bus.publish("b", `${m.data}.2`);
    });
    bus.subscribe("b", (m) => seen.push(`b${m.data}`));
    for (let i = 0; i < 40; i++) bus.publish("a", String(i));
    await bus.flush();
    const expected = [
      ...Array.from({ length: 40 }, (_, i) => `a${i}`),
      ...Array.from({ length: 40 }, (_, i) => [`b${i}.1`, `b${i}.2`]).flat(),
    ];
    expect(seen).toEqual(expected);
    await bus.close();
  });

  it("a chain of requests, each asked from the previous reply (one drain for all of them), is answered in order (10 000 round trips)", async () => {
    const bus = createMemoryBus();
    bus.subscribe("echo", (m) => m.respond(m.data));
    const got: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const ask = (n: number): void =>
        bus.requestWith!("echo", String(n), {}, (reply: BusMsg) => {
          got.push(Number(reply.data));
          if (n === 9_999) resolve();
          else ask(n + 1);
        }, reject);
      ask(0);
    });
    expect(got).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    await bus.close();
  });

  it("requestWith hands a failure to its error callback (no responders at once), as request rejects", async () => {
    const bus = createMemoryBus();
    const errors: unknown[] = [];
    bus.requestWith!("nobody.home", "x", {}, () => errors.push("answered?"), (e) => errors.push(e));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(BusNoRespondersError);
    await expect(bus.request("nobody.home", "x")).rejects.toBeInstanceOf(BusNoRespondersError);
    await bus.close();
  });
});
