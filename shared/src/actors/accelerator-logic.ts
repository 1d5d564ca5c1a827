/**
 * What an accelerator does with a block: look up its layers' cost on this accelerator (of the job's
 * supernet variant, when the dispatch names one) and say when it completes and what it costs. Pure.
 *
 * Timing `xrbench-f32` reproduces the XRBench runtime's single-precision times: latency =
 * float32(cycles / 1e6) and completion = float32(start + latency). `exact` uses doubles.
 */
import type { BlockDispatch, BlockResult, ErrorReply } from "../contracts/messages";
import { PROTOCOL_VERSION, errorReply } from "../contracts/messages";
import { XRBENCH_FINISH_TOLERANCE_MS } from "./scheduler-kernel";

/** When the block starts: at its dispatch, or — committed behind other blocks (dispatch queues) — at the `startAt` the dispatch names. */
export const startOf = (cmd: BlockDispatch): number => cmd.startAt ?? cmd.at;

/**
 * The busy rule, the same for the accelerator actor and the direct engine: an accelerator busy
 * until `busyUntil` takes a block starting at or after it (XRBench frees an accelerator up to
 * 0.01 ms before its recorded completion; exact timing never does).
 */
export const isFreeFor = (busyUntil: number, cmd: BlockDispatch): boolean =>
  startOf(cmd) + (cmd.timing === "xrbench-f32" ? XRBENCH_FINISH_TOLERANCE_MS : 0) >= busyUntil;

/** The refusal of a block dispatched to a busy accelerator. */
export const busyRefusal = (acc: string, busyUntil: number, cmd: BlockDispatch): ErrorReply =>
  errorReply("rejected", `accelerator ${acc} is busy until ${busyUntil} ms; block of ${cmd.job} at ${startOf(cmd)} ms refused`);

/** Costs of one model on this accelerator, per layer. */
export interface AccelModelCosts {
  readonly cycles: Float64Array;
  readonly energyMJ: Float64Array;
  /**
   * Supernet variants of the model (index 0 = the full model, equal to cycles / energyMJ): a block
   * dispatched with `variant` v costs variants[v]'s layers. Absent: the model has no variants.
   */
  readonly variants?: ReadonlyArray<{ readonly cycles: Float64Array; readonly energyMJ: Float64Array }>;
}

export const executeBlock = (
  costs: ReadonlyMap<string, AccelModelCosts>,
  cmd: BlockDispatch,
): BlockResult | ErrorReply => {
  const model = costs.get(cmd.model);
  if (model === undefined) return errorReply("rejected", `accelerator ${cmd.acc} has no costs for model ${cmd.model}`);
  const variant = cmd.variant ?? 0;
  const c = variant === 0 ? model : model.variants?.[variant];
  if (c === undefined) {
    return errorReply("rejected", `accelerator ${cmd.acc} has no variant ${variant} of model ${cmd.model} (${model.variants?.length ?? 1} variants)`);
  }
  const end = cmd.firstLayer + cmd.layerCount;
  if (end > c.cycles.length) {
    return errorReply("rejected", `block ${cmd.firstLayer}..${end - 1} is beyond model ${cmd.model}'s ${c.cycles.length} layers`);
  }
  let cycles = 0;
  let energy = 0;
  for (let l = cmd.firstLayer; l < end; l++) {
    cycles += c.cycles[l]!;
    energy += c.energyMJ[l]!;
  }
  const f32 = cmd.timing === "xrbench-f32";
  const latencyMs = f32 ? Math.fround(cycles / 1e6) : cycles / 1e6;
  const start = startOf(cmd);
  const completesAt = f32 ? Math.fround(start + latencyMs) : start + latencyMs;
  return {
    _tag: "block.result",
    v: PROTOCOL_VERSION,
    run: cmd.run,
    acc: cmd.acc,
    job: cmd.job,
    firstLayer: cmd.firstLayer,
    layerCount: cmd.layerCount,
    startedAt: start,
    completesAt,
    latencyMs,
    energyMJ: energy,
  };
};
