/**
 * V8's allocation-site pretenuring allocates the objects of a site it saw survive directly in the
 * old generation; on the simulation's message path (XState snapshots, kernel steps, bus messages)
 * those die soon after, but while they live they keep the young objects they point to alive through
 * minor GCs, which then promote them: about 3 KB per block at B = 1, a third of a run's CPU in GC
 * (docs/performance.md, session 7). The command turns it off when a simulation long enough to pay
 * for it starts — not at start-up: once V8's flags change, Node's own code cache no longer matches
 * them and every Node module loaded afterwards compiles from source (≈ 29 M instructions more for
 * `sdrm3 --help`, ≈ 3 % of a short run's start-up, measured with cachegrind), which a short command
 * pays and gains nothing from. The bundle's own code cache was checked when it was compiled, before
 * this; bin/load.cjs puts the flag back before it writes a code cache.
 */
import { setFlagsFromString } from "node:v8";

/** Simulated time from which a run turns pretenuring off (ms). */
export const LONG_SIMULATION_MS = 2_000;

let off = false;

/** Before a simulation of `simulatedMs`: pretenuring off when it is long (once per process). */
export const tuneGcForSimulation = (simulatedMs: number): void => {
  if (off || !(simulatedMs >= LONG_SIMULATION_MS)) return;
  setFlagsFromString("--no-allocation-site-pretenuring");
  off = true;
};
