/**
 * One run (scenario × hardware × policy × seed × duration) with every actor on one bus: the
 * embedded default uses the in-memory bus in one process, but any Bus works. `runScheduler` hosts
 * only the scheduler (the other actors live in other processes).
 */
import { checkToken } from "../contracts/subjects";
import type { Bus } from "./bus";
import { type Hosted, type SchedulerHostOptions, hostAccelerator, hostModelTasks, hostScheduler } from "./host";
import { createMemoryBus } from "./memory-bus";
import { actorFailures } from "./actor-errors";
import {
  type RunOptions,
  type RunResult,
  acceleratorCosts,
  kernelConfigFor,
  rejectCounter,
  restrictToAccelerators,
  resultOf,
  runVariants,
  taskConfigsFor,
} from "./setup";
import { tuningFor } from "./tuner";
import { blockPredictor } from "./direct";
import { DEFAULT_SPECULATION_DEPTH, checkSpeculationDepth } from "./speculation";
import { type WarmUpReport, warmUpLive } from "./warm-up";

export * from "./setup";

/** A live run's result with its warm-up (runtime/warm-up.ts). */
const withWarmUp = (result: RunResult, warmUp: WarmUpReport | undefined): RunResult =>
  warmUp === undefined || result.live === undefined ? result : { ...result, live: { ...result.live, warmUp } };

/**
 * The scheduler host's speculation (runtime/speculation.ts): block replies predicted from the run's
 * cost table, on every bus: over NATS it hides the round trips, and on either bus a chain of steps
 * fed predicted replies is one event of the scheduler actor and a lane's blocks one event of the
 * accelerator actor (docs/performance.md §1).
 */
const speculating = (opts: RunOptions): Pick<SchedulerHostOptions, "predict" | "speculationDepth"> => {
  const depth = opts.speculate === undefined ? DEFAULT_SPECULATION_DEPTH : checkSpeculationDepth(opts.speculate);
  return depth === 0 ? { speculationDepth: 0 } : { predict: blockPredictor(opts), speculationDepth: depth };
};

/** Hosts only the scheduler of a run (its tasks and accelerators live elsewhere on the bus) and waits for the result. */
export const runScheduler = async (
  opts: RunOptions & {
    readonly bus: Bus;
    readonly expectTasks?: boolean;
    /** Distributed-run knobs: register timeout, slot takeover (docs/distributed.md). */
    readonly host?: Pick<SchedulerHostOptions, "registerTimeoutMs" | "slotTakeoverTimeoutMs" | "dispatchAttemptTimeoutMs" | "onDispatchRetry" | "resume">;
    /**
     * Start with the accelerators that registered when the register timeout passes (at least one),
     * instead of failing; told which ones. The result is then the run on that part of the hardware.
     */
    readonly elastic?: (registered: ReadonlyArray<string>, missing: ReadonlyArray<string>) => void;
    /**
     * A live run's warm-up already done by the caller (`serve scheduler` warms up before it connects
     * and takes the run lease: a warm-up does not yield to timers); without it, done here.
     */
    readonly warmedUp?: WarmUpReport;
  },
): Promise<RunResult> => {
  const run = checkToken("run id", opts.run ?? "embedded");
  // a live scheduler warms up before it hosts anything: its services wait for it to register
  const warmUp = opts.warmedUp ?? (await warmUpLive(opts, runScenario));
  const rejects = rejectCounter(opts.onReject);
  let ran: RunOptions = opts;
  const elastic = opts.elastic;
  const scheduler = hostScheduler(opts.bus, kernelConfigFor(opts, run, tuningFor(opts)), {
    ...opts.host,
    ...(elastic === undefined
      ? {}
      : {
          elastic: (registered: ReadonlyArray<string>, missing: ReadonlyArray<string>) => {
            ran = restrictToAccelerators(opts, registered);
            elastic(registered, missing);
            return kernelConfigFor(ran, run, tuningFor(ran));
          },
        }),
    onReject: rejects.onReject,
    expectTasks: opts.expectTasks ?? true,
    ...speculating(opts),
    ...(opts.onEvent === undefined ? {} : { onEvent: opts.onEvent }),
    ...(opts.observer === undefined ? {} : { observer: opts.observer }),
  });
  try {
    const outcome = await scheduler.done;
    return withWarmUp(resultOf(ran, run, outcome.kernel, rejects.count()), warmUp);
  } finally {
    scheduler.stop();
  }
};

export const runScenario = async (opts: RunOptions): Promise<RunResult> => {
  const run = checkToken("run id", opts.run ?? "embedded");
  const warmUp = await warmUpLive(opts, runScenario);
  const bus = opts.bus ?? createMemoryBus();
  const rejects = rejectCounter(opts.onReject);
  const onReject = rejects.onReject;
  // an actor that stops on an error fails the run, naming it (runtime/actor-errors.ts)
  const { onActorError, failed } = actorFailures();
  const kernel = kernelConfigFor(opts, run, tuningFor(opts));
  const hosted: Hosted[] = [];
  const scheduler = hostScheduler(bus, kernel, {
    onReject,
    expectTasks: true,
    ...speculating(opts),
    // on a private in-memory bus nobody can listen to evt.* subjects: do not encode events for no one
    publishEvents: opts.bus !== undefined,
    ...(opts.onEvent === undefined ? {} : { onEvent: opts.onEvent }),
    ...(opts.observer === undefined ? {} : { observer: opts.observer }),
  });
  try {
    hosted.push(...hostModelTasks(bus, taskConfigsFor(opts, run), { onReject, onActorError }));
    opts.hardware.accelerators.forEach((spec, i) => {
      hosted.push(hostAccelerator(bus, run, spec, acceleratorCosts(opts.costs, i, runVariants(opts)), { onReject, onActorError }));
    });
    const outcome = await Promise.race([scheduler.done, failed]);
    return withWarmUp(resultOf(opts, run, outcome.kernel, rejects.count()), warmUp);
  } finally {
    scheduler.stop();
    for (const h of hosted) h.stop();
    if (opts.bus === undefined) await bus.close();
  }
};
