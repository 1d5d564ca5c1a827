/**
 * The model task actor (XState v5): releases one model's frames and tracks how they ended.
 * Release rules and the seeded trigger draws are in task-logic (pure); the reply is a named effect
 * (`respond`) provided by the host.
 */
import { assign, enqueueActions, setup } from "xstate";
import type { TaskFrameEnded, TaskParentEnded, TaskReply, TaskTick } from "../contracts/messages";
import type { Outcome } from "../contracts/messages";
import { type TaskConfig, type TaskState, initialTaskState, isExhausted, onParentEnded, onTick } from "./task-logic";

export interface ModelTaskContext {
  readonly cfg: TaskConfig;
  readonly state: TaskState;
  readonly ended: { readonly onTime: number; readonly late: number; readonly dropped: number };
}

export type ModelTaskEvent =
  | { readonly type: "task.tick"; readonly cmd: TaskTick; readonly replyTo: string }
  | { readonly type: "task.parentEnded"; readonly cmd: TaskParentEnded; readonly replyTo: string }
  | { readonly type: "task.frameEnded"; readonly cmd: TaskFrameEnded }
  | { readonly type: "stop" };

export const modelTaskMachine = setup({
  types: {} as { context: ModelTaskContext; input: TaskConfig; events: ModelTaskEvent },
  actions: {
    /** Provided by the host: reply to the request identified by `replyTo`. */
    respond: (_, _params: { replyTo: string; message: TaskReply }) => {},
  },
  guards: {
    exhausted: ({ context }) => isExhausted(context.cfg, context.state),
  },
}).createMachine({
  id: "modelTask",
  context: ({ input }) => ({ cfg: input, state: initialTaskState(input), ended: { onTime: 0, late: 0, dropped: 0 } }),
  initial: "releasing",
  on: {
    "task.tick": {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const [state, reply] = onTick(context.cfg, context.state, event.cmd.at);
        enqueue.assign({ state });
        enqueue({ type: "respond", params: { replyTo: event.replyTo, message: reply } });
      }),
    },
    "task.frameEnded": {
      actions: assign({
        ended: ({ context, event }) => ({ ...context.ended, [event.cmd.outcome]: context.ended[event.cmd.outcome as Outcome] + 1 }),
      }),
    },
    "task.parentEnded": {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const [state, reply] = onParentEnded(context.cfg, context.state, event.cmd);
        enqueue.assign({ state });
        enqueue({ type: "respond", params: { replyTo: event.replyTo, message: reply } });
      }),
    },
    stop: ".stopped",
  },
  states: {
    releasing: {
      always: { guard: "exhausted", target: "reactive" },
    },
    /** No timed release left: releases only on a cascade parent's end (or never). */
    reactive: {},
    stopped: { type: "final" },
  },
});
