/**
 * Building blocks of what policies declare: the capabilities every baseline shares, the stated
 * block-size limit, and the helpers that declare a parameter's kind.
 */
import type { ParamSpec, PolicyCapabilities } from "./types";

/** Largest block size B (layers per dispatch) a run or a block parameter may ask for. */
export const MAX_BLOCK_LAYERS = 512;

/**
 * An exact-semantics policy with no run switches that can run live, 10 s by default: every
 * baseline and any policy that declares nothing special.
 */
export const BASELINE_CAPABILITIES: PolicyCapabilities = {
  semantics: "exact",
  defaultDurationMs: 10_000,
  live: { can: true },
  notInAll: false,
  mapScore: false,
  tunable: [],
  switches: {},
};

/** An on/off parameter: exactly 0 (off) or 1 (on). */
export const switchParam = <N extends string>(name: N, defaultValue: 0 | 1, description: string): ParamSpec & { readonly name: N } => ({
  name,
  kind: "switch",
  default: defaultValue,
  min: 0,
  max: 1,
  description,
});
