/**
 * Recording: `EventRecorder` is a KernelObserver (the scheduler host's tap at the relay point); it
 * turns every kernel input and every RunEvent effect into one entry and hands it to a sink.
 */
import type { KernelEffect, KernelInput } from "../../actors/scheduler-kernel";
import type { LogHeader } from "../../contracts/log";
import type { KernelObserver } from "../host";
import type { EventLogSink } from "./codec";

/** Who sent a kernel input: the scheduler itself (start, live clock wake-ups) or the task / accelerator that replied. */
export const inputSource = (input: KernelInput): string =>
  input.kind !== "reply" ? "sched" : input.reply._tag === "task.released" ? `task:${input.reply.model}` : `accel:${input.reply.acc}`;

/** The kernel observer that records: every input, then every event applying it produced. */
export class EventRecorder implements KernelObserver {
  private seq = 0;
  private readonly skipThrough: number;

  /**
   * Resuming (a resumed scheduler, runtime/resume.ts): the sink already holds the header and
   * entries 1..`resumeAfter`; numbering starts after entry `seq` (the entries before the step the
   * recorder is shown first), and entries up to `resumeAfter` are counted but not written twice.
   */
  constructor(
    private readonly sink: EventLogSink,
    header: LogHeader,
    opts: { readonly resume?: { readonly seq: number; readonly resumeAfter: number } } = {},
  ) {
    this.seq = opts.resume?.seq ?? 0;
    this.skipThrough = opts.resume?.resumeAfter ?? 0;
    if (opts.resume === undefined) sink.header(header);
  }

  /** Entries recorded so far. */
  get entries(): number {
    return this.seq;
  }

  step(input: KernelInput, at: number, effects: ReadonlyArray<KernelEffect>): void {
    if (++this.seq > this.skipThrough) this.sink.entry({ seq: this.seq, at, source: inputSource(input), type: "input", payload: input });
    for (const e of effects) {
      if (e.kind === "event" && ++this.seq > this.skipThrough) {
        this.sink.entry({ seq: this.seq, at: e.event.at, source: "sched", type: e.event._tag, payload: e.event });
      }
    }
  }
}
