/**
 * Helpers for tests that drive the machines as pure reducers (`initialTransition` / `transition`):
 * the effects a step names, picked out by kind, and a model task configuration to start from.
 * Not exported from the package.
 */
import type { BlockDispatch, BlockResult } from "../contracts/messages";
import type { ModelCosts } from "../domain/types";
import { resolvePolicy } from "../policies/catalogue";
import { executeBlock } from "./accelerator-logic";
import type { KernelConfig } from "./kernel-types";
import type { TaskConfig } from "./task-logic";

/** ES_RITNet at 60 FPS in xrbench mode, 700 ms, run "r1", seed 7; `over` replaces fields. */
export const taskConfig = (over: Partial<TaskConfig> = {}): TaskConfig => ({
  run: "r1",
  name: "ES_RITNet",
  fps: 60,
  probability: 1,
  dependsOn: [],
  mode: "xrbench",
  durationMs: 700,
  seed: 7,
  phase: false,
  jitterMs: 0,
  ...over,
});

/** An action a machine step names (what `transition` returns beside the snapshot). */
export interface Action {
  readonly type: string;
  readonly params: unknown;
}

/** The `respond` effects among `actions`, as {replyTo, message}. */
export const responds = <M>(actions: ReadonlyArray<Action>): Array<{ replyTo: string; message: M }> =>
  actions.filter((a) => a.type === "respond").map((a) => a.params as { replyTo: string; message: M });

/** The single `respond` effect among `actions` (throws unless there is exactly one). */
export const onlyReply = <M>(actions: ReadonlyArray<Action>): { replyTo: string; message: M } => {
  const all = responds<M>(actions);
  if (all.length !== 1) throw new Error(`expected exactly one respond effect, got ${all.length}: ${JSON.stringify(actions.map((a) => a.type))}`);
  return all[0]!;
};

/**
 * A kernel configuration for tests that drive the scheduler kernel by hand: one model "M" with
 * `costs` (period 10 ms) on one accelerator "acc0" under fcfs, exact mode, blocks of one layer,
 * 10 ms; `over` replaces fields.
 */
export const oneModelKernel = (run: string, costs: ModelCosts, over: Partial<KernelConfig> = {}): KernelConfig => ({
  run,
  mode: "exact",
  policy: resolvePolicy("fcfs", {}),
  models: [{ name: "M", periodMs: 10, dependsOn: [], costs }],
  accelerators: [{ id: "acc0" }],
  durationMs: 10,
  baseTickMs: 10,
  blockSize: 1,
  missWindowMs: 1000,
  ...over,
});

/** The only accelerator's answer to a dispatch of model "M" with `costs` (accelerator-logic executeBlock); throws on a refusal. */
export const blockResultOf = (costs: ModelCosts, dispatch: BlockDispatch): BlockResult => {
  const reply = executeBlock(new Map([["M", { cycles: costs.cycles[0]!, energyMJ: costs.energyMJ[0]! }]]), dispatch);
  if (reply._tag !== "block.result") throw new Error(reply.message);
  return reply;
};
