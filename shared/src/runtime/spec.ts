/**
 * A run described by names (what a command line or a service's flags give) and its resolution
 * into RunOptions: data loaded and validated, policy built with its parameters, costs resolved.
 * Shared by `sdrm3 run`, `compare`, `serve …` so that every process of a distributed run resolves
 * the same run from the same flags.
 */
import { type UserDataFiles, extendDataset, findScenario, loadBuiltinDataset, resolveHardware, resolveModelCosts } from "../data";
import { resolvePolicy } from "../policies/catalogue";
import type { RunOptions } from "./run";

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
  readonly files?: UserDataFiles;
}

export type ResolvedRun = Omit<RunOptions, "bus" | "run" | "onEvent" | "onReject" | "observer">;

export const defaultDurationMs = (policy: string): number => (policy === "xrbench" ? 700 : 10_000);

/** Throws DataError / UnknownNameError / PolicyInputError on bad input. */
export const resolveRunSpec = (spec: RunSpec): ResolvedRun => {
  const policy = resolvePolicy(spec.policy, spec.params ?? {});
  const ds = spec.files === undefined ? loadBuiltinDataset() : extendDataset(loadBuiltinDataset(), spec.files);
  const scenario = findScenario(ds, spec.scenario);
  const hardware = resolveHardware(ds, spec.hardware);
  return {
    scenario,
    hardware,
    costs: resolveModelCosts(ds, scenario, hardware),
    policy,
    durationMs: spec.durationMs ?? defaultDurationMs(spec.policy),
    seed: spec.seed ?? 1,
    blockSize: spec.blockSize ?? 1,
    ...(spec.phase === undefined ? {} : { phase: spec.phase }),
    ...(spec.jitterMs === undefined ? {} : { jitterMs: spec.jitterMs }),
  };
};
