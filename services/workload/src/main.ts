/**
 * The workload service: one process hosting the model task actors of a run (`sdrm3 serve
 * workload`). Composition root: resolves the run from its spec, hosts the tasks, stops when the
 * scheduler announces the end of the run (and fails when the scheduler aborts it).
 */
import { type Bus, type ResolvedRun, RunFailedError, actorStopped, hostModelTasks, taskConfigsFor } from "@sdrm3/shared/runtime";

export interface WorkloadServiceOptions {
  readonly bus: Bus;
  readonly run: string;
  readonly resolved: ResolvedRun;
  readonly host: string;
  readonly log?: (line: string) => void;
  /** Ends the service (as a finished run) when aborted: `--give-up-after`, a signal. */
  readonly signal?: AbortSignal;
}

export const serveWorkload = async (opts: WorkloadServiceOptions): Promise<void> => {
  let finished!: () => void;
  let aborted!: (e: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finished = resolve;
    aborted = reject;
  });
  const tasks = taskConfigsFor(opts.resolved, opts.run);
  const hosted = hostModelTasks(opts.bus, tasks, {
    host: opts.host,
    onFinished: () => finished(),
    onStopped: (reason) => aborted(new RunFailedError(`the scheduler stopped run ${opts.run}: ${reason}`)),
    onReject: (subject, message) => opts.log?.(`rejected on ${subject}: ${message}`),
    onActorError: (who, error) => aborted(actorStopped(who, error)),
  });
  opts.log?.(`workload ready for run ${opts.run}: ${tasks.map((t) => t.name).join(", ")}`);
  const onAbort = () => finished();
  opts.signal?.addEventListener("abort", onAbort);
  if (opts.signal?.aborted === true) finished();
  try {
    await done;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    for (const h of hosted) h.stop();
  }
};
