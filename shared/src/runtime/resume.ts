/**
 * Resuming a run after its scheduler died (docs/reliability.md): a fresh scheduler rebuilds the
 * kernel by applying the run's recorded inputs (its JetStream event log) in order — the kernel is
 * a deterministic function of them (DESIGN.md §4.3) — and carries on from there.
 *
 * What was in flight when the old scheduler died is found the same way: every request the kernel
 * made whose reply is not in the log is outstanding, and the resumed scheduler sends it again with
 * the same correlation number and the same message. Tasks and accelerators answer a repeated
 * request with the answer they gave the first time (their hosts keep recent replies by request), so
 * a request that was answered but whose answer was never recorded gets the same answer again.
 * Hence in virtual time the resumed run's decisions and metrics equal an uninterrupted run's.
 *
 * The log's tail may hold only part of the last step's events (the recorder publishes
 * asynchronously): showing the last step to a recorder that resumes after the stored entries
 * (`lastStep`, EventRecorder's `resume` option) writes exactly the missing ones, so the log ends
 * up whole and in order.
 */
import type { KernelConfig, KernelEffect, KernelInput } from "../actors/scheduler-kernel";
import { SchedulerKernel, applyInput } from "../actors/scheduler-kernel";
import type { KernelObserver } from "./host";
import type { LogEntry } from "../contracts/log";
import { LogFormatError, type OpenedLog, kernelInputOf } from "./event-log";
import { RunConfigError, errorMessage } from "../contracts/errors";

export type OutstandingRequest = Extract<KernelEffect, { kind: "request" }>;

export interface ResumedKernel {
  readonly kernel: SchedulerKernel;
  /** Requests of the kernel with no reply in the log, in request order: to be sent again. */
  readonly outstanding: ReadonlyArray<OutstandingRequest>;
  /** Inputs re-applied. */
  readonly inputs: number;
  /** Entries the log held (the recorder resumes after them). */
  readonly entries: number;
  /** Kernel time after the last input. */
  readonly at: number;
  /** The last input re-applied, what it produced, and the number of entries before it. */
  readonly lastStep: { readonly input: KernelInput; readonly at: number; readonly effects: ReadonlyArray<KernelEffect>; readonly seqBefore: number };
}

/** Shows a recorder resuming after the log's entries the last step, so it writes whatever of it the log lacks. */
export const catchUp = (resumed: ResumedKernel, recorder: (resume: { seq: number; resumeAfter: number }) => KernelObserver): KernelObserver => {
  const r = recorder({ seq: resumed.lastStep.seqBefore, resumeAfter: resumed.entries });
  r.step(resumed.lastStep.input, resumed.lastStep.at, resumed.lastStep.effects);
  return r;
};

/**
 * Reads a log's first entry ahead. Undefined when the log holds only its header: its scheduler
 * stopped before the run's first step, so there is no kernel to rebuild and the run starts from
 * the beginning, its recording carrying on after the header. Otherwise the same log, every entry
 * still to be read (for resumeKernel).
 */
export const logWithEntries = async (log: OpenedLog): Promise<OpenedLog | undefined> => {
  const it = log.entries[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) return undefined;
  async function* entries(): AsyncGenerator<LogEntry> {
    yield first.value;
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
  }
  return { ...log, entries: entries() };
};

/**
 * Rebuilds a kernel of configuration `cfg` from a run's log. A log recorded in live mode cannot be
 * resumed: its clock cannot be taken up where it stopped.
 */
export const resumeKernel = async (log: OpenedLog, cfg: KernelConfig): Promise<ResumedKernel> => {
  if (log.header.live !== undefined || cfg.live !== undefined) {
    throw new RunConfigError(`run ${log.header.run} was recorded in live mode; only virtual-time runs can be resumed from their log`);
  }
  if (log.header.run !== cfg.run) throw new RunConfigError(`the log is of run ${log.header.run}, not ${cfg.run}`);
  const kernel = new SchedulerKernel(cfg);
  const outstanding = new Map<number, OutstandingRequest>();
  let inputs = 0;
  let entries = 0;
  let lastStep: ResumedKernel["lastStep"] | undefined;
  for await (const entry of log.entries) {
    entries++;
    if (entry.type !== "input") continue;
    const input: KernelInput = kernelInputOf(entry);
    if (input.kind === "reply" && !outstanding.delete(input.corr)) {
      throw new LogFormatError(entry.seq + 1, `the log replies to request ${input.corr}, which the kernel has not made (is this run's configuration the recorded one?)`, log.name);
    }
    const at = kernel.time;
    let effects: KernelEffect[];
    try {
      effects = applyInput(kernel, input);
    } catch (e) {
      throw new LogFormatError(entry.seq + 1, `the kernel refused the recorded input: ${errorMessage(e)}`, log.name);
    }
    inputs++;
    for (const e of effects) if (e.kind === "request") outstanding.set(e.corr, e);
    lastStep = { input, at, effects, seqBefore: entries - 1 };
  }
  // a log with only its header (its scheduler stopped before the run's first step) has no kernel
  // to rebuild: the caller starts the run from the beginning instead (hasEntries tells it beforehand)
  if (lastStep === undefined) throw new LogFormatError(entries + 2, `the log of run ${log.header.run} holds no input: no kernel to rebuild (a log with only its header is a run that never started: start it from the beginning)`, log.name);
  return { kernel, outstanding: [...outstanding.values()].sort((a, b) => a.corr - b.corr), inputs, entries, at: kernel.time, lastStep };
};
