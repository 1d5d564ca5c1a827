/**
 * A run described by names (what a command line or a service's flags give) and its resolution
 * into RunOptions: data loaded and validated, policy built with its parameters, costs resolved.
 * Shared by `sdrm3 run`, `compare`, `serve …` so that every process of a distributed run resolves
 * the same run from the same flags.
 */
import { type UserDataFiles, extendDataset, findScenario, loadBuiltinDataset, resolveHardware, resolveModelCosts, scenarioVariants } from "../data";
import { policyFactory, resolvePolicy, withRunSwitches } from "../policies/catalogue";
import type { PolicyParams } from "../policies/types";
import type { RunOptions } from "./run";
import { checkToken } from "../contracts/subjects";

export interface RunSpec {
  readonly scenario: string;
  readonly hardware: string;
  readonly policy: string;
  readonly params?: Readonly<Record<string, number>>;
  /** Default: the policy's (its capabilities; 700 ms for xrbench, its runtime's default). */
  readonly durationMs?: number;
  readonly seed?: number;
  readonly blockSize?: number;
  /** Dispatch quantum, ms (RunOptions.quantumMs): > 0 replaces `blockSize` by quantum blocks; default 0. */
  readonly quantumMs?: number;
  /** Dispatch queue depth (RunOptions.queueDepth); default 1 (no queue). */
  readonly queueDepth?: number;
  /** Chain budget, ms (RunOptions.chainMs); default 0 (off). */
  readonly chainMs?: number;
  /** Look-ahead, ms (RunOptions.lookaheadMs); default: none (any room in a queue counts). */
  readonly lookaheadMs?: number;
  readonly phase?: boolean;
  readonly jitterMs?: number;
  /**
   * Supernets (docs/supernets.md): every scenario model gets the variants ×1.0, ×0.75, ×0.5.
   * Default: the policy's supernet switch (sdrm3's `supernet` parameter), off for a policy
   * without one. Given, it sets that switch (so the log header records it); a contradicting
   * parameter is an error (policies/catalogue withRunSwitches).
   */
  readonly supernet?: boolean;
  /** Online tuning (`--tune`): sets the policy's tune switch; refused for a policy without one. */
  readonly tune?: boolean;
  readonly files?: UserDataFiles;
}

export type ResolvedRun = Omit<RunOptions, "bus" | "run" | "onEvent" | "onReject" | "observer">;

/** Simulated time of a run of `policy` that names none (its capabilities say; throws on an unknown policy). */
export const defaultDurationMs = (policy: string): number => policyFactory(policy).capabilities.defaultDurationMs;

/**
 * Whether a run of `policy` with `params` has supernets, given an explicit `supernet` switch (or
 * none), and the parameters to build the policy with (see withRunSwitches).
 */
export const supernetSetting = (
  policy: string,
  params: PolicyParams,
  supernet: boolean | undefined,
): { readonly supernet: boolean; readonly params: PolicyParams } => withRunSwitches(policy, params, { supernet });

/** Throws DataError / UnknownNameError / PolicyInputError on bad input. */
export const resolveRunSpec = (spec: RunSpec): ResolvedRun => {
  const setting = withRunSwitches(spec.policy, spec.params ?? {}, { supernet: spec.supernet, tune: spec.tune });
  const policy = resolvePolicy(spec.policy, setting.params);
  const ds = spec.files === undefined ? loadBuiltinDataset() : extendDataset(loadBuiltinDataset(), spec.files);
  const scenario = findScenario(ds, spec.scenario);
  const hardware = resolveHardware(ds, spec.hardware);
  // names become subject tokens: refuse wildcards, dots and whitespace before anything is hosted
  for (const m of scenario.models) checkToken("model name", m.name);
  for (const a of hardware.accelerators) checkToken("accelerator id", a.id);
  const costs = resolveModelCosts(ds, scenario, hardware);
  return {
    scenario,
    hardware,
    costs,
    ...(setting.supernet ? { supernet: true, variants: scenarioVariants(ds, scenario, hardware, costs) } : {}),
    policy,
    durationMs: spec.durationMs ?? policy.capabilities.defaultDurationMs,
    seed: spec.seed ?? 1,
    blockSize: spec.blockSize ?? 1,
    ...((spec.quantumMs ?? 0) > 0 ? { quantumMs: spec.quantumMs! } : {}),
    ...((spec.queueDepth ?? 1) !== 1 ? { queueDepth: spec.queueDepth! } : {}),
    ...((spec.chainMs ?? 0) > 0 ? { chainMs: spec.chainMs! } : {}),
    ...(spec.lookaheadMs === undefined ? {} : { lookaheadMs: spec.lookaheadMs }),
    ...(spec.phase === undefined ? {} : { phase: spec.phase }),
    ...(spec.jitterMs === undefined ? {} : { jitterMs: spec.jitterMs }),
  };
};
