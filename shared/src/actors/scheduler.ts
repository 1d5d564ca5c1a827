/**
 * The scheduler actor (XState v5). Lifecycle: `registering` (waits until every accelerator slot of
 * the hardware has registered) → `running` (the kernel's event loop, driven by replies) →
 * `finished`, or `failed` when a request fails or a reply breaks the protocol.
 *
 * The kernel (scheduler-kernel) holds the runtime state and returns effects as data; the machine
 * hands them to the named effect `perform`, which the host provides (runtime/host).
 */
import { assign, enqueueActions, setup } from "xstate";
import { type KernelEffect, type KernelInput, type KernelReply, SchedulerKernel, applyInput } from "./scheduler-kernel";
import type { KernelConfig } from "./scheduler-kernel";

export interface SchedulerInput {
  readonly kernel: KernelConfig;
  /**
   * A resumed run (runtime/resume.ts): the kernel rebuilt from the run's log and the requests it
   * made that have no reply in the log. Once registration is over they are sent again, instead
   * of starting the kernel.
   */
  readonly restored?: { readonly kernel: SchedulerKernel; readonly outstanding: ReadonlyArray<KernelEffect> };
  /** Also wait for every model task to register (separate processes); default false. */
  readonly expectTasks?: boolean;
}

export interface SchedulerContext {
  readonly kernel: SchedulerKernel;
  /** Accelerator ids that must register before the run starts. */
  readonly expected: ReadonlyArray<string>;
  readonly registered: ReadonlyArray<string>;
  /** Model tasks that must register before the run starts. */
  readonly expectedTasks: ReadonlyArray<string>;
  readonly registeredTasks: ReadonlyArray<string>;
  readonly error: string | undefined;
  readonly restored: SchedulerInput["restored"];
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

export const schedulerMachine = setup({
  types: {} as { context: SchedulerContext; input: SchedulerInput; events: SchedulerEvent },
  actions: {
    /** Provided by the host: carry out the kernel's effects (requests, notifications, events). */
    perform: (_, _params: { input: KernelInput; at: number; effects: ReadonlyArray<KernelEffect>; resumed?: boolean }) => {},
  },
  guards: {
    allRegistered: ({ context }) =>
      context.expected.every((id) => context.registered.includes(id)) &&
      context.expectedTasks.every((m) => context.registeredTasks.includes(m)),
    kernelFinished: ({ context }) => context.kernel.finished,
  },
}).createMachine({
  id: "scheduler",
  context: ({ input }) => ({
    kernel: input.restored?.kernel ?? new SchedulerKernel(input.kernel),
    expected: input.kernel.accelerators.map((a) => a.id),
    registered: [],
    expectedTasks: input.expectTasks === true ? input.kernel.models.map((m) => m.name) : [],
    registeredTasks: [],
    error: undefined,
    restored: input.restored,
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
            context.restored === undefined &&
            event.kernel.accelerators.every((a) => context.registered.includes(a.id)) &&
            context.expectedTasks.every((m) => context.registeredTasks.includes(m)),
          actions: assign({
            kernel: ({ event }) => new SchedulerKernel(event.kernel),
            expected: ({ event }) => event.kernel.accelerators.map((a) => a.id),
          }),
        },
      },
    },
    running: {
      entry: enqueueActions(({ context, enqueue }) => {
        const input: KernelInput = { kind: "start" };
        const at = context.kernel.time;
        if (context.restored !== undefined) {
          // resumed: the kernel is mid-run; what it was waiting for is asked again (recorded already)
          enqueue({ type: "perform", params: { input, at, effects: context.restored.outstanding, resumed: true } });
          return;
        }
        enqueue({ type: "perform", params: { input, at, effects: applyInput(context.kernel, input) } });
      }),
      always: { guard: "kernelFinished", target: "finished" },
      on: {
        reply: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const input: KernelInput =
              event.at === undefined ? { kind: "reply", corr: event.corr, reply: event.reply } : { kind: "reply", corr: event.corr, reply: event.reply, at: event.at };
            const at = context.kernel.time;
            enqueue({ type: "perform", params: { input, at, effects: applyInput(context.kernel, input) } });
          }),
        },
        clock: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const input: KernelInput = { kind: "clock", at: event.at };
            const at = context.kernel.time;
            enqueue({ type: "perform", params: { input, at, effects: applyInput(context.kernel, input) } });
          }),
        },
        "request.failed": {
          target: "failed",
          actions: assign({ error: ({ event }) => `request ${event.corr} failed: ${event.error}` }),
        },
      },
    },
    finished: { type: "final" },
    failed: { type: "final" },
  },
});
