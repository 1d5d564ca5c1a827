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
 *
 * Every dispatch to a leased slot passes the slot's fence (fence.ts): the lease must be valid on a
 * clock that counts pauses, and after a pause its revision is re-checked before the slot answers
 * again. How many dispatches each slot answered (and how many after a pause) is logged when the
 * process stops hosting it.
 */
import { hostname } from "node:os";
import { type LeaseBucket, holdSlots } from "@sdrm3/shared/nats";
import {
  type Bus,
  type Hosted,
  type ResolvedRun,
  RunFailedError,
  acceleratorCosts,
  actorStopped,
  relaySubscribe,
  hostAccelerator,
} from "@sdrm3/shared/runtime";
import { RunControl, Subjects } from "@sdrm3/shared/contracts";
import { type FenceClocks, PauseAwareClock, type SlotFence, slotFence, systemClocks } from "./fence";
import { Sdrm3Error } from "@sdrm3/shared/contracts";

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
  /** With leases: the clocks pauses are measured with (default `performance.now` / `Date.now`; tests fake them). */
  readonly clocks?: FenceClocks;
}

export class SlotError extends Sdrm3Error {
  readonly _tag = "SlotError";
  readonly failure = "input";
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
  const control = relaySubscribe(opts.bus, Subjects.control(opts.run, "control"), RunControl, undefined, (c) => {
    if (c.run !== opts.run) return;
    if (c.op === "finished") finished();
    if (c.op === "stop") onStopped(c.reason ?? "no reason given");
  }, undefined);
  const onAbort = () => finished();
  opts.signal?.addEventListener("abort", onAbort);
  if (opts.signal?.aborted === true) finished();

  const hosted = new Map<string, Hosted>();
  const fences = new Map<string, SlotFence>();
  /** Per hosted slot: the lease revision it was claimed at, and the host's counters when the last pause was seen. */
  const episodes = new Map<string, { revision: number | undefined; atPause: { sent: number; refused: number } | undefined }>();
  const host = (slot: string, canServe?: () => boolean, revision?: number) => {
    const i = indexOf(slot);
    hosted.set(
      slot,
      hostAccelerator(opts.bus, opts.run, specs[i]!, acceleratorCosts(opts.resolved.costs, i, opts.resolved.supernet === true ? opts.resolved.variants : undefined), {
        host: opts.host,
        onReject: (subject, message) => opts.log?.(`rejected on ${subject}: ${message}`),
        onActorError: (who, error) => aborted(actorStopped(who, error)),
        ...(canServe === undefined ? {} : { canServe }),
      }),
    );
    episodes.set(slot, { revision, atPause: undefined });
  };
  const unhost = (slot: string) => {
    const h = hosted.get(slot);
    const episode = episodes.get(slot);
    const fence = fences.get(slot);
    h?.stop();
    hosted.delete(slot);
    fences.delete(slot);
    episodes.delete(slot);
    if (h === undefined || opts.leases === undefined) return;
    const { received, sent } = h.stats;
    const refused = fence?.refused() ?? 0;
    const atPause = episode?.atPause;
    opts.log?.(
      `stopped hosting slot ${slot} (claimed at lease revision ${episode?.revision ?? "?"}): answered ${sent} of ${received} dispatches, refused ${refused} (fenced)` +
        (atPause === undefined ? "" : `; after the last pause: answered ${sent - atPause.sent}, refused ${refused - atPause.refused}`),
    );
  };

  // Pauses (a stopped or starved process) are seen by a heartbeat and by every dispatch's fence.
  const ttlMs = opts.leases?.ttlMs ?? 0;
  const clock = opts.leases === undefined ? undefined : new PauseAwareClock(opts.clocks ?? systemClocks, Math.max(250, ttlMs / 2));
  clock?.onPause((gapMs) => {
    if (fences.size === 0) return;
    for (const [slot, fence] of fences) {
      const stats = hosted.get(slot)?.stats;
      const episode = episodes.get(slot);
      if (episode !== undefined && stats !== undefined) episode.atPause = { sent: stats.sent, refused: fence.refused() };
      fence.paused(gapMs);
    }
    opts.log?.(
      `paused for ${Math.round(gapMs)} ms (process stopped or event loop stalled): re-checking the lease revision of ${[...fences.keys()].join(", ")} before answering again (answered so far: ${[
        ...fences.keys(),
      ]
        .map((slot) => `${slot} ${hosted.get(slot)?.stats.sent ?? 0}`)
        .join(", ")})`,
    );
  });
  const beat = clock === undefined ? undefined : setInterval(clock.now, 100);
  beat?.unref?.();

  const leases = opts.leases;
  const holder =
    leases === undefined
      ? undefined
      : holdSlots({
          bucket: leases,
          candidates: opts.slots,
          want,
          owner: { owner: opts.host, host: hostname() },
          ...(clock === undefined ? {} : { now: clock.now }),
          onAcquired: (held) => {
            const fence = slotFence(held, clock!.now, opts.log);
            fences.set(held.slot, fence);
            host(held.slot, fence.canServe, held.lease.revision);
            // "ready for run" is what scripts wait for (as without leases)
            opts.log?.(`accelerator ${held.slot} (${specs[indexOf(held.slot)]!.costClass}) ready for run ${opts.run}: claimed slot ${held.slot} (lease revision ${held.lease.revision})`);
          },
          onLost: (slot, reason) => {
            clock?.now(); // a pause that ended just now is attributed to the slot before it goes
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
    if (beat !== undefined) clearInterval(beat);
    control.unsubscribe();
    const held = holder?.held() ?? [];
    for (const slot of [...hosted.keys()]) unhost(slot);
    await holder?.stop({ release: true });
    if (held.length > 0) opts.log?.(`released the leases of slots ${held.join(", ")}`);
  }
};
