/**
 * The accelerator service: one process hosting one or more accelerator actors of a run's hardware
 * (`sdrm3 serve accelerator --slot acc0,acc1`). Composition root: resolves the run from its spec,
 * hosts the actors on the bus, and stops when the scheduler announces the end of the run.
 */
import { acceleratorCosts, type Bus, type Hosted, type ResolvedRun, hostAccelerator } from "@sdrm3/shared/runtime";

export interface AcceleratorServiceOptions {
  readonly bus: Bus;
  readonly run: string;
  readonly resolved: ResolvedRun;
  /** Accelerator ids (slots of the hardware) this process hosts. */
  readonly slots: ReadonlyArray<string>;
  readonly host: string;
  readonly log?: (line: string) => void;
}

export class SlotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SlotError";
  }
}

/** Hosts the slots' actors; resolves when the run is finished. */
export const serveAccelerators = async (opts: AcceleratorServiceOptions): Promise<void> => {
  const specs = opts.resolved.hardware.accelerators;
  const hosted: Hosted[] = [];
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  for (const slot of opts.slots) {
    const i = specs.findIndex((a) => a.id === slot);
    if (i < 0) throw new SlotError(`unknown slot '${slot}' of ${opts.resolved.hardware.name}; valid: ${specs.map((a) => a.id).join(", ")}`);
    hosted.push(
      hostAccelerator(opts.bus, opts.run, specs[i]!, acceleratorCosts(opts.resolved.costs, i), {
        host: opts.host,
        onFinished: () => finished(),
        onReject: (subject, message) => opts.log?.(`rejected on ${subject}: ${message}`),
      }),
    );
    opts.log?.(`accelerator ${slot} (${specs[i]!.costClass}) ready for run ${opts.run}`);
  }
  try {
    await done;
  } finally {
    for (const h of hosted) h.stop();
  }
};
