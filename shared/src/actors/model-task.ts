/**
 * The model task actor (XState v5): releases one model's frames and tracks how they ended.
 * Release rules and the seeded trigger draws are in task-logic (pure); the reply is a named effect
 * (`respond`) provided by the host.
 *
 * Lifecycle: `releasing` (timed releases left) → `reactive` (none left: it releases only on a
 * cascade parent's end, or never) → `stopped`. A request is answered once: the same tick (by its
 * number) or the same parent frame's end again — a resumed scheduler repeating a request its
 * predecessor made — gets the first answer, not a second release (replies remembered in context).
 */
import { assign, enqueueActions, setup } from "xstate";
import type { TaskFrameEnded, TaskParentEnded, TaskReply, TaskTick } from "../contracts/messages";
import type { Outcome } from "../contracts/messages";
import { type ReplyMemory, recall, remember, replyMemory } from "./reply-memory";
import { type TaskConfig, type TaskState, initialTaskState, isExhausted, onParentEnded, onTick } from "./task-logic";

/** How many recent requests a model task remembers, to answer a repeated one identically. */
export const TASK_REPLY_MEMORY = 1024;

export interface ModelTaskContext {
  readonly cfg: TaskConfig;
  readonly state: TaskState;
  readonly ended: { readonly onTime: number; readonly late: number; readonly dropped: number };
  /** Replies to recent requests by request key. */
  readonly recent: ReplyMemory<TaskReply>;
}

export type ModelTaskEvent =
  | { readonly type: "task.tick"; readonly cmd: TaskTick; readonly replyTo: string }
  | { readonly type: "task.parentEnded"; readonly cmd: TaskParentEnded; readonly replyTo: string }
  | { readonly type: "task.frameEnded"; readonly cmd: TaskFrameEnded }
  | { readonly type: "stop" };

/** A request's identity: a tick by its number (an unnamed tick is not repeatable), a parent's frame by the parent and frame. */
export const taskRequestKey = (cmd: TaskTick | TaskParentEnded): string | undefined =>
  cmd._tag === "task.tick" ? (cmd.n === undefined ? undefined : `tick#${cmd.n}`) : `parent:${cmd.parent}:${cmd.frame}`;

const answer = (
  context: ModelTaskContext,
  cmd: TaskTick | TaskParentEnded,
  replyTo: string,
  run: (cfg: TaskConfig, state: TaskState) => readonly [TaskState, TaskReply],
) => {
  const key = taskRequestKey(cmd);
  const cached = key === undefined ? undefined : recall(context.recent, key);
  if (cached !== undefined) return { context: {}, reply: cached };
  const [state, reply] = run(context.cfg, context.state);
  return { context: { state, ...(key === undefined || reply._tag === "error" ? {} : { recent: remember(context.recent, key, reply) }) }, reply };
};

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
  context: ({ input }) => ({ cfg: input, state: initialTaskState(input), ended: { onTime: 0, late: 0, dropped: 0 }, recent: replyMemory(TASK_REPLY_MEMORY) }),
  initial: "releasing",
  on: {
    "task.tick": {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const { context: next, reply } = answer(context, event.cmd, event.replyTo, (cfg, state) => onTick(cfg, state, event.cmd.at));
        enqueue.assign(next);
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
        const { context: next, reply } = answer(context, event.cmd, event.replyTo, (cfg, state) => onParentEnded(cfg, state, event.cmd));
        enqueue.assign(next);
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
