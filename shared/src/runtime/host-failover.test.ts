/**
 * Failover at the actor host, on the in-memory bus (docs/distributed.md):
 * - a dispatch to a slot with no owner is retried until a fresh actor hosts the slot, and the run
 *   ends exactly as an undisturbed run (the kernel never sees the failure);
 * - without a takeover within `slotTakeoverTimeoutMs` the run fails naming the slot;
 * - `registerTimeoutMs` fails a run whose slots or tasks never register, naming them, and tells
 *   the other services (`run.control stop`);
 * - an accelerator answers a retried dispatch with the same result (not "busy"), and a fenced
 *   accelerator does not answer at all.
 */
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { AccelReply, RunControl } from "../contracts/messages";
import { Subjects } from "../contracts/subjects";
import { BusTimeoutError } from "./bus";
import { type Hosted, RunFailedError, hostAccelerator, hostModelTasks } from "./host";
import { createMemoryBus } from "./memory-bus";
import { type RunResult, acceleratorCosts, runScenario, runScheduler, taskConfigsFor } from "./run";
import { resolveRunSpec } from "./spec";
import { decodeJson } from "./codec";

const SPEC = resolveRunSpec({ scenario: "VR_gaming", hardware: "Quad_8K/WS_OS_WS_OS", policy: "sdrm3", durationMs: 300, seed: 5 });
const RUN = "failover";

const comparable = (r: RunResult) => ({ ...r, run: "" });

/** Hosts the tasks and accelerators of SPEC on `bus`; `accels` can be replaced (a spare taking over). */
const hostAll = (bus: ReturnType<typeof createMemoryBus>) => {
  const tasks = hostModelTasks(bus, taskConfigsFor(SPEC, RUN));
  const accels = new Map<string, Hosted>();
  const host = (id: string) => {
    const i = SPEC.hardware.accelerators.findIndex((a) => a.id === id);
    accels.set(id, hostAccelerator(bus, RUN, SPEC.hardware.accelerators[i]!, acceleratorCosts(SPEC.costs, i)));
  };
  for (const a of SPEC.hardware.accelerators) host(a.id);
  return {
    host,
    kill: (id: string) => {
      accels.get(id)!.stop();
      accels.delete(id);
    },
    stop: () => {
      for (const h of [...tasks, ...accels.values()]) h.stop();
    },
  };
};

describe("dispatch retry until a spare takes the slot (memory bus)", () => {
  it("an accelerator that vanishes mid-run and comes back fresh leaves the result unchanged", async () => {
    const reference = await runScenario({ ...SPEC, run: RUN });
    const bus = createMemoryBus();
    const actors = hostAll(bus);
    const retries: Array<{ slot: string; attempt: number; error: string }> = [];
    let events = 0;
    let killedAt = -1;
    try {
      const result = await runScheduler({
        ...SPEC,
        bus,
        run: RUN,
        host: { onDispatchRetry: ({ slot, attempt, error }) => void retries.push({ slot, attempt, error }) },
        onEvent: () => {
          if (++events === 2000) {
            killedAt = events;
            actors.kill("acc2"); // its owner dies: no subscriber for acc2 any more
            setTimeout(() => actors.host("acc2"), 250); // a spare takes the slot with a fresh actor
          }
        },
      });
      expect(killedAt).toBe(2000);
      expect(retries.length).toBeGreaterThan(0);
      expect(retries.every((r) => r.slot === "acc2" && r.error === "no responders")).toBe(true);
      expect(events).toBeGreaterThan(4000); // the run went on well after the takeover
      expect(comparable(result)).toEqual(comparable(reference));
    } finally {
      actors.stop();
      await bus.close();
    }
  });

  it("fails naming the slot when nobody takes it over within slotTakeoverTimeoutMs", async () => {
    const bus = createMemoryBus();
    const actors = hostAll(bus);
    const controls: string[] = [];
    bus.subscribe(Subjects.control(RUN, "control"), (m) => void controls.push(m.data));
    let referenceEvents = 0;
    await runScenario({ ...SPEC, run: RUN, onEvent: () => void referenceEvents++ });
    let events = 0;
    try {
      await expect(
        runScheduler({
          ...SPEC,
          bus,
          run: RUN,
          host: { slotTakeoverTimeoutMs: 300 },
          onEvent: () => {
            if (++events === 1000) actors.kill("acc1");
          },
        }),
        // (last: no responders — or, for a batch in flight when its owner died, no answer: block replies are predicted, so the run goes on while one is)
      ).rejects.toThrow(/accelerator slot acc1 has no owner: \d+ dispatch attempts over \d+ ms \(last: (no responders|no answer within \d+ ms)\); no process took over the slot within the slot takeover timeout \(300 ms\)/);
      // it failed mid-run, and nothing happened after the failure (the scheduler stopped, it does not retry on)
      const eventsAtFailure = events;
      expect(eventsAtFailure).toBeLessThan(referenceEvents);
      await bus.flush();
      expect(events).toBe(eventsAtFailure);
      const stop = controls.map((c) => decodeJson(RunControl, c)).find((d) => Either.isRight(d) && d.right.op === "stop");
      expect(stop !== undefined && Either.isRight(stop) && stop.right.reason).toMatch(/acc1 has no owner/);
    } finally {
      actors.stop();
      await bus.close();
    }
  });
});

describe("register timeout", () => {
  it("names the slots and tasks that never registered", async () => {
    const bus = createMemoryBus();
    const i = 1;
    const acc1 = hostAccelerator(bus, RUN, SPEC.hardware.accelerators[i]!, acceleratorCosts(SPEC.costs, i));
    const dispatches: string[] = [];
    bus.subscribe(Subjects.accelCmd(RUN, "acc1"), (m) => void dispatches.push(m.data));
    try {
      const err = await runScheduler({ ...SPEC, bus, run: RUN, host: { registerTimeoutMs: 200 } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunFailedError);
      expect((err as Error).message).toBe(
        "run failover: not everything registered within the register timeout (200 ms); never registered: " +
          "accelerator slots acc0, acc2, acc3 (start `sdrm3 serve accelerator`); " +
          "model tasks ES_RITNet, GE_FBNet_C, HT_hand_graph_cnn_half (start `sdrm3 serve workload`)",
      );
      // it gave up at registration: the run never started, not even on the slot that did register
      await bus.flush();
      expect(dispatches).toEqual([]);
    } finally {
      acc1.stop();
      await bus.close();
    }
  });

  it("does not fire once everything has registered", async () => {
    const bus = createMemoryBus();
    const actors = hostAll(bus);
    try {
      const result = await runScheduler({ ...SPEC, bus, run: RUN, host: { registerTimeoutMs: 50 } });
      expect(result.decisions).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 100)); // the timer was cleared: nothing happens
    } finally {
      actors.stop();
      await bus.close();
    }
  });
});

describe("accelerator host: replay and fence", () => {
  const cmd = (at: number) =>
    JSON.stringify({
      _tag: "block.dispatch",
      v: 1,
      run: RUN,
      at,
      acc: "acc0",
      job: "ES_RITNet:0",
      model: "ES_RITNet",
      frame: 0,
      firstLayer: 0,
      layerCount: 2,
      timing: "exact",
    });
  const spec = SPEC.hardware.accelerators[0]!;

  it("answers a retried dispatch with the same result instead of refusing it as busy", async () => {
    const bus = createMemoryBus();
    const h = hostAccelerator(bus, RUN, spec, acceleratorCosts(SPEC.costs, 0));
    try {
      const subject = Subjects.accelCmd(RUN, "acc0");
      const first = decodeJson(AccelReply, (await bus.request(subject, cmd(4))).data);
      const retry = decodeJson(AccelReply, (await bus.request(subject, cmd(4))).data);
      expect(Either.isRight(first) && first.right._tag).toBe("block.result");
      expect(retry).toEqual(first);
      // a different block overlapping the first one is still refused
      const overlap = decodeJson(AccelReply, (await bus.request(subject, cmd(4.001))).data);
      expect(Either.isRight(overlap) && overlap.right._tag).toBe("error");
    } finally {
      h.stop();
      await bus.close();
    }
  });

  it("a fenced accelerator (lease no longer valid) leaves dispatches unanswered", async () => {
    const bus = createMemoryBus();
    let valid = true;
    const h = hostAccelerator(bus, RUN, spec, acceleratorCosts(SPEC.costs, 0), { canServe: () => valid });
    try {
      const subject = Subjects.accelCmd(RUN, "acc0");
      valid = false;
      await expect(bus.request(subject, cmd(4), { timeoutMs: 100 })).rejects.toBeInstanceOf(BusTimeoutError);
      valid = true;
      const r = decodeJson(AccelReply, (await bus.request(subject, cmd(4))).data);
      expect(Either.isRight(r) && r.right._tag).toBe("block.result");
    } finally {
      h.stop();
      await bus.close();
    }
  });
});
