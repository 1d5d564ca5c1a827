/**
 * Fencing an accelerator process's slots against its own pauses (docs/distributed.md, "Fencing").
 *
 * A process that was stopped (SIGSTOP, a VM pause, a debugger), starved or cut off resumes with
 * dispatch messages already in its socket, and the event loop hands them to the accelerator host
 * before any timer runs: the lease renewal that would find the slot taken over comes later. So the
 * decision to answer must not depend on a renewal having run since the pause. Two rules, checked
 * on every dispatch (`canServe`):
 *
 * 1. **Local validity on a clock that cannot miss a pause.** `PauseAwareClock` advances by the
 *    larger of the monotonic and the wall-clock progress between readings, so a pause that one of
 *    them does not count (CLOCK_MONOTONIC stops while a machine is suspended) still ages the lease;
 *    the lease holder (`holdSlots`) reads its validity on this clock. A forward jump of the wall
 *    clock only makes validity end early (safe); a backward jump is ignored.
 * 2. **After a pause, the revision is re-checked before serving again.** A gap of at least
 *    `pauseMs` between two readings of the clock (a heartbeat reads it every `beatMs`) marks every
 *    held slot suspect: its dispatches are left unanswered until `HeldSlot.verify()`, sent after
 *    the pause, finds the key still at the revision this process last wrote (a key at another
 *    revision loses the lease at once). The scheduler retries an unanswered dispatch, reaching the
 *    slot's owner, whoever that is by then.
 *
 * This module reads the clocks it is given; the service passes `performance.now` and `Date.now`
 * (a composition root may read clocks; shared/src's deterministic packages may not).
 */

/** The two clocks a pause is measured with, ms. */
export interface FenceClocks {
  /** Monotonic (`performance.now()`): never jumps, but may stop while the machine is suspended. */
  mono(): number;
  /** Wall clock (`Date.now()`): runs through a suspend, but may jump (NTP). */
  wall(): number;
}

export const systemClocks: FenceClocks = { mono: () => performance.now(), wall: () => Date.now() };

/**
 * A monotonic clock (ms from its creation) that advances, between two readings, by the larger of
 * the monotonic and the wall-clock progress; a step of at least `pauseMs` is reported as a pause.
 */
export class PauseAwareClock {
  private lastMono: number;
  private lastWall: number;
  private t = 0;
  private readonly listeners: Array<(gapMs: number) => void> = [];

  constructor(
    private readonly clocks: FenceClocks,
    readonly pauseMs: number,
  ) {
    this.lastMono = clocks.mono();
    this.lastWall = clocks.wall();
  }

  /** Called (synchronously, inside the reading that saw it) for every pause. */
  onPause(listener: (gapMs: number) => void): void {
    this.listeners.push(listener);
  }

  readonly now = (): number => {
    const mono = this.clocks.mono();
    const wall = this.clocks.wall();
    const step = Math.max(mono - this.lastMono, wall - this.lastWall, 0);
    this.lastMono = mono;
    this.lastWall = Math.max(wall, this.lastWall); // a backward jump does not count twice later
    this.t += step;
    if (step >= this.pauseMs) for (const l of this.listeners) l(step);
    return this.t;
  };
}

/** What a fence needs of a held lease (`HeldSlot` of shared/src/nats/leases.ts). */
export interface FencedLease {
  readonly slot: string;
  readonly lease: { readonly revision: number };
  isValid(): boolean;
  verify(): Promise<boolean>;
}

export interface SlotFence {
  /** Asked before every dispatch is answered. */
  canServe(): boolean;
  /** A pause was seen: refuse until a revision check sent from now on succeeds. */
  paused(gapMs: number): void;
  /** True while the slot waits for its post-pause revision check. */
  suspect(): boolean;
  /** Dispatches refused so far (lease not valid, or suspect). */
  refused(): number;
}

/** The fence of one held slot; see the module comment. `now` is read first, so it sees a pause before deciding. */
export const slotFence = (held: FencedLease, now: () => number, log?: (line: string) => void): SlotFence => {
  let suspect = false;
  /** Bumped by every pause: only a check started after the latest pause may clear the suspicion. */
  let epoch = 0;
  let checking: number | undefined;
  let refused = 0;
  const recheck = () => {
    if (!suspect || checking === epoch) return;
    const started = epoch;
    checking = started;
    held.verify().then(
      (ok) => {
        if (checking === started) checking = undefined;
        if (!suspect) return;
        if (started !== epoch) return recheck(); // paused again meanwhile: check again
        if (ok) {
          suspect = false;
          log?.(`slot ${held.slot}: lease still held at revision ${held.lease.revision} after the pause; serving again`);
        }
        // not ok: lost (the holder reported it) or unreadable; the next dispatch asks again
      },
      () => {
        if (checking === started) checking = undefined;
      },
    );
  };
  return {
    canServe: () => {
      now(); // a pause is noticed here, before the decision, even if no timer has run since
      if (!held.isValid()) {
        refused++;
        return false;
      }
      if (suspect) {
        refused++;
        recheck();
        return false;
      }
      return true;
    },
    paused: () => {
      suspect = true;
      epoch++;
      recheck();
    },
    suspect: () => suspect,
    refused: () => refused,
  };
};
