/**
 * The accelerator actor (XState v5): one sub-accelerator that executes blocks.
 *
 * Pure machine: effects are named (`respond`) and provided by the host (runtime/host), which owns
 * the bus. In virtual time the accelerator answers a dispatch at once with the block's completion
 * time and energy; it refuses a block while a previous one is still in flight (it completes after
 * the new block's start), so a scheduler bug can never double-book it.
 */
import { assign, enqueueActions, setup } from "xstate";
import type { AccelReply, BlockDispatch } from "../contracts/messages";
import { type AccelModelCosts, busyRefusal, executeBlock, isFreeFor } from "./accelerator-logic";

export interface AcceleratorInput {
  readonly id: string;
  readonly costs: ReadonlyMap<string, AccelModelCosts>;
}

export interface AcceleratorContext extends AcceleratorInput {
  readonly busyUntil: number;
  readonly blocks: number;
  readonly energyMJ: number;
  readonly refused: number;
}

export type AcceleratorEvent =
  | { readonly type: "block.dispatch"; readonly cmd: BlockDispatch; readonly replyTo: string }
  | { readonly type: "stop" };

export const acceleratorMachine = setup({
  types: {} as { context: AcceleratorContext; input: AcceleratorInput; events: AcceleratorEvent },
  actions: {
    /** Provided by the host: send `message` as the reply to the request identified by `replyTo`. */
    respond: (_, _params: { replyTo: string; message: AccelReply }) => {},
  },
  guards: {
    // XRBench frees an accelerator up to 0.01 ms before its recorded completion; exact timing never does.
    free: ({ context, event }) => event.type === "block.dispatch" && isFreeFor(context.busyUntil, event.cmd),
  },
}).createMachine({
  id: "accelerator",
  context: ({ input }) => ({ ...input, busyUntil: 0, blocks: 0, energyMJ: 0, refused: 0 }),
  initial: "ready",
  states: {
    ready: {
      on: {
        "block.dispatch": [
          {
            guard: "free",
            actions: enqueueActions(({ context, event, enqueue }) => {
              const result = executeBlock(context.costs, event.cmd);
              if (result._tag === "block.result") {
                enqueue.assign({
                  busyUntil: result.completesAt,
                  blocks: context.blocks + 1,
                  energyMJ: context.energyMJ + result.energyMJ,
                });
              }
              enqueue({ type: "respond", params: { replyTo: event.replyTo, message: result } });
            }),
          },
          {
            actions: [
              assign({ refused: ({ context }) => context.refused + 1 }),
              enqueueActions(({ context, event, enqueue }) => {
                enqueue({
                  type: "respond",
                  params: {
                    replyTo: event.replyTo,
                    message: busyRefusal(context.id, context.busyUntil, event.cmd),
                  },
                });
              }),
            ],
          },
        ],
        stop: "stopped",
      },
    },
    stopped: { type: "final" },
  },
});
