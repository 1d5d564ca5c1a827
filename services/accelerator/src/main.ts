/**
 * The accelerator service: one process hosting one or more accelerator actors of a run's hardware
 * (`sdrm3 serve accelerator --slots 2`, or `--slot acc0,acc1`). Composition root: resolves the run
 * from its spec, hosts the actors on the bus, and stops when the scheduler announces the end of
 * the run.
 *
 * With `leases` (over NATS), the process owns its slots through JetStream KV leases
 * (docs/distributed.md): it claims `want` of the `slots` candidates (in order), hosts an actor for
 * each slot it holds, stops hosting a slot whose lease it loses, and while it holds fewer than it
 * wants it waits as a hot spare, taking over slots that are released or whose owner stopped renewing.
 * Leases are released when the run ends (or on SIGTERM/SIGINT via `signal`).
 */
import { hostname } from "node:os";
import { Either } from "effect";
import { type LeaseBucket, holdSlots } from "@sdrm3/shared/nats";
import {
  type Bus,
  type Hosted,
  type ResolvedRun,
  RunFailedError,
  acceleratorCosts,
  decodeJson,
  hostAccelerator,
} from "@sdrm3/shared/runtime";
import { RunControl, Subjects } from "@sdrm3/shared/contracts";

export interface AcceleratorServiceOptions {
  readonly bus: Bus;
  readonly run: string;
  readonly resolved: ResolvedRun;
  /** Accelerator ids (slots of the hardware) this process may host, in order of preference. */
  readonly slots: ReadonlyArray<string>;
  /** With leases: how many of `slots` to hold at once (default all of them). Without: ignored. */
  readonly want?: number;
  /** Own slots through this lease bucket; without it every slot of `slots` is hosted at once (no ownership). */
  readonly leases?: LeaseBucket;
  readonly host: string;
  readonly log?: (line: string) => void;
  /** Aborting ends the service cleanly (leases released), e.g. on SIGTERM. */
  readonly signal?: AbortSignal;
}

export class SlotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SlotError";
  }
}

/** Hosts the slots' actors; resolves when the run is finished, rejects when the scheduler aborts it. */
export const serveAccelerators = async (opts: AcceleratorServiceOptions): Promise<void> => {
  const specs = opts.resolved.hardware.accelerators;
  const indexOf = (slot: string) => {
    const i = specs.findIndex((a) => a.id === slot);
    if (i < 0) throw new SlotError(`unknown slot '${slot}' of ${opts.resolved.hardware.name}; valid: ${specs.map((a) => a.id).join(", ")}`);
    return i;
  };
  for (const slot of opts.slots) indexOf(slot);
  const want = opts.want ?? opts.slots.length;
  if (!Number.isInteger(want) || want < 1 || want > opts.slots.length) {
    throw new SlotError(`cannot hold ${want} slots: choose 1 to ${opts.slots.length} (slots: ${opts.slots.join(", ")})`);
  }

  let finished!: () => void;
  let aborted!: (e: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finished = resolve;
    aborted = reject;
  });
  const onStopped = (reason: string) => aborted(new RunFailedError(`the scheduler stopped run ${opts.run}: ${reason}`));
  // The process listens for the end of the run itself: a spare hosts no actor that would hear it.
  const control = opts.bus.subscribe(Subjects.control(opts.run, "control"), (msg) => {
    const decoded = decodeJson(RunControl, msg.data);
    if (Either.isLeft(decoded) || decoded.right.run !== opts.run) return;
    if (decoded.right.op === "finished") finished();
    if (decoded.right.op === "stop") onStopped(decoded.right.reason ?? "no reason given");
  });
  const onAbort = () => finished();
  opts.signal?.addEventListener("abort", onAbort);
  if (opts.signal?.aborted === true) finished();

  const hosted = new Map<string, Hosted>();
  const host = (slot: string, canServe?: () => boolean) => {
    const i = indexOf(slot);
    hosted.set(
      slot,
      hostAccelerator(opts.bus, opts.run, specs[i]!, acceleratorCosts(opts.resolved.costs, i, opts.resolved.supernet === true ? opts.resolved.variants : undefined), {
        host: opts.host,
        onReject: (subject, message) => opts.log?.(`rejected on ${subject}: ${message}`),
        ...(canServe === undefined ? {} : { canServe }),
      }),
    );
  };
  const unhost = (slot: string) => {
    hosted.get(slot)?.stop();
    hosted.delete(slot);
  };

  const leases = opts.leases;
  const holder =
    leases === undefined
      ? undefined
      : holdSlots({
          bucket: leases,
          candidates: opts.slots,
          want,
          owner: { owner: opts.host, host: hostname() },
          onAcquired: (held) => {
            host(held.slot, held.isValid);
            // "ready for run" is what scripts wait for (as without leases)
            opts.log?.(`accelerator ${held.slot} (${specs[indexOf(held.slot)]!.costClass}) ready for run ${opts.run}: claimed slot ${held.slot} (lease revision ${held.lease.revision})`);
          },
          onLost: (slot, reason) => {
            unhost(slot);
            opts.log?.(`lost slot ${slot}: ${reason}; no longer hosting it`);
          },
          onWaiting: (owned) =>
            opts.log?.(
              `waiting as a hot spare for run ${opts.run}: holding ${hosted.size} of ${want} slots; ${owned
                .map((o) => `${o.slot} owned by ${o.owner ?? "(expiring)"}`)
                .join(", ")}`,
            ),
          ...(opts.log === undefined ? {} : { log: opts.log }),
        });
  if (holder === undefined) {
    for (const slot of opts.slots) {
      host(slot);
      opts.log?.(`accelerator ${slot} (${specs[indexOf(slot)]!.costClass}) ready for run ${opts.run}`);
    }
  }
  try {
    await done;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    control.unsubscribe();
    const held = holder?.held() ?? [];
    for (const slot of [...hosted.keys()]) unhost(slot);
    await holder?.stop({ release: true });
    if (held.length > 0) opts.log?.(`released the leases of slots ${held.join(", ")}`);
  }
};
