/**
 * The scheduler service (`sdrm3 serve scheduler`): hosts the scheduler actor of a run, waits until
 * every accelerator slot and every model task of the run has registered (they live in other
 * processes; at most `registerTimeoutMs`), runs the scenario (in virtual time, or live with
 * `live`: the accelerators then hold each reply for the block's scaled latency) and returns the run's
 * result. A dispatch to a slot whose owner died is retried until a spare takes the slot over (at
 * most `slotTakeoverTimeoutMs`; docs/distributed.md).
 */
import { type Bus, type KernelObserver, type ResolvedRun, type RunResult, type SchedulerHostOptions, type WarmUpReport, runScheduler } from "@sdrm3/shared/runtime";
import type { RunEvent } from "@sdrm3/shared/contracts";
import type { LiveSetting } from "@sdrm3/shared/actors";

export interface SchedulerServiceOptions {
  readonly bus: Bus;
  readonly run: string;
  readonly resolved: ResolvedRun;
  readonly onEvent?: (event: RunEvent) => void;
  readonly observer?: KernelObserver;
  readonly log?: (line: string) => void;
  /** Fail when the slots and tasks have not all registered within this many ms. Default: wait forever. */
  readonly registerTimeoutMs?: number;
  /** How long a dispatch is retried while its slot has no owner. Default: the host's (15 s). */
  readonly slotTakeoverTimeoutMs?: number;
  /** Live mode (docs/live.md): wall-clock time scaled by `speed`. Default: virtual time. */
  readonly live?: LiveSetting;
  /** Start with the slots that registered when the register timeout passes (`serve scheduler --elastic`). */
  readonly elastic?: boolean;
  /** Resume the run from its rebuilt kernel (runtime/resume.ts; `serve scheduler --resume`). */
  readonly resume?: SchedulerHostOptions["resume"];
  /** A live run's warm-up, done by the caller before it connected (runScheduler's `warmedUp`). */
  readonly warmedUp?: WarmUpReport;
}

export const serveScheduler = async (opts: SchedulerServiceOptions): Promise<RunResult> => {
  opts.log?.(`scheduler for run ${opts.run}: waiting for ${opts.resolved.hardware.accelerators.length} accelerators and ${opts.resolved.scenario.models.length} model tasks`);
  return runScheduler({
    ...opts.resolved,
    bus: opts.bus,
    run: opts.run,
    expectTasks: true,
    ...(opts.live === undefined ? {} : { live: opts.live }),
    ...(opts.warmedUp === undefined ? {} : { warmedUp: opts.warmedUp }),
    ...(opts.elastic === true
      ? {
          elastic: (registered: ReadonlyArray<string>, missing: ReadonlyArray<string>) =>
            opts.log?.(`elastic start: running on ${registered.length} of ${registered.length + missing.length} accelerator slots (${registered.join(", ")}); left out: ${missing.join(", ")}`),
        }
      : {}),
    host: {
      ...(opts.registerTimeoutMs === undefined ? {} : { registerTimeoutMs: opts.registerTimeoutMs }),
      ...(opts.slotTakeoverTimeoutMs === undefined ? {} : { slotTakeoverTimeoutMs: opts.slotTakeoverTimeoutMs }),
      ...(opts.resume === undefined ? {} : { resume: opts.resume }),
      onDispatchRetry: ({ slot, task, attempt, error, waitedMs }) => {
        if (task === true) {
          if (attempt === 1) opts.log?.(`model task ${slot}: request failed (${error}); asking again`);
          else if (attempt % 5 === 0) opts.log?.(`model task ${slot}: still no answer after ${waitedMs} ms (attempt ${attempt}, ${error})`);
        } else if (attempt === 1) opts.log?.(`slot ${slot}: dispatch failed (${error}); retrying until a process takes over the slot`);
        else if (attempt % 5 === 0) opts.log?.(`slot ${slot}: still no owner after ${waitedMs} ms (attempt ${attempt}, ${error})`);
      },
    },
    ...(opts.onEvent === undefined ? {} : { onEvent: opts.onEvent }),
    ...(opts.observer === undefined ? {} : { observer: opts.observer }),
    onReject: (subject, message) => opts.log?.(`rejected on ${subject}: ${message}`),
  });
};
