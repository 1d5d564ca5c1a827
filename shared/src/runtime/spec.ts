/**
 * A run described by names (what a command line or a service's flags give) and its resolution
 * into RunOptions: data loaded and validated, policy built with its parameters, costs resolved.
 * Shared by `sdrm3 run`, `compare`, `serve …` so that every process of a distributed run resolves
 * the same run from the same flags.
 */
import { type UserDataFiles, extendDataset, findScenario, loadBuiltinDataset, resolveHardware, resolveModelCosts, scenarioVariants } from "../data";
import { PolicyInputError, resolvePolicy } from "../policies/catalogue";
import type { PolicyParams } from "../policies/types";
import type { RunOptions } from "./run";
import { checkToken } from "../contracts/subjects";

export interface RunSpec {
  readonly scenario: string;
  readonly hardware: string;
  readonly policy: string;
  readonly params?: Readonly<Record<string, number>>;
  /** Default: 700 ms for xrbench (its runtime's default), 10 s otherwise. */
  readonly durationMs?: number;
  readonly seed?: number;
  readonly blockSize?: number;
  readonly phase?: boolean;
  readonly jitterMs?: number;
  /**
   * Supernets (docs/supernets.md): every scenario model gets the variants ×1.0, ×0.75, ×0.5.
   * Default: sdrm3's `supernet` parameter (1 = on), off for every other policy. Given for sdrm3,
   * it sets that parameter (so the log header records it); a contradicting parameter is an error.
   */
  readonly supernet?: boolean;
  readonly files?: UserDataFiles;
}

export type ResolvedRun = Omit<RunOptions, "bus" | "run" | "onEvent" | "onReject" | "observer">;

export const defaultDurationMs = (policy: string): number => (policy === "xrbench" ? 700 : 10_000);

/**
 * Whether a run of `policy` with `params` has supernets, given an explicit `supernet` switch (or
 * none), and the parameters to build the policy with: sdrm3's `supernet` parameter is the switch
 * when none is given (like `tune`, it is read by the run setup, not by the policy), and is set
 * from an explicit switch. Other policies have no such parameter: an explicit switch on gives
 * them variants they never use (the baselines always run the full model).
 */
export const supernetSetting = (
  policy: string,
  params: PolicyParams,
  supernet: boolean | undefined,
): { readonly supernet: boolean; readonly params: PolicyParams } => {
  if (policy !== "sdrm3") return { supernet: supernet ?? false, params };
  const param = params.supernet;
  if (supernet === undefined) return { supernet: param === 1, params };
  if (param !== undefined && param !== (supernet ? 1 : 0)) {
    throw new PolicyInputError(`supernet ${supernet ? "on" : "off"} contradicts the sdrm3 parameter supernet=${param}`);
  }
  return { supernet, params: { ...params, supernet: supernet ? 1 : 0 } };
};

/** Throws DataError / UnknownNameError / PolicyInputError on bad input. */
export const resolveRunSpec = (spec: RunSpec): ResolvedRun => {
  const setting = supernetSetting(spec.policy, spec.params ?? {}, spec.supernet);
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
    durationMs: spec.durationMs ?? defaultDurationMs(spec.policy),
    seed: spec.seed ?? 1,
    blockSize: spec.blockSize ?? 1,
    ...(spec.phase === undefined ? {} : { phase: spec.phase }),
    ...(spec.jitterMs === undefined ? {} : { jitterMs: spec.jitterMs }),
  };
};
