/**
 * The run's spec on the side of the services that take it from the scheduler (`serve accelerator|
 * workload|dashboard --run <id>`): the spec (the run's log header, shared/src/nats/run-spec.ts)
 * becomes the resolved run, and a flag that disagrees with it is refused, naming the field.
 */
import type { LogHeader } from "@sdrm3/shared/contracts";
import { type ResolvedRun, recordedPolicy, runOptionsFromHeader } from "@sdrm3/shared/runtime";
import { CliInputError, parseRunDuration, parseSeed } from "./duration";
import { describeBlockRule, parseBlockRule, parseChain, parseLookahead, parseParams, parseQueueDepth } from "./flags";

/** The run's settings as flags: the scheduler's to choose; the other roles may name them only to have them checked against the spec. */
export interface SpecFlags {
  scenario?: string;
  hardware?: string;
  policy?: string;
  param?: string[];
  duration?: string;
  seed?: string;
  block?: string;
  quantum?: string;
  queueDepth?: string;
  chain?: string;
  lookahead?: string;
}

/**
 * Refuses a flag that disagrees with the run's spec (exit 2, naming the field): a service started
 * with another seed, scenario, … would join the run and silently break its determinism.
 */
export const checkAgainstSpec = (flags: SpecFlags, spec: LogHeader, run: string): void => {
  const differs = (flag: string, given: string, field: string, actual: string | number) => {
    throw new CliInputError(`${flag} ${given}: run ${run}'s spec (published by its scheduler) says ${field} ${actual}; leave the flag out to take the spec's`);
  };
  if (flags.scenario !== undefined && flags.scenario !== spec.scenario.name) differs("--scenario", flags.scenario, "scenario", spec.scenario.name);
  if (flags.hardware !== undefined && flags.hardware !== spec.hardware.name) differs("--hardware", flags.hardware, "hardware", spec.hardware.name);
  if (flags.policy !== undefined && flags.policy !== spec.policy.name) differs("--policy", flags.policy, "policy", spec.policy.name);
  if (flags.seed !== undefined && parseSeed(flags.seed) !== spec.seed) differs("--seed", flags.seed, "seed", spec.seed);
  if (flags.duration !== undefined && parseRunDuration(flags.duration) !== spec.durationMs) differs("--duration", flags.duration, "duration", `${spec.durationMs}ms`);
  if (flags.block !== undefined || flags.quantum !== undefined) {
    const rule = parseBlockRule(flags.block, flags.quantum);
    const quantumMs = spec.quantumMs ?? 0;
    if (rule.quantumMs !== quantumMs || (quantumMs === 0 && rule.blockSize !== spec.blockSize)) {
      const [flag, given] = flags.quantum !== undefined ? ["--quantum", flags.quantum] : ["--block", flags.block!];
      if (quantumMs === 0) differs(flag, given, "block", spec.blockSize);
      differs(flag, given, "blocks of", describeBlockRule(spec.blockSize, quantumMs));
    }
  }
  if (flags.queueDepth !== undefined && parseQueueDepth(flags.queueDepth) !== (spec.queueDepth ?? 1)) differs("--queue-depth", flags.queueDepth, "queue depth", spec.queueDepth ?? 1);
  if (flags.chain !== undefined && parseChain(flags.chain) !== (spec.chainMs ?? 0)) differs("--chain", flags.chain, "chain budget", `${spec.chainMs ?? 0}ms`);
  if (flags.lookahead !== undefined && parseLookahead(flags.lookahead) !== spec.lookaheadMs) differs("--lookahead", flags.lookahead, "look-ahead", spec.lookaheadMs === undefined ? "(none)" : `${spec.lookaheadMs}ms`);
  for (const [name, value] of Object.entries(parseParams(flags.param ?? []))) {
    const actual = spec.policy.params[name];
    if (actual !== value) differs("--param", `${name}=${value}`, `${spec.policy.name} parameter ${name}`, actual === undefined ? "(not set)" : actual);
  }
};

/** The run as its spec describes it: what the scheduler resolved (data, costs, options), for the other roles. */
export const resolvedOfSpec = (spec: LogHeader): ResolvedRun => {
  const { run: _run, live: _live, ...resolved } = runOptionsFromHeader(spec, recordedPolicy(spec));
  return resolved;
};

