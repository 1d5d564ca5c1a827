/**
 * The actor host: the one relay point where messages enter and leave the XState actors
 * (STYLE.md practice 3). It subscribes an actor to its subject, decodes every payload with the
 * contract's schema at the edge (a payload that does not decode is answered with an `error` reply
 * naming the field, counted, and never reaches the machine), and carries out the effects the
 * machines name (`respond`, `perform`).
 *
 * Works over any Bus: the in-memory bus (one process) or NATS (separate processes).
 */
import { Either } from "effect";
import { type AnyActorRef, createActor } from "xstate";
import { AccelCommand, AccelRegister, AccelReply, PROTOCOL_VERSION, Registration, RunControl, RunEvent, TaskCommand, TaskRegister, TaskReply, errorReply } from "../contracts/messages";
import { Subjects } from "../contracts/subjects";
import { acceleratorMachine } from "../actors/accelerator";
import type { AccelModelCosts } from "../actors/accelerator-logic";
import { modelTaskMachine } from "../actors/model-task";
import { schedulerMachine } from "../actors/scheduler";
import { type KernelConfig, type KernelEffect, type KernelInput, type KernelReply, SchedulerKernel, type Target } from "../actors/scheduler-kernel";
import type { TaskConfig } from "../actors/task-logic";
import type { AcceleratorSpec } from "../domain/types";
import { type Bus, BusNoRespondersError, BusTimeoutError, type Payload, publishSoon, typed } from "./bus";
import { DEFAULT_COMPLETION_LEAD_MS, type LiveClock, type TimerHandle, type Timers, blockClock, liveClock, liveTimers } from "./live-clock";
import type { DecodeFailure } from "./codec";
import { aheadAnswers } from "./reply-order";
import { type RejectListener, type RelayStats, announce, newStats, relayCommands, relaySubscribe, requestEitherWith } from "./relay";
import { RunFailedError, errorMessage } from "../contracts/errors";
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

export const hostAccelerator = (
  bus: Bus,
  run: string,
  spec: AcceleratorSpec,
  costs: ReadonlyMap<string, AccelModelCosts>,
  opts: AcceleratorHostOptions = {},
): Hosted => {
  const stats = newStats();
  // live blocks run back to back, each completion reported the lead ahead of its end (runtime/live-clock)
  const armBlock = blockClock(DEFAULT_COMPLETION_LEAD_MS, opts.timers);
  const armed = new Set<TimerHandle>();
  let relay: ReturnType<typeof relayCommands<AccelCommand, unknown, AccelReply>> | undefined;
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
        forget: (_, p) => relay?.forget(p.replyTo),
        armTimer: (_, p) => {
          const timer = armBlock(p.wallMs, () => {
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
    actor.send({ type: "block.dispatch", cmd, replyTo });
    // a live block (or a retry joining one) is answered when its latency has passed
    const inProgress = actor.getSnapshot().context.inProgress;
    if (inProgress.size === 0) return;
    for (const block of inProgress.values()) if (block.replyTos.includes(replyTo)) return true;
  }, opts.onReject);
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

export interface SchedulerHostOptions {
  /** Per-request timeout; a request that times out fails the run. */
  readonly requestTimeoutMs?: number;
  readonly onEvent?: (event: RunEvent) => void;
  readonly onReject?: RejectListener;
  /** Publish recorded events on the bus (evt.sched.<type>) for recorders. Default true. */
  readonly publishEvents?: boolean;
  /** Sees every kernel input (before it is applied) and every batch of effects: the event log's tap. */
  readonly observer?: KernelObserver;
  /** Wait for the model tasks to register too (they run in other processes). Default false. */
  readonly expectTasks?: boolean;
  /**
   * Fail the run when the accelerators (and tasks, with `expectTasks`) have not all registered
   * within this many ms (wall clock); the error names the missing slots and tasks. Default: wait forever.
   */
  readonly registerTimeoutMs?: number;
  /**
   * A block dispatch that finds no accelerator (no responders, or no answer within
   * `dispatchAttemptTimeoutMs`) is retried to the same subject, with backoff, until a process
   * (e.g. a hot spare) hosts the slot again; after this many ms the run fails naming the slot.
   * Default {@link DEFAULT_SLOT_TAKEOVER_TIMEOUT_MS}.
   */
  readonly slotTakeoverTimeoutMs?: number;
  /** Wait per dispatch attempt (capped by `requestTimeoutMs`). Default {@link DEFAULT_DISPATCH_ATTEMPT_TIMEOUT_MS}. */
  readonly dispatchAttemptTimeoutMs?: number;
  /** Told about every dispatch attempt that failed and will be retried (for logs). */
  readonly onDispatchRetry?: (info: {
    /** The accelerator slot, or the model task (`task`) asked. */
    readonly slot: string;
    readonly task?: boolean;
    readonly attempt: number;
    readonly error: string;
    readonly waitedMs: number;
  }) => void;
  /**
   * Elastic start: when the register timeout passes with every task and at least one accelerator
   * registered, run on the accelerators that did (`registered`, hardware order) instead of failing;
   * returns the kernel configuration for them (runtime/run restrictToAccelerators).
   */
  readonly elastic?: (registered: ReadonlyArray<string>, missing: ReadonlyArray<string>) => KernelConfig;
  /** Resume a run whose scheduler died (runtime/resume.ts): the rebuilt kernel and its outstanding requests. */
  readonly resume?: { readonly kernel: SchedulerKernel; readonly outstanding: ReadonlyArray<KernelEffect> };
}

export const DEFAULT_SLOT_TAKEOVER_TIMEOUT_MS = 15_000;
export const DEFAULT_DISPATCH_ATTEMPT_TIMEOUT_MS = 2_000;

export interface KernelObserver {
  /** `at`: the kernel's time when the input arrived; `effects`: what applying it produced. */
  step(input: KernelInput, at: number, effects: ReadonlyArray<KernelEffect>): void;
}

export interface SchedulerOutcome {
  readonly kernel: SchedulerKernel;
  readonly stats: RelayStats;
}


const subjectOf = (run: string, to: Target) =>
  to.kind === "task" ? Subjects.taskCmd(run, to.name) : Subjects.accelCmd(run, to.id);

/** Publishes a run.control message on the run's control subject (what the scheduler tells every service). */
export const publishRunControl = (bus: Bus, run: string, op: RunControl["op"], reason?: string): void =>
  bus.publish(Subjects.control(run, "control"), typed(RunControl, RunControl.make({ v: PROTOCOL_VERSION, run, op, ...(reason === undefined ? {} : { reason }) })));

/**
 * Hosts the scheduler: waits for every accelerator of `kernel.accelerators` to register, runs the
 * kernel's event loop over the bus, and resolves when the run is finished.
 */
export const hostScheduler = (
  bus: Bus,
  kernel: KernelConfig,
  opts: SchedulerHostOptions = {},
): { readonly done: Promise<SchedulerOutcome>; readonly actor: AnyActorRef; stop(): void } => {
  const run = kernel.run;
  const stats = newStats();
  // Subjects built (and their tokens checked) once per target and event type, not per message
  const taskSubjects = new Map(kernel.models.map((m) => [m.name, Subjects.taskCmd(run, m.name)]));
  const accelSubjects = new Map(kernel.accelerators.map((a) => [a.id, Subjects.accelCmd(run, a.id)]));
  const targetSubject = (to: Target) => (to.kind === "task" ? taskSubjects.get(to.name) : accelSubjects.get(to.id)) ?? subjectOf(run, to);
  const eventSubjects = new Map<string, string>();
  const eventSubject = (tag: string) => {
    let subject = eventSubjects.get(tag);
    if (subject === undefined) eventSubjects.set(tag, (subject = Subjects.event(run, "sched", tag.replace(".", "-"))));
    return subject;
  };
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  const publishEvents = opts.publishEvents ?? true;
  let settle: { resolve: (o: SchedulerOutcome) => void; reject: (e: Error) => void } | undefined;
  const done = new Promise<SchedulerOutcome>((resolve, reject) => (settle = { resolve, reject }));

  const fail = (corr: number, error: string) => actor.send({ type: "request.failed", corr, error });

  // Live mode: the run clock stamps every reply; `wait` effects set the wake-up.
  const clock: LiveClock | undefined = kernel.live === undefined ? undefined : liveClock(kernel.live.speed);
  // The clock starts when the run's first requests (each model task's first tick) are answered, not
  // when they are sent: a process's first message runs code not run before (hundreds of ms over NATS
  // on a loaded machine), and a clock started earlier began the run with its first frames already
  // late. Until then it reads 0, so those answers arrive at run time 0 (docs/live.md).
  let startRequests: Set<number> | undefined;
  // Nor before the timer thread runs (its start-up would be the first wake-up): it starts now.
  if (clock !== undefined) void liveTimers().ready();
  const startClock = (c: LiveClock) => (liveTimers().running ? c.start() : void liveTimers().ready().then(() => stopped || c.start()));
  let wakeUp: TimerHandle | undefined;
  const wait = (until: number) => {
    wakeUp?.cancel();
    wakeUp = undefined;
    if (clock === undefined || !Number.isFinite(until) || stopped) return;
    wakeUp = liveTimers().after(clock.wallUntil(until), () => {
      wakeUp = undefined;
      if (!stopped) actor.send({ type: "clock", at: clock.now() });
    });
  };

  const takeoverMs = opts.slotTakeoverTimeoutMs ?? DEFAULT_SLOT_TAKEOVER_TIMEOUT_MS;
  const attemptMs = Math.min(timeoutMs, opts.dispatchAttemptTimeoutMs ?? DEFAULT_DISPATCH_ATTEMPT_TIMEOUT_MS);
  let stopped = false;
  type Decoded = Either.Either<TaskReply | AccelReply, DecodeFailure>;
  const attemptOpts = { timeoutMs: attemptMs };
  const attemptWith = (to: Target, subject: string, data: Payload, onDecoded: (d: Decoded) => void, onError: (err: unknown) => void): void =>
    to.kind === "task" ? requestEitherWith(bus, subject, data, TaskReply, attemptOpts, onDecoded, onError) : requestEitherWith(bus, subject, data, AccelReply, attemptOpts, onDecoded, onError);
  /** As a promise (the retries). */
  const attempt = (to: Target, subject: string, data: Payload) => new Promise<Decoded>((resolve, reject) => attemptWith(to, subject, data, resolve, reject));
  /** After a first attempt failed with `first`: the retries (see `requestRetrying`). */
  const retryAfter = async (first: unknown, to: Target, subject: string, data: Payload): Promise<Decoded> => {
    const slot = to.kind === "accel" ? to.id : to.name;
    // The takeover budget is counted, not clocked: every attempt that timed out costs its timeout,
    // every pause its length (no clock is read; a "no responders" answer costs nothing but the pause).
    let spentMs = 0;
    let backoff = 50;
    let err = first;
    // each pass handles the failure of attempt `attemptNo`, then makes the next attempt
    for (let attemptNo = 1; ; attemptNo++) {
      if (!(err instanceof BusNoRespondersError || err instanceof BusTimeoutError) || stopped) throw err;
      if (err instanceof BusTimeoutError) spentMs += attemptMs;
      const reason = err instanceof BusNoRespondersError ? "no responders" : `no answer within ${attemptMs} ms`;
      if (spentMs >= takeoverMs) {
        throw new Error(
          to.kind === "accel"
            ? `accelerator slot ${slot} has no owner: ${attemptNo} dispatch attempts over ${spentMs} ms (last: ${reason}); no process took over the slot within the slot takeover timeout (${takeoverMs} ms)`
            : `model task ${slot} does not answer: ${attemptNo} attempts over ${spentMs} ms (last: ${reason}), beyond the takeover timeout (${takeoverMs} ms)`,
        );
      }
      opts.onDispatchRetry?.({ slot, attempt: attemptNo, error: reason, waitedMs: spentMs, ...(to.kind === "task" ? { task: true } : {}) });
      const pause = Math.min(backoff, takeoverMs - spentMs);
      await new Promise((resolve) => setTimeout(resolve, pause));
      spentMs += pause;
      backoff = Math.min(backoff * 2, 1_000);
      if (stopped) throw err;
      try {
        return await attempt(to, subject, data);
      } catch (e) {
        err = e;
      }
    }
  };
  /**
   * A request, retried while nobody answers (docs/distributed.md, docs/reliability.md): a block
   * dispatch while its slot has no live owner, any request while the bus is down and reconnecting
   * (a lost request or reply). In virtual time a dispatch's reply is a pure function of the
   * dispatch, so whichever process answers — the old owner or a spare with a fresh actor — gives the
   * same reply; tasks and accelerators answer a repeated request as the first time (their hosts
   * keep recent replies by request). The first reply is the only one taken and the kernel never
   * sees the failure. Only "nobody there" errors are retried; on the memory bus they never happen
   * while the actors are hosted, so its behaviour is unchanged. `onDecoded` / `onError` are called
   * once; an answered first attempt costs no promise (relay requestEitherWith, on either bus).
   */
  const requestRetrying = (to: Target, subject: string, data: Payload, onDecoded: (d: Decoded) => void, onError: (err: unknown) => void): void => {
    attemptWith(to, subject, data, onDecoded, (first: unknown) => void retryAfter(first, to, subject, data).then(onDecoded, onError));
  };

  // Virtual time: a step's replies are recorded in request order, its effects with the last, whatever
  // order they came in (over NATS a task's answer and an accelerator's cross): a log's bytes do not
  // depend on the transport. A reply that does not complete its step (no effects) waits for the one that does.
  let heldReplies: Array<{ readonly input: Extract<KernelInput, { kind: "reply" }>; readonly at: number }> = [];
  // virtual time: answers to releases asked ahead, handed over when the kernel waits for one (runtime/reply-order.ts)
  const ahead = aheadAnswers<KernelReply>(() => actor.getSnapshot().context.kernel.waitsForAnswer, (corr, reply) => actor.send({ type: "reply", corr, reply }));
  const record = (observer: KernelObserver, input: KernelInput, at: number, effects: ReadonlyArray<KernelEffect>) => {
    if (clock !== undefined || input.kind !== "reply") return observer.step(input, at, effects);
    if (effects.length === 0) {
      heldReplies.push({ input, at });
      return;
    }
    const step = [...heldReplies, { input, at }].sort((a, b) => a.input.corr - b.input.corr);
    heldReplies = [];
    step.forEach((r, i) => observer.step(r.input, r.at, i === step.length - 1 ? effects : []));
  };

  const perform = (input: KernelInput, at: number, effects: ReadonlyArray<KernelEffect>, resumed = false) => {
    if (input.kind === "start" && clock !== undefined) {
      startRequests = new Set(effects.flatMap((e) => (e.kind === "request" ? [e.corr] : [])));
      if (startRequests.size === 0) startClock(clock);
    }
    if (!resumed && opts.observer !== undefined) record(opts.observer, input, at, effects);
    for (const e of effects) {
      switch (e.kind) {
        case "request": {
          const subject = targetSubject(e.to);
          stats.sent++;
          if (e.ahead === true) ahead.asked(e.corr);
          const data = e.to.kind === "task" ? typed(TaskCommand, e.message as TaskCommand) : typed(AccelCommand, e.message as AccelCommand);
          requestRetrying(
            e.to,
            subject,
            data,
            (decoded) => {
              stats.received++;
              if (Either.isLeft(decoded)) {
                stats.rejected++;
                opts.onReject?.(subject, decoded.left.message);
                fail(e.corr, `malformed reply from ${subject}: ${decoded.left.message}`);
              } else if (decoded.right._tag === "error") {
                fail(e.corr, `${subject} answered ${decoded.right.kind} error: ${decoded.right.message}`);
              } else if (clock === undefined) {
                if (e.ahead === true) ahead.arrived(e.corr, decoded.right);
                else {
                  actor.send({ type: "reply", corr: e.corr, reply: decoded.right });
                  ahead.handOver();
                }
              } else if (!stopped) {
                const at = clock.now();
                if (startRequests?.delete(e.corr) === true && startRequests.size === 0) {
                  startRequests = undefined;
                  startClock(clock); // the last first answer arrives at 0 too
                }
                actor.send({ type: "reply", corr: e.corr, reply: decoded.right, at });
              }
            },
            (err: unknown) => fail(e.corr, `${subject}: ${errorMessage(err)}`),
          );
          break;
        }
        case "notify":
          stats.sent++;
          bus.publish(targetSubject(e.to), typed(TaskCommand, e.message));
          break;
        case "event":
          opts.onEvent?.(e.event);
          if (publishEvents) publishSoon(bus, eventSubject(e.event._tag), typed(RunEvent, e.event));
          break;
        case "wait":
          wait(e.until);
          break;
        case "finished":
          break;
      }
    }
  };

  const actor = createActor(schedulerMachine.provide({ actions: { perform: (_, p) => perform(p.input, p.at, p.effects, p.resumed) } }), {
    input: {
      kernel,
      expectTasks: opts.expectTasks ?? false,
      ...(opts.resume === undefined ? {} : { restored: { kernel: opts.resume.kernel.state, outstanding: opts.resume.outstanding } }),
    },
    systemId: "scheduler",
  });
  const control = (op: RunControl["op"], reason?: string) => publishRunControl(bus, run, op, reason);
  let registerTimer: ReturnType<typeof setTimeout> | undefined;
  // one subscription, with the error listener: XState rethrows an actor's error as unhandled (a crash
  // after the run has already failed cleanly) when any of its subscriptions has none
  actor.subscribe({
    next: (snap) => {
      if (registerTimer !== undefined && snap.value !== "registering") clearTimeout(registerTimer);
      if (snap.status !== "done") return;
      if (snap.value === "finished") settle?.resolve({ kernel: new SchedulerKernel(snap.context.kernel), stats });
      else settle?.reject(new RunFailedError(snap.context.error ?? "run failed"));
    },
    error: (err) => settle?.reject(new RunFailedError(`scheduler stopped: ${errorMessage(err)}`)),
  });
  const sub = relaySubscribe(bus, Subjects.control(run, "register"), Registration, stats, (r) => {
    if (r.run !== run) return;
    if (r._tag === "accel.register") actor.send({ type: "accel.registered", acc: r.acc });
    else for (const model of r.models) actor.send({ type: "task.registered", model });
  }, opts.onReject);
  if (opts.registerTimeoutMs !== undefined) {
    const ms = opts.registerTimeoutMs;
    registerTimer = setTimeout(() => {
      const snap = actor.getSnapshot();
      if (snap.status !== "active" || snap.value !== "registering") return;
      const c = snap.context;
      const slots = c.expected.filter((id) => !c.registered.includes(id));
      const tasks = c.expectedTasks.filter((m) => !c.registeredTasks.includes(m));
      const missing = [
        ...(slots.length === 0 ? [] : [`accelerator slots ${slots.join(", ")} (start \`sdrm3 serve accelerator\`)`]),
        ...(tasks.length === 0 ? [] : [`model tasks ${tasks.join(", ")} (start \`sdrm3 serve workload\`)`]),
      ];
      const present = c.expected.filter((id) => c.registered.includes(id));
      if (opts.elastic !== undefined && tasks.length === 0 && present.length > 0) {
        // --elastic: run on the slots that registered (the others are left out of the run)
        actor.send({ type: "start.with", kernel: opts.elastic(present, slots) });
        return;
      }
      settle?.reject(new RunFailedError(`run ${run}: not everything registered within the register timeout (${ms} ms); never registered: ${missing.join("; ")}`));
    }, ms);
  }
  actor.start();
  control("discover");
  const stop = () => {
    stopped = true;
    clearTimeout(registerTimer);
    wakeUp?.cancel();
    sub.unsubscribe();
    actor.stop();
  };
  void done.then(
    () => {
      control("finished");
      stop();
    },
    (err: unknown) => {
      // tell the other services the run is over, so they exit instead of waiting forever
      try {
        control("stop", errorMessage(err));
      } catch {
        // the bus is already closed
      }
      stop();
    },
  );
  return { done, actor, stop };
};
