/**
 * The scheduler service (`sdrm3 serve scheduler`): hosts the scheduler actor of a run, waits until
 * every accelerator slot and every model task of the run has registered (they live in other
 * processes), runs the scenario in virtual time and returns the run's result.
 */
import { type Bus, type KernelObserver, type ResolvedRun, type RunResult, runScheduler } from "@sdrm3/shared/runtime";
import type { RunEvent } from "@sdrm3/shared/contracts";

export interface SchedulerServiceOptions {
  readonly bus: Bus;
  readonly run: string;
  readonly resolved: ResolvedRun;
  readonly onEvent?: (event: RunEvent) => void;
  readonly observer?: KernelObserver;
  readonly log?: (line: string) => void;
}

export const serveScheduler = async (opts: SchedulerServiceOptions): Promise<RunResult> => {
  opts.log?.(`scheduler for run ${opts.run}: waiting for ${opts.resolved.hardware.accelerators.length} accelerators and ${opts.resolved.scenario.models.length} model tasks`);
  return runScheduler({
    ...opts.resolved,
    bus: opts.bus,
    run: opts.run,
    expectTasks: true,
    ...(opts.onEvent === undefined ? {} : { onEvent: opts.onEvent }),
    ...(opts.observer === undefined ? {} : { observer: opts.observer }),
    onReject: (subject, message) => opts.log?.(`rejected on ${subject}: ${message}`),
  });
};
