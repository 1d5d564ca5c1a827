/**
 * The direct engine: the same run computed without actors or a bus — the scheduler kernel fed
 * synchronously by the model tasks' and accelerators' pure logic (task-logic, accelerator-logic).
 *
 * It is not the emulated system (that is `runScenario`: XState actors exchanging decoded messages
 * on a bus); it is the scheduler's own model of it, used where many short simulations are needed —
 * the online tuner's look-ahead and `sdrm3 tune --grid`. Because the kernel applies replies in
 * request order and the actors' logic is pure, both engines give identical results; a test holds
 * them to it (test/direct-engine.test.ts).
 */
import { busyRefusal, executeBlock, isFreeFor } from "../actors/accelerator-logic";
import { type KernelEffect, type KernelReply, SchedulerKernel, type Tuner } from "../actors/scheduler-kernel";
import { type TaskState, initialTaskState, onParentEnded, onTick } from "../actors/task-logic";
import type { TaskConfig } from "../actors/task-logic";
import { acceleratorCosts, kernelConfigFor, resultOf, runVariants, taskConfigsFor, type RunOptions, type RunResult } from "./setup";
import { RunConfigError } from "../contracts/errors";
import type { BlockPredictor } from "./speculation";

/** Each accelerator's cost table for `opts`, by id: what its actor computes blocks with. */
const acceleratorCostsById = (opts: RunOptions) =>
  new Map(opts.hardware.accelerators.map((spec, i) => [spec.id, acceleratorCosts(opts.costs, i, runVariants(opts))]));

/**
 * An accelerator's reply to a dispatch by the run's cost table (executeBlock, the accelerator's own
 * logic): the scheduler's predictions (runtime/speculation.ts). None for an accelerator the run does
 * not have, or a block it would refuse.
 */
export const blockPredictor = (opts: RunOptions): BlockPredictor => {
  const accelerators = acceleratorCostsById(opts);
  return (cmd) => {
    const costs = accelerators.get(cmd.acc);
    if (costs === undefined) return undefined;
    const reply = executeBlock(costs, cmd);
    return reply._tag === "block.result" ? reply : undefined;
  };
};

/**
 * The model tasks' and accelerators' answers to a kernel's requests, computed by their pure logic
 * (task-logic, accelerator-logic) with their state kept here: what the actors would answer, in the
 * order the requests are given. The direct engine answers with it; tests that drive a kernel by
 * hand do too.
 */
export const pureResponders = (opts: RunOptions, run: string): ((request: Extract<KernelEffect, { kind: "request" }>) => KernelReply) => {
  const tasks = new Map<string, { cfg: TaskConfig; state: TaskState }>(
    taskConfigsFor(opts, run).map((cfg) => [cfg.name, { cfg, state: initialTaskState(cfg) }]),
  );
  const accelerators = acceleratorCostsById(opts);
  const busyUntil = new Map<string, number>();
  return (e) => {
    const m = e.message;
    if (m._tag === "block.dispatch") {
      // the accelerator actor's rule: a block dispatched while the accelerator is busy is refused
      const busy = busyUntil.get(m.acc) ?? 0;
      const reply = isFreeFor(busy, m) ? executeBlock(accelerators.get(m.acc)!, m) : busyRefusal(m.acc, busy, m);
      if (reply._tag === "error") throw new Error(`accelerator ${m.acc}: ${reply.message}`);
      busyUntil.set(m.acc, reply.completesAt);
      return reply;
    }
    const task = tasks.get(e.to.kind === "task" ? e.to.name : "")!;
    if (m._tag === "task.tick") {
      const [state, reply] = onTick(task.cfg, task.state, m.at);
      task.state = state;
      return reply;
    }
    if (m._tag === "task.parentEnded") {
      const [state, reply] = onParentEnded(task.cfg, task.state, m);
      task.state = state;
      return reply;
    }
    throw new Error(`unexpected request ${m._tag}`);
  };
};

/** Runs `opts` on the direct engine; `tuner` enables online tuning (the look-ahead never nests one). */
export const simulateDirect = (opts: RunOptions, tuner?: { readonly tuner: Tuner; readonly intervalMs: number }): RunResult => {
  const run = opts.run ?? "direct";
  if (opts.live !== undefined) throw new RunConfigError("the direct engine runs in virtual time only; live mode needs the actor system (runScenario)");
  const kernel = new SchedulerKernel(kernelConfigFor(opts, run, tuner));
  const answer = pureResponders(opts, run);

  let effects: KernelEffect[] = kernel.start();
  while (effects.length > 0) {
    const replies: Array<[number, KernelReply]> = [];
    for (const e of effects) {
      if (e.kind === "request") replies.push([e.corr, answer(e)]);
      else if (e.kind === "event") opts.onEvent?.(e.event);
    }
    effects = [];
    for (const [corr, reply] of replies) effects.push(...kernel.onReply(corr, reply));
  }
  if (!kernel.finished) throw new Error("direct engine: the kernel stopped before the end of the run");
  return resultOf(opts, run, kernel, 0);
};
