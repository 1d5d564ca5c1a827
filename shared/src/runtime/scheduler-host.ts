/**
 * The scheduler's host: registration, the kernel's event loop over the bus (requests with retries,
 * replies, notifications, recorded events), the live clock's wake-ups, and — in virtual time —
 * the order in which replies reach the kernel (runtime/reply-order.ts) and speculation
 * (runtime/speculation.ts). The accelerator and model-task hosts: runtime/host.ts.
 */
import { Either } from "effect";
import { type AnyActorRef, createActor } from "xstate";
import { AccelCommand, AccelReply, type BlockBatch, type BlockDispatch, MAX_BATCH_BLOCKS, PROTOCOL_VERSION, Registration, RunControl, RunEvent, TaskCommand, TaskReply } from "../contracts/messages";
import { Subjects } from "../contracts/subjects";
import { type PerformParams, schedulerMachine } from "../actors/scheduler";
import { type KernelConfig, type KernelEffect, type KernelInput, type KernelReply, SchedulerKernel, type Target } from "../actors/scheduler-kernel";
import { type Bus, BusNoRespondersError, BusTimeoutError, type Payload, publishSoon, typed } from "./bus";
import { type LiveClock, type TimerHandle, liveClock, liveTimers } from "./live-clock";
import type { DecodeFailure } from "./codec";
import { aheadAnswers } from "./reply-order";
import { actorStopped } from "./actor-errors";
import { type BlockPredictor, DEFAULT_SPECULATION_DEPTH, dispatchLanes, speculation } from "./speculation";
import { type RejectListener, type RelayStats, newStats, relaySubscribe, requestEitherWith } from "./relay";
import { RunFailedError, errorMessage } from "../contracts/errors";

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
  /**
   * Virtual time, exact mode: predicts block replies from the run's cost table (runtime/speculation.ts);
   * absent: every step waits for its replies.
   */
  readonly predict?: BlockPredictor;
  /** Predictions unconfirmed at most at once; 0: no speculation. Default {@link DEFAULT_SPECULATION_DEPTH}. */
  readonly speculationDepth?: number;
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

  // also once the kernel has finished: with speculation, a prediction it finished with may not be confirmed
  const fail = (corr: number, error: string) => {
    if (actor.getSnapshot().status === "active") actor.send({ type: "request.failed", corr, error });
    else settle?.reject(new RunFailedError(`request ${corr} failed: ${error}`));
  };

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
  // virtual time: block replies predicted and fed at once by the actor, confirmed by the accelerators' replies (runtime/speculation.ts)
  const depth = opts.speculationDepth ?? DEFAULT_SPECULATION_DEPTH;
  const spec = clock === undefined && kernel.mode === "exact" && opts.predict !== undefined && depth > 0 ? speculation(depth) : undefined;
  /** A reply for the kernel, with the predictions it may feed after it (speculation). */
  const sendReply = (corr: number, reply: KernelReply) => actor.send(spec === undefined ? { type: "reply", corr, reply } : { type: "reply", corr, reply, room: spec.room });
  const ahead = aheadAnswers<KernelReply>(() => actor.getSnapshot().context.kernel.waitsForAnswer, sendReply);
  type LaneItem = { readonly corr: number; readonly cmd: BlockDispatch; readonly data: Payload; readonly onDecoded: (d: Decoded) => void; readonly onError: (err: unknown) => void };
  /** Sends what waited in `acc`'s lane: one dispatch as it is, several in one `block.batch`, answered by one `block.results`. */
  const transmit = (acc: string, items: ReadonlyArray<LaneItem>) => {
    const to: Target = { kind: "accel", id: acc };
    const subject = targetSubject(to);
    if (items.length === 1) {
      const item = items[0]!;
      requestRetrying(to, subject, item.data, (d) => (lanes!.answered(acc), item.onDecoded(d)), (err) => (lanes!.answered(acc), item.onError(err)));
      return;
    }
    // a literal, not BlockBatch.make: make validates every block again
    const message: BlockBatch = { _tag: "block.batch", v: PROTOCOL_VERSION, run, acc, blocks: items.map((i) => i.cmd) };
    const batch = typed(AccelCommand, message);
    const onBatch = (d: Decoded) => {
      lanes!.answered(acc);
      if (Either.isLeft(d) || d.right._tag === "error") return items[0]!.onDecoded(d); // fails the run, naming it
      if (d.right._tag === "block.results" && d.right.results.length === items.length) {
        const results = d.right.results;
        items.forEach((item, i) => item.onDecoded(Either.right(results[i]!)));
      } else {
        const what = d.right._tag === "block.results" ? `${d.right.results.length} results` : d.right._tag;
        fail(items[0]!.corr, `${subject} answered ${what} to a batch of ${items.length} blocks`);
      }
    };
    requestRetrying(to, subject, batch, onBatch, (err) => (lanes!.answered(acc), items[0]!.onError(err)));
  };
  const lanes = spec === undefined ? undefined : dispatchLanes<LaneItem>(transmit, MAX_BATCH_BLOCKS);
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

  const perform = ({ input, at, effects, resumed = false, predicted }: PerformParams) => {
    if (input.kind === "start" && clock !== undefined) {
      startRequests = new Set(effects.flatMap((e) => (e.kind === "request" ? [e.corr] : [])));
      if (startRequests.size === 0) startClock(clock);
    }
    if (!resumed && opts.observer !== undefined) {
      const observer = opts.observer;
      if (spec === undefined) record(observer, input, at, effects);
      else spec.hold(() => record(observer, input, at, effects));
    }
    for (const e of effects) {
      switch (e.kind) {
        case "request": {
          const subject = targetSubject(e.to);
          stats.sent++;
          if (e.ahead === true) ahead.asked(e.corr);
          const data = e.to.kind === "task" ? typed(TaskCommand, e.message as TaskCommand) : typed(AccelCommand, e.message as AccelCommand);
          const acc = lanes !== undefined && e.to.kind === "accel" ? e.to.id : undefined;
          // the actor fed the reply it predicted for this dispatch (actors/scheduler.ts): unconfirmed until its accelerator's
          const prediction = acc === undefined || resumed ? undefined : predicted?.find(([corr]) => corr === e.corr)?.[1];
          if (prediction !== undefined) spec!.fed(e.corr, prediction);
          const onDecoded = (decoded: Decoded) => {
            stats.received++;
            if (Either.isLeft(decoded)) {
              stats.rejected++;
              opts.onReject?.(subject, decoded.left.message);
              fail(e.corr, `malformed reply from ${subject}: ${decoded.left.message}`);
            } else if (decoded.right._tag === "error") {
              fail(e.corr, `${subject} answered ${decoded.right.kind} error: ${decoded.right.message}`);
            } else if (decoded.right._tag === "block.results") {
              fail(e.corr, `${subject} answered block.results to a single block`);
            } else if (clock === undefined) {
              const verdict = spec?.verify(e.corr, decoded.right) ?? "unpredicted";
              if (typeof verdict === "object") fail(e.corr, `${subject}: ${verdict.mismatch}`);
              else if (stopped || actor.getSnapshot().status !== "active") return; // the run is over: nothing more reaches the kernel
              else if (e.ahead === true) ahead.arrived(e.corr, decoded.right);
              else if (verdict === "unpredicted") {
                sendReply(e.corr, decoded.right);
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
          };
          const onError = (err: unknown) => fail(e.corr, `${subject}: ${errorMessage(err)}`);
          if (acc === undefined) requestRetrying(e.to, subject, data, onDecoded, onError);
          else lanes!.send(acc, { corr: e.corr, cmd: e.message as BlockDispatch, data, onDecoded, onError });
          break;
        }
        case "notify":
          stats.sent++;
          bus.publish(targetSubject(e.to), typed(TaskCommand, e.message));
          break;
        case "event": {
          const event = e.event;
          const out = () => {
            opts.onEvent?.(event);
            if (publishEvents) publishSoon(bus, eventSubject(event._tag), typed(RunEvent, event));
          };
          if (spec === undefined) out();
          else spec.hold(out);
          break;
        }
        case "wait":
          wait(e.until);
          break;
        case "finished":
          break;
      }
    }
  };

  const actor = createActor(schedulerMachine.provide({ actions: { perform: (_, p) => p.steps.forEach(perform) } }), {
    input: {
      kernel,
      expectTasks: opts.expectTasks ?? false,
      ...(spec === undefined ? {} : { predict: opts.predict }),
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
      if (snap.value === "finished") {
        const finished = () => settle?.resolve({ kernel: new SchedulerKernel(snap.context.kernel), stats });
        if (spec === undefined) finished();
        else spec.settled(finished);
      }
      else settle?.reject(new RunFailedError(snap.context.error ?? "run failed"));
    },
    error: (err) => settle?.reject(actorStopped("scheduler", err)),
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
