/**
 * The worker service (`sdrm3 serve worker`): a stateless member of the NATS queue group that
 * distributed sweeps (`sdrm3 compare --nats`) fan their runs out to. Each request carries one run
 * job; the worker runs it and replies with the run's record, or an `error` reply. Workers can be
 * added and removed at any time; NATS gives each request to exactly one member of the group.
 */
import { Subjects, errorReply, errorMessage } from "@sdrm3/shared/contracts";
import { Schema } from "effect";
import { type Bus, relaySubscribe } from "@sdrm3/shared/runtime";

/** Where sweeps send their runs, and the queue group their workers share. */
export const SWEEP_SUBJECT = Subjects.sweep();
export const SWEEP_QUEUE = "sdrm3-sweep-workers";

export interface WorkerServiceOptions {
  readonly bus: Bus;
  /** Runs one job (decoded and validated by the caller's `decode`) and returns its record. */
  readonly run: (job: unknown) => Promise<unknown>;
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

/** Serves sweep jobs until `signal` aborts; one job at a time per worker process. */
export const serveWorker = async (opts: WorkerServiceOptions): Promise<void> => {
  let chain: Promise<void> = Promise.resolve();
  let done = 0;
  // The relay parses the job (text that is not JSON is answered with a decode error); `run` validates it.
  const sub = relaySubscribe(
    opts.bus,
    SWEEP_SUBJECT,
    Schema.Unknown,
    undefined,
    (job, msg) => {
      chain = chain.then(async () => {
        try {
          const record = await opts.run(job);
          msg.respond(JSON.stringify({ ok: record }));
          done++;
        } catch (e) {
          msg.respond(JSON.stringify(errorReply("rejected", errorMessage(e))));
        }
      });
    },
    (subject, message) => opts.log?.(`refused a sweep job on ${subject}: ${message}`),
    { queue: SWEEP_QUEUE },
  );
  opts.log?.(`worker ready on ${SWEEP_SUBJECT} (queue ${SWEEP_QUEUE})`);
  await new Promise<void>((resolve) => {
    if (opts.signal?.aborted) resolve();
    opts.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  sub.unsubscribe();
  await chain;
  opts.log?.(`worker stopping after ${done} runs`);
};
