/**
 * The scheduler actor (XState v5), a pure reducer: `transition(schedulerMachine, snapshot, event)`
 * never changes `snapshot` — the kernel's state in the context is a value (actors/kernel-state.ts),
 * and each input gives a new one (kernelStep). Effects come back as data in the named action
 * `perform`, which only the host carries out (runtime/host).
 *
 * Lifecycle:
 *   registering  waits until every accelerator slot of the hardware (and, with `expectTasks`, every
 *                model task) has registered; an elastic start may begin with fewer slots
 *   running      the kernel's event loop, driven by replies (and, live, clock readings)
 *   draining     every model has released its last frame; the run ends what is queued and running
 *   finished     the kernel reported the end of the run (final)
 *   failed       a request failed or a reply broke the protocol (final; `error` says why)
 */
import { assign, setup } from "xstate";
import type { BlockDispatch, BlockResult } from "../contracts/messages";
import { type KernelState, initialState } from "./kernel-state";
import { kernelStep } from "./kernel-step";
import type { KernelConfig, KernelEffect, KernelInput, KernelReply } from "./kernel-types";

/**
 * A block's reply as the run's cost table gives it (virtual time; runtime/direct.ts
 * `blockPredictor`), or undefined when none is predicted. Pure.
 */
export type BlockPredictor = (cmd: BlockDispatch) => BlockResult | undefined;

export interface SchedulerInput {
  readonly kernel: KernelConfig;
  /**
   * A resumed run (runtime/resume.ts): the kernel's state rebuilt from the run's log and the
   * requests it made that have no reply in the log. Once registration is over they are sent again,
   * instead of starting the kernel.
   */
  readonly restored?: { readonly kernel: KernelState; readonly outstanding: ReadonlyArray<KernelEffect> };
  /** Also wait for every model task to register (separate processes); default false. */
  readonly expectTasks?: boolean;
  /**
   * Speculation (virtual time, runtime/speculation.ts): a block dispatch's reply predicted and fed
   * to the kernel in the same transition, so that a run of steps chained by predicted replies is
   * one event; the host sends the dispatches and confirms each prediction by its accelerator's reply.
   */
  readonly predict?: BlockPredictor;
}

export interface SchedulerContext {
  readonly kernel: KernelState;
  /** Accelerator ids that must register before the run starts. */
  readonly expected: ReadonlyArray<string>;
  readonly registered: ReadonlyArray<string>;
  /** Model tasks that must register before the run starts. */
  readonly expectedTasks: ReadonlyArray<string>;
  readonly registeredTasks: ReadonlyArray<string>;
  readonly error: string | undefined;
  /** Requests a resumed run sends again on entering `running`. */
  readonly outstanding: ReadonlyArray<KernelEffect> | undefined;
  /** The steps of the last event: each input fed to the kernel and what it produced (what `perform` carries out, in order). */
  readonly steps: ReadonlyArray<PerformParams>;
  readonly predict: BlockPredictor | undefined;
}

export type SchedulerEvent =
  | { readonly type: "accel.registered"; readonly acc: string }
  | { readonly type: "task.registered"; readonly model: string }
  /** Elastic start (`serve scheduler --elastic`): run on the accelerators that registered, with this configuration. */
  | { readonly type: "start.with"; readonly kernel: KernelConfig }
  /**
   * `at`: live mode only, the clock reading when the reply arrived. `room`: how many block replies
   * the machine may predict and feed in this event's steps (speculation; default none).
   */
  | { readonly type: "reply"; readonly corr: number; readonly reply: KernelReply; readonly at?: number; readonly room?: number }
  /** Live mode: the host's wake-up after a `wait` effect. */
  | { readonly type: "clock"; readonly at: number }
  | { readonly type: "request.failed"; readonly corr: number; readonly error: string };

/** What `perform` is given: the input, the kernel's time when it arrived, and the effects it produced. */
export interface PerformParams {
  readonly input: KernelInput;
  readonly at: number;
  readonly effects: ReadonlyArray<KernelEffect>;
  /** The requests of a resumed run, sent again (already recorded). */
  readonly resumed?: boolean;
  /** Speculation: the replies predicted for block dispatches of this step (by request), fed to the kernel in later steps of the same event. */
  readonly predicted?: ReadonlyArray<readonly [corr: number, reply: BlockResult]>;
}

/**
 * Feeds `first` to the kernel, then — speculation — each block reply predicted for a dispatch
 * those steps made, in the order the dispatches were made, while `room` lasts and the kernel runs:
 * the steps, with their effects and predictions, for `perform`.
 */
const stepsFrom = (context: SchedulerContext, first: KernelInput, room: number): Pick<SchedulerContext, "kernel" | "steps"> => {
  const steps: PerformParams[] = [];
  const queue: Array<readonly [number, BlockResult]> = [];
  let kernel = context.kernel;
  let input: KernelInput = first;
  for (let next = 0; ; ) {
    const at = kernel.now;
    const step = kernelStep(kernel, input);
    kernel = step.state;
    let predicted: Array<readonly [number, BlockResult]> | undefined;
    if (context.predict !== undefined) {
      for (const e of step.effects) {
        if (room === 0) break;
        if (e.kind !== "request" || e.to.kind !== "accel" || e.message._tag !== "block.dispatch") continue;
        const reply = context.predict(e.message);
        if (reply === undefined) continue;
        (predicted ??= []).push([e.corr, reply]);
        queue.push([e.corr, reply]);
        room--;
      }
    }
    steps.push(predicted === undefined ? { input, at, effects: step.effects } : { input, at, effects: step.effects, predicted });
    if (kernel.finished || next === queue.length) return { kernel, steps };
    const [corr, reply] = queue[next++]!;
    input = { kind: "reply", corr, reply };
  }
};

const inputOf = (event: SchedulerEvent): KernelInput | undefined =>
  event.type === "reply"
    ? event.at === undefined
      ? { kind: "reply", corr: event.corr, reply: event.reply }
      : { kind: "reply", corr: event.corr, reply: event.reply, at: event.at }
    : event.type === "clock"
      ? { kind: "clock", at: event.at }
      : undefined;

const performed = ({ context }: { context: SchedulerContext }): { readonly steps: ReadonlyArray<PerformParams> } => ({ steps: context.steps });

export const schedulerMachine = setup({
  types: {} as { context: SchedulerContext; input: SchedulerInput; events: SchedulerEvent },
  actions: {
    /** Provided by the host: carry out the kernel's effects (requests, notifications, events), step by step. */
    perform: (_, _params: { readonly steps: ReadonlyArray<PerformParams> }) => {},
    /** Feeds the event to the kernel (and, speculating, the replies it predicts): the next kernel state, and the steps for `perform`. */
    step: assign(({ context, event }) => {
      const input = inputOf(event);
      if (input === undefined) return {};
      return stepsFrom(context, input, event.type === "reply" ? (event.room ?? 0) : 0);
    }),
    fail: assign({ error: ({ event }) => (event.type === "request.failed" ? `request ${event.corr} failed: ${event.error}` : "run failed") }),
  },
  guards: {
    allRegistered: ({ context }) =>
      context.expected.every((id) => context.registered.includes(id)) &&
      context.expectedTasks.every((m) => context.registeredTasks.includes(m)),
    kernelFinished: ({ context }) => context.kernel.finished,
    kernelDraining: ({ context }) => context.kernel.draining,
  },
}).createMachine({
  id: "scheduler",
  context: ({ input }) => ({
    kernel: input.restored?.kernel ?? initialState(input.kernel),
    expected: input.kernel.accelerators.map((a) => a.id),
    registered: [],
    expectedTasks: input.expectTasks === true ? input.kernel.models.map((m) => m.name) : [],
    registeredTasks: [],
    error: undefined,
    outstanding: input.restored?.outstanding,
    steps: [],
    predict: input.predict,
  }),
  initial: "registering",
  states: {
    registering: {
      always: { guard: "allRegistered", target: "running" },
      on: {
        "accel.registered": {
          guard: ({ context, event }) => context.expected.includes(event.acc) && !context.registered.includes(event.acc),
          actions: assign({ registered: ({ context, event }) => [...context.registered, event.acc] }),
        },
        "task.registered": {
          guard: ({ context, event }) => context.expectedTasks.includes(event.model) && !context.registeredTasks.includes(event.model),
          actions: assign({ registeredTasks: ({ context, event }) => [...context.registeredTasks, event.model] }),
        },
        "start.with": {
          guard: ({ context, event }) =>
            context.outstanding === undefined &&
            event.kernel.accelerators.every((a) => context.registered.includes(a.id)) &&
            context.expectedTasks.every((m) => context.registeredTasks.includes(m)),
          actions: assign({
            kernel: ({ event }) => initialState(event.kernel),
            expected: ({ event }) => event.kernel.accelerators.map((a) => a.id),
          }),
        },
      },
    },
    running: {
      entry: [
        assign(({ context }) => {
          const input: KernelInput = { kind: "start" };
          const at = context.kernel.now;
          // resumed: the kernel is mid-run; what it was waiting for is asked again (recorded already)
          if (context.outstanding !== undefined) return { steps: [{ input, at, effects: context.outstanding, resumed: true }] };
          return stepsFrom(context, input, 0);
        }),
        { type: "perform", params: performed },
      ],
      always: [
        { guard: "kernelFinished", target: "finished" },
        { guard: "kernelDraining", target: "draining" },
      ],
      on: {
        reply: { actions: ["step", { type: "perform", params: performed }] },
        clock: { actions: ["step", { type: "perform", params: performed }] },
        "request.failed": { target: "failed", actions: "fail" },
      },
    },
    draining: {
      always: { guard: "kernelFinished", target: "finished" },
      on: {
        reply: { actions: ["step", { type: "perform", params: performed }] },
        clock: { actions: ["step", { type: "perform", params: performed }] },
        "request.failed": { target: "failed", actions: "fail" },
      },
    },
    finished: { type: "final" },
    failed: { type: "final" },
  },
});
