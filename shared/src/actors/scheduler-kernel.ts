/**
 * The scheduler's runtime kernel: the discrete-event loop that owns the virtual clock, the job
 * queues and the accelerators' occupancy, and asks the policy for decisions.
 *
 * It is a deterministic reducer, `kernelStep(state, input) → { state, effects }` (kernel-step.ts):
 * the start, each reply and (live mode) each clock reading go in; requests to model tasks and
 * accelerators, notifications, recorded events and wake-up requests come out as data. It never
 * performs I/O, never reads a clock and never changes the state it is given. Its parts:
 *   kernel-types.ts      configuration, inputs, effects
 *   kernel-state.ts      the state as a value (copy on write), the frame records
 *   kernel-step.ts       the event loop: inject, retire, decide, advance
 *   kernel-semantics.ts  xrbench vs exact semantics, as a strategy
 *   kernel-time.ts       virtual vs live time, as a strategy
 *   kernel-view.ts       the frozen view handed to the policy
 *   domain/remaining-work.ts  remaining-work and cascade figures of the view
 *
 * Supernets (docs/supernets.md): a model may have variants (KernelModel.variants, index 0 = the
 * full model). A job's variant is the one its first dispatch names (default 0) and never changes;
 * the view presents started jobs of variant v > 0 in a ModelView of their own with v's costs, so
 * every policy computes them at the costs they run at; block.dispatch, decision and
 * block.dispatched carry the variant, frame records the variant and its relative accuracy.
 *
 * `SchedulerKernel` is a holder for code that drives a kernel step by step in one place (the direct
 * engine, replay, resume, tests): it keeps the latest state. The scheduler actor keeps the state in
 * its context instead (actors/scheduler.ts).
 */
import type { FrameRecord } from "../domain/metrics";
import type { Policy } from "../policies/types";
import { type KernelState, type TuneStep, initialState } from "./kernel-state";
import type { StepMode } from "./kernel-draft";
import { kernelStep } from "./kernel-step";
import type { KernelConfig, KernelEffect, KernelInput, KernelReply } from "./kernel-types";

export type * from "./kernel-types";
export { XRBENCH_FINISH_TOLERANCE_MS } from "./kernel-semantics";
export { KernelState, initialState } from "./kernel-state";
export { kernelStep } from "./kernel-step";
export { optimisticRemaining } from "../domain/remaining-work";

/** Feeds one input to a kernel (what a replay does). */
export const applyInput = (kernel: SchedulerKernel, input: KernelInput): KernelEffect[] => kernel.apply(input);

export class SchedulerKernel {
  #state: KernelState;
  readonly #mode: StepMode;

  /**
   * A kernel of configuration `cfg` before its start, or holding `state`. A kernel made from a
   * configuration owns its states and steps them in place (transient mode, kernel-draft.ts): take
   * `state` once you stop feeding it. One made from a state steps persistently (the state stays as it was).
   */
  constructor(cfg: KernelConfig | KernelState) {
    this.#state = "fixed" in cfg ? cfg : initialState(cfg);
    this.#mode = "fixed" in cfg ? "persistent" : "transient";
  }

  /** The state after the last input (in transient mode, the next input changes it). */
  get state(): KernelState {
    return this.#state;
  }

  apply(input: KernelInput): KernelEffect[] {
    const next = kernelStep(this.#state, input, this.#mode);
    this.#state = next.state;
    return next.effects;
  }

  start(): KernelEffect[] {
    return this.apply({ kind: "start" });
  }

  /** Apply the reply to request `corr` (live mode: `at` is the clock reading at its arrival). */
  onReply(corr: number, reply: KernelReply, at?: number): KernelEffect[] {
    return this.apply(at === undefined ? { kind: "reply", corr, reply } : { kind: "reply", corr, reply, at });
  }

  /** Live mode: the clock reads `at`. */
  onClock(at: number): KernelEffect[] {
    return this.apply({ kind: "clock", at });
  }

  get cfg(): KernelConfig {
    return this.#state.cfg;
  }
  get time(): number {
    return this.#state.now;
  }
  get finished(): boolean {
    return this.#state.finished;
  }
  get decisions(): number {
    return this.#state.decisions;
  }
  get policy(): Policy {
    return this.#state.policy;
  }
  get tuneLog(): ReadonlyArray<TuneStep> {
    return this.#state.tuneSteps;
  }
  get blockEnergyMJ(): number {
    return this.#state.blockEnergyMJ;
  }
  get blocks(): number {
    return this.#state.blocks;
  }
  get lagMs(): ReadonlyArray<number> {
    return this.#state.lagSamples;
  }
  get blocksInFlight(): number {
    return this.#state.blocksInFlight;
  }
  frameRecords(): FrameRecord[] {
    return this.#state.frameRecords();
  }
}
