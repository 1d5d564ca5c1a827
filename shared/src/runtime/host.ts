/**
 * The actor host: the one relay point where messages enter and leave the XState actors
 * (STYLE.md practice 3). It subscribes an actor to its subject, decodes every payload with the
 * contract's schema at the edge (a payload that does not decode is answered with an `error` reply
 * naming the field, counted, and never reaches the machine), and carries out the effects the
 * machines name (`respond`, `perform`).
 *
 * Works over any Bus: the in-memory bus (one process) or NATS (separate processes).
 */
import { type AnyActorRef, createActor } from "xstate";
import { AccelCommand, AccelRegister, AccelReply, type BlockBatch, type BlockResult, type BlockResults, type ErrorReply, PROTOCOL_VERSION, TaskCommand, TaskRegister, TaskReply, errorReply } from "../contracts/messages";
import { Subjects } from "../contracts/subjects";
import { acceleratorMachine } from "../actors/accelerator";
import type { AccelModelCosts } from "../actors/accelerator-logic";
import { modelTaskMachine } from "../actors/model-task";
import type { TaskConfig } from "../actors/task-logic";
import type { AcceleratorSpec } from "../domain/types";
import type { Bus } from "./bus";
import { DEFAULT_COMPLETION_LEAD_MS, type TimerHandle, type Timers, blockClock } from "./live-clock";
import { type RejectListener, type RelayStats, announce, newStats, relayCommands } from "./relay";
import { RunFailedError } from "../contracts/errors";
import { type ActorErrorListener, watchActor } from "./actor-errors";

export { RunFailedError };

export type { RelayStats, RejectListener } from "./relay";

export interface Hosted {
  readonly actor: AnyActorRef;
  readonly stats: RelayStats;
  stop(): void;
}

export interface ServiceHostOptions {
  /** Name of the hosting process (informational, in registrations). */
  readonly host?: string;
  readonly onReject?: RejectListener;
  /** Called when the scheduler announces the end of the run. */
  readonly onFinished?: () => void;
  /** Called when the scheduler aborts the run (`run.control stop`); default: `onFinished`. */
  readonly onStopped?: (reason: string) => void;
  /** An actor hosted here stopped on an error (runtime/actor-errors.ts); default: thrown, naming the actor. */
  readonly onActorError?: ActorErrorListener;
}

export interface AcceleratorHostOptions extends ServiceHostOptions {
  /**
   * Fence: asked before every dispatch is answered; `false` (e.g. this process's slot lease may have
   * lapsed) leaves the dispatch unanswered, so the scheduler retries it to the slot's new owner.
   */
  readonly canServe?: () => boolean;
  /** Wall-clock timers for live blocks (default: coarse setTimeout timers, runtime/live-clock). */
  readonly timers?: Timers;
}

/** The reply subject of a batch's blocks inside the accelerator host (never a bus subject: it has a space). */
const BATCH_REPLY = "(batch block)";

export const hostAccelerator = (
  bus: Bus,
  run: string,
  spec: AcceleratorSpec,
  costs: ReadonlyMap<string, AccelModelCosts>,
  opts: AcceleratorHostOptions = {},
): Hosted => {
  const stats = newStats();
  // live blocks end when the run's timeline says, each completion reported the lead ahead of its end (runtime/live-clock)
  const clock = blockClock(DEFAULT_COMPLETION_LEAD_MS, opts.timers);
  const armed = new Set<TimerHandle>();
  let relay: ReturnType<typeof relayCommands<AccelCommand, unknown, AccelReply>> | undefined;
  // a batch's answers, given by the actor in one `respondBatch` (then sent in one reply, `block.results`)
  let batch: ReadonlyArray<BlockResult | ErrorReply> | undefined;
  // The fence, as the actor sees it: checked before every dispatch and timer it is handed, and sent
  // when it moves the machine (ready ⇄ fenced, spare → ready): two events per block for nothing, else.
  const reportLease = () => {
    const valid = opts.canServe?.();
    if (valid !== undefined && valid !== (actor.getSnapshot().value === "ready")) actor.send({ type: "lease", valid });
  };
  const actor = createActor(
    acceleratorMachine.provide({
      actions: {
        respond: (_, p) => relay?.respond(p.replyTo, p.message),
        respondBatch: (_, p) => {
          batch = p.answers;
        },
        forget: (_, p) => relay?.forget(p.replyTo),
        armTimer: (_, p) => {
          const timer = clock.arm(p, () => {
            armed.delete(timer);
            reportLease();
            actor.send({ type: "block.elapsed", key: p.key });
          });
          armed.add(timer);
        },
      },
    }),
    { input: { id: spec.id, costs }, systemId: `accel:${spec.id}` },
  );
  watchActor(actor, `accelerator ${spec.id} of run ${run}`, opts.onActorError);
  actor.start();
  relay = relayCommands(bus, Subjects.accelCmd(run, spec.id), AccelCommand, AccelReply, stats, (cmd, replyTo) => {
    if (replyTo === undefined) return; // dispatches are requests; a bare publish has no one to answer
    reportLease();
    if (actor.getSnapshot().value !== "ready") return; // spare or fenced: the slot's owner answers the retry
    if (cmd.run !== run || cmd.acc !== spec.id) {
      relay?.respond(replyTo, errorReply("rejected", `block for ${cmd.run}/${cmd.acc} sent to ${run}/${spec.id}`));
      return;
    }
    if (cmd._tag === "block.batch") {
      const reply = runBatch(cmd);
      relay?.respond(replyTo, reply);
      // the stats count dispatches, a batch's blocks as if they came one by one
      stats.received += cmd.blocks.length - 1;
      if (reply._tag === "block.results") stats.sent += reply.results.length - 1;
      return;
    }
    if (cmd.speed !== undefined) clock.arrived(cmd.sentAt ?? cmd.at, cmd.speed);
    actor.send({ type: "block.dispatch", cmd, replyTo });
    // a live block (or a retry joining one) is answered when its latency has passed
    const inProgress = actor.getSnapshot().context.inProgress;
    if (inProgress.size === 0) return;
    for (const block of inProgress.values()) if (block.replyTos.includes(replyTo)) return true;
  }, opts.onReject);
  /** A batch (virtual time only): its blocks through the actor in one event, in order, their answers in one reply. */
  const runBatch = (cmd: BlockBatch): AccelReply => {
    const stray = cmd.blocks.findIndex((b) => b.speed !== undefined || b.run !== run || b.acc !== spec.id);
    if (stray >= 0) {
      const b = cmd.blocks[stray]!;
      const why = b.speed !== undefined ? "a live block (batches are for virtual time)" : `a block for ${b.run}/${b.acc}`;
      return errorReply("rejected", `block.batch to ${run}/${spec.id}: blocks[${stray}] is ${why}`);
    }
    batch = undefined;
    try {
      actor.send({ type: "block.batch", cmds: cmd.blocks, replyTo: BATCH_REPLY });
      const results = batch ?? [];
      if (results.length !== cmd.blocks.length) return errorReply("internal", `block.batch to ${run}/${spec.id}: ${results.length} answers to ${cmd.blocks.length} blocks`);
      // a literal, not BlockResults.make: make validates every result again (a fifth of an in-process run's time)
      const reply: BlockResults = { _tag: "block.results", v: PROTOCOL_VERSION, run, acc: spec.id, results };
      return reply;
    } finally {
      batch = undefined;
    }
  };
  const registration = AccelRegister.make({
    v: PROTOCOL_VERSION,
    run,
    acc: spec.id,
    dataflow: spec.dataflow,
    numPes: spec.numPes,
    nocBw: spec.nocBw,
    costClass: spec.costClass,
    host: opts.host ?? "embedded",
  });
  const control = announce(bus, run, registration, opts.onReject, opts.onFinished, opts.onStopped);
  return {
    actor,
    stats,
    stop: () => {
      control.unsubscribe();
      relay?.sub.unsubscribe();
      for (const t of armed) t.cancel();
      armed.clear();
      actor.stop();
    },
  };
};

const hostTaskActor = (bus: Bus, cfg: TaskConfig, opts: ServiceHostOptions): Hosted => {
  const stats = newStats();
  let respond: (replyTo: string, message: TaskReply) => void = () => {};
  const actor = createActor(modelTaskMachine.provide({ actions: { respond: (_, p) => respond(p.replyTo, p.message) } }), {
    input: cfg,
    systemId: `task:${cfg.name}`,
  });
  watchActor(actor, `model task ${cfg.name} of run ${cfg.run}`, opts.onActorError);
  actor.start();
  const relay = relayCommands(bus, Subjects.taskCmd(cfg.run, cfg.name), TaskCommand, TaskReply, stats, (cmd, replyTo) => {
    if (cmd.run !== cfg.run) {
      if (replyTo !== undefined) relay.respond(replyTo, errorReply("rejected", `command for run ${cmd.run} sent to ${cfg.run}/${cfg.name}`));
      return;
    }
    if (cmd._tag === "task.frameEnded") {
      actor.send({ type: cmd._tag, cmd });
      return;
    }
    if (replyTo === undefined) return;
    actor.send(cmd._tag === "task.tick" ? { type: cmd._tag, cmd, replyTo } : { type: cmd._tag, cmd, replyTo });
  }, opts.onReject);
  respond = relay.respond;
  return { actor, stats, stop: () => { relay.sub.unsubscribe(); actor.stop(); } };
};

/** Hosts one model task actor and announces it. */
export const hostModelTask = (bus: Bus, cfg: TaskConfig, opts: ServiceHostOptions = {}): Hosted =>
  hostModelTasks(bus, [cfg], opts)[0]!;

/** Hosts the model task actors of a workload (one process), announced together. */
export const hostModelTasks = (bus: Bus, cfgs: ReadonlyArray<TaskConfig>, opts: ServiceHostOptions = {}): Hosted[] => {
  if (cfgs.length === 0) return [];
  const run = cfgs[0]!.run;
  for (const cfg of cfgs) Subjects.taskCmd(cfg.run, cfg.name); // refuse a bad name before hosting anything
  const hosted = cfgs.map((cfg) => hostTaskActor(bus, cfg, opts));
  const registration = TaskRegister.make({ v: PROTOCOL_VERSION, run, models: cfgs.map((c) => c.name), host: opts.host ?? "embedded" });
  const control = announce(bus, run, registration, opts.onReject, opts.onFinished, opts.onStopped);
  const first = hosted[0]!;
  hosted[0] = { ...first, stop: () => { control.unsubscribe(); first.stop(); } };
  return hosted;
};

export * from "./scheduler-host";
