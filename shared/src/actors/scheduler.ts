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
import { type KernelState, initialState } from "./kernel-state";
import { kernelStep } from "./kernel-step";
import type { KernelConfig, KernelEffect, KernelInput, KernelReply } from "./kernel-types";

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
  /** The last input fed to the kernel and what it produced (what `perform` carries out). */
  readonly lastStep: PerformParams | undefined;
}

export type SchedulerEvent =
  | { readonly type: "accel.registered"; readonly acc: string }
  | { readonly type: "task.registered"; readonly model: string }
  /** Elastic start (`serve scheduler --elastic`): run on the accelerators that registered, with this configuration. */
  | { readonly type: "start.with"; readonly kernel: KernelConfig }
  /** `at`: live mode only, the clock reading when the reply arrived. */
  | { readonly type: "reply"; readonly corr: number; readonly reply: KernelReply; readonly at?: number }
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
}

const inputOf = (event: SchedulerEvent): KernelInput | undefined =>
  event.type === "reply"
    ? event.at === undefined
      ? { kind: "reply", corr: event.corr, reply: event.reply }
      : { kind: "reply", corr: event.corr, reply: event.reply, at: event.at }
    : event.type === "clock"
      ? { kind: "clock", at: event.at }
      : undefined;

const performed = ({ context }: { context: SchedulerContext }): PerformParams => context.lastStep!;

export const schedulerMachine = setup({
  types: {} as { context: SchedulerContext; input: SchedulerInput; events: SchedulerEvent },
  actions: {
    /** Provided by the host: carry out the kernel's effects (requests, notifications, events). */
    perform: (_, _params: PerformParams) => {},
    /** Feeds the event to the kernel: the next kernel state, and the step (with its effects) for `perform`. */
    step: assign(({ context, event }) => {
      const input = inputOf(event);
      if (input === undefined) return {};
      const next = kernelStep(context.kernel, input);
      return { kernel: next.state, lastStep: { input, at: context.kernel.now, effects: next.effects } };
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
    lastStep: undefined,
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
          if (context.outstanding !== undefined) return { lastStep: { input, at, effects: context.outstanding, resumed: true } };
          const next = kernelStep(context.kernel, input);
          return { kernel: next.state, lastStep: { input, at, effects: next.effects } };
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
