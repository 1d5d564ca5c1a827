/**
 * Hosted actors that stop on an error (runtime/actor-errors.ts): the host's listener hears which
 * actor and why; with none, the error is thrown from a timer naming the actor (as XState would
 * throw it, without the name); a whole-run host's failure promise rejects with a RunFailedError.
 * The fault is a cost table that throws when the accelerator computes a block: every input was
 * decoded, so only a bug stops an actor.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AccelModelCosts } from "../actors/accelerator-logic";
import { Subjects } from "../contracts/subjects";
import { RunFailedError } from "../contracts/errors";
import type { AcceleratorSpec } from "../domain/types";
import { actorFailures } from "./actor-errors";
import { hostAccelerator } from "./host";
import { createMemoryBus } from "./memory-bus";

const SPEC: AcceleratorSpec = { index: 0, name: "Acc0", numPes: 4096, nocBw: 256, id: "acc0", dataflow: "WS", costClass: "WS_4096pe_bw256" };

/** A cost table that throws when the accelerator looks a model up (a bug, not an input). */
class PoisonedCosts extends Map<string, AccelModelCosts> {
  override get(_model: string): AccelModelCosts | undefined {
    throw new Error("cost table corrupted");
  }
}

const DISPATCH = JSON.stringify({
  _tag: "block.dispatch", v: 1, run: "r1", at: 4, acc: "acc0", job: "ES_RITNet:0", model: "ES_RITNet", frame: 0, firstLayer: 0, layerCount: 1, timing: "exact",
});

afterEach(() => vi.useRealTimers());

describe("hosted actors that stop on an error", () => {
  it("the host's listener is told which actor and why, and the dispatch goes unanswered", async () => {
    const bus = createMemoryBus();
    const heard: Array<[string, string]> = [];
    const h = hostAccelerator(bus, "r1", SPEC, new PoisonedCosts(), { onActorError: (who, e) => heard.push([who, (e as Error).message]) });
    await expect(bus.request(Subjects.accelCmd("r1", "acc0"), DISPATCH, { timeoutMs: 200 })).rejects.toThrow();
    expect(heard).toEqual([["accelerator acc0 of run r1", "cost table corrupted"]]);
    expect(h.actor.getSnapshot().status).toBe("error");
    h.stop();
    await bus.close();
  });

  it("with no listener, the error is thrown from a timer, naming the actor", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    const bus = createMemoryBus();
    const h = hostAccelerator(bus, "r1", SPEC, new PoisonedCosts());
    void bus.request(Subjects.accelCmd("r1", "acc0"), DISPATCH, { timeoutMs: 60_000 }).catch(() => {});
    // (not vi.waitFor: with fake timers it runs them, and the throw would escape the test)
    for (let i = 0; i < 100 && h.actor.getSnapshot().status !== "error"; i++) await new Promise((r) => setImmediate(r));
    expect(h.actor.getSnapshot().status).toBe("error");
    expect(() => vi.runOnlyPendingTimers()).toThrow(/^accelerator acc0 of run r1 stopped: cost table corrupted$/);
    h.stop();
    await bus.close();
  });

  it("a whole-run host's failure promise rejects with a RunFailedError naming the actor", async () => {
    const { onActorError, failed } = actorFailures();
    onActorError("model task M of run r1", new Error("boom"));
    await expect(failed).rejects.toThrow(new RunFailedError("model task M of run r1 stopped: boom"));
  });
});
