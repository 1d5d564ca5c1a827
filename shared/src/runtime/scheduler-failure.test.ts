/**
 * A scheduler that fails mid-run (an exception in its kernel) fails the run with that reason, and
 * nothing more: XState rethrows an actor's error as an uncaught exception when one of the actor's
 * subscriptions has no error listener, which crashed `sdrm3 run` with a dump of the bundle after it
 * had printed "run failed" (seen with `--clock live --tune`, whose look-ahead threw).
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { type Hosted, RunFailedError, hostAccelerator, hostModelTasks, hostScheduler } from "./host";
import { createMemoryBus } from "./memory-bus";
import { acceleratorCosts, kernelConfigFor, runVariants, taskConfigsFor } from "./setup";
import { resolveRunSpec } from "./spec";

const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => void uncaught.push(err);
beforeEach(() => void process.on("uncaughtException", onUncaught));
afterEach(() => void process.off("uncaughtException", onUncaught));

it("a kernel exception fails the run with its message and is not rethrown as uncaught", async () => {
  const opts = resolveRunSpec({ scenario: "VR_gaming", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 50, seed: 1 });
  const bus = createMemoryBus();
  const failing = { intervalMs: 10, tuner: () => { throw new Error("tuner failed at its first point"); } };
  const scheduler = hostScheduler(bus, kernelConfigFor(opts, "r1", failing), { expectTasks: true });
  const hosted: Hosted[] = [...hostModelTasks(bus, taskConfigsFor(opts, "r1"), {})];
  opts.hardware.accelerators.forEach((spec, i) => hosted.push(hostAccelerator(bus, "r1", spec, acceleratorCosts(opts.costs, i, runVariants(opts)), {})));
  try {
    await expect(scheduler.done).rejects.toThrow(new RunFailedError("scheduler stopped: tuner failed at its first point"));
    await new Promise((resolve) => setTimeout(resolve, 50)); // XState reports an unhandled error on a timer
    expect(uncaught).toEqual([]);
  } finally {
    scheduler.stop();
    for (const h of hosted) h.stop();
    await bus.close();
  }
});
