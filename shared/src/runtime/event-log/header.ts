/**
 * The log header (line 1): written from a run's options, and turned back into run options and a
 * kernel configuration for a replay. The header carries two versions besides the format's:
 *
 *   sdrm3Version       the release that recorded the log (informational: shown by `sdrm3 replay`)
 *   behaviourVersion   the scheduling behaviour the recording kernel implemented. A replay rebuilds
 *                      the kernel from the header and expects the same decisions, so it refuses a
 *                      log of a behaviour this sdrm3 does not implement instead of reporting a
 *                      false divergence (Temporal's patch markers are the model: a change that
 *                      alters decisions bumps BEHAVIOUR_VERSION, and the kernel keeps the old
 *                      branch for as long as the old version stays in IMPLEMENTED_BEHAVIOURS).
 *                      Absent (logs recorded before it existed): behaviour 1.
 */
import type { KernelConfig } from "../../actors/scheduler-kernel";
import { taskPeriodMs } from "../../actors/task-logic";
import { LOG_FORMAT, LOG_FORMAT_VERSION, type LogHeader, type LoggedModelCosts, type LoggedModelVariants } from "../../contracts/log";
import { PROTOCOL_VERSION } from "../../contracts/messages";
import type { Hardware, ModelCosts, RunVariant, Scenario } from "../../domain/types";
import type { Policy } from "../../policies/types";
import { type RunOptions, kernelConfigFor, modeOf, taskConfigsFor } from "../run";
import { tuningFor } from "../tuner";
import { LogFormatError } from "./errors";
// the shared package's own manifest (kept equal to the root's version by a test)
import sharedPackage from "../../../package.json" with { type: "json" };

/** Version of sdrm3, recorded in every log header. */
export const SDRM3_VERSION: string = sharedPackage.version;

/**
 * The scheduling behaviour this sdrm3 records (bump it with a change that alters decisions).
 * 2: sdrm3 counts the work queued ahead (contend), relaxes only when affordable, sheds overload
 * and ranks critical jobs first (issue 14). A behaviour-1 log records none of those parameters;
 * its replay gives them their behaviour-1 values (all off: SDRM3_BEHAVIOUR_1 in policies/sdrm3.ts).
 * 3: sdrm3 counts the blocking of non-preemptive blocks — an urgent job keeps the energy-efficient
 * fit while affordable (affordableUrgent) and a block that would make a job due earlier miss is not
 * started (blockGuard). A behaviour-2 log records neither; its replay gives them 0 (SDRM3_BEHAVIOUR_2).
 */
export const BEHAVIOUR_VERSION = 3;
/** The behaviours this sdrm3 can replay. */
export const IMPLEMENTED_BEHAVIOURS: ReadonlySet<number> = new Set([1, 2, 3]);

/** The behaviour a header records (1 for logs older than the field). */
export const behaviourOf = (header: LogHeader): number => header.behaviourVersion ?? 1;

/** Refuses a log whose behaviour this sdrm3 does not implement (a replay could not reproduce its decisions). */
export const checkBehaviour = (header: LogHeader, implemented: ReadonlySet<number> = IMPLEMENTED_BEHAVIOURS): void => {
  const v = behaviourOf(header);
  if (implemented.has(v)) return;
  throw new LogFormatError(
    1,
    `the log was recorded with scheduling behaviour version ${v} (by sdrm3 ${header.sdrm3Version}); this sdrm3 ${SDRM3_VERSION} implements behaviour ${[...implemented].join(", ")}, so a replay would not reproduce its decisions: replay it with the sdrm3 that recorded it`,
  );
};

/** The header of a run with these options (every default resolved as the run resolves it). */
export const logHeaderFor = (opts: RunOptions, sdrm3Version = SDRM3_VERSION): LogHeader => {
  const run = opts.run ?? "embedded";
  const kernel = kernelConfigFor(opts, run);
  const task = taskConfigsFor(opts, run)[0];
  return {
    type: "header",
    format: LOG_FORMAT,
    formatVersion: LOG_FORMAT_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    sdrm3Version,
    behaviourVersion: BEHAVIOUR_VERSION,
    run,
    mode: kernel.mode,
    // The whole objects (plain JSON data), so fields added to them later are recorded too.
    scenario: JSON.parse(JSON.stringify(opts.scenario)) as LogHeader["scenario"],
    hardware: JSON.parse(JSON.stringify(opts.hardware)) as LogHeader["hardware"],
    policy: { name: opts.policy.name, params: { ...opts.policy.params } },
    seed: opts.seed,
    durationMs: opts.durationMs,
    blockSize: kernel.blockSize,
    // only when on: a header of a run without a quantum is byte for byte what it was before the field
    ...(kernel.quantumMs === undefined ? {} : { quantumMs: kernel.quantumMs }),
    ...(kernel.queueDepth === undefined ? {} : { queueDepth: kernel.queueDepth }),
    ...(kernel.chainMs === undefined ? {} : { chainMs: kernel.chainMs }),
    ...(kernel.lookaheadMs === undefined ? {} : { lookaheadMs: kernel.lookaheadMs }),
    phase: task?.phase ?? opts.phase ?? true,
    jitterMs: task?.jitterMs ?? opts.jitterMs ?? 0,
    missWindowMs: kernel.missWindowMs,
    costs: opts.scenario.models.map((m) => {
      const c = kernel.models.find((k) => k.name === m.name)!.costs;
      return { name: m.name, model: c.model, layerCount: c.layerCount, cycles: c.cycles.map((a) => Array.from(a)), energyMJ: c.energyMJ.map((a) => Array.from(a)) };
    }),
    ...(kernel.models.some((k) => k.variants !== undefined)
      ? {
          variants: opts.scenario.models.map((m) => ({
            name: m.name,
            variants: kernel.models.find((k) => k.name === m.name)!.variants!.map((v) => ({
              width: v.width,
              accuracy: v.accuracy,
              model: v.costs.model,
              cycles: v.costs.cycles.map((a) => Array.from(a)),
              energyMJ: v.costs.energyMJ.map((a) => Array.from(a)),
            })),
          })),
        }
      : {}),
    ...(opts.live === undefined ? {} : { live: { speed: opts.live.speed, releases: opts.live.releases ?? "ahead", ...(opts.live.toleranceMs ? { toleranceMs: opts.live.toleranceMs } : {}) } }),
    ...(kernel.releases === undefined ? {} : { releases: kernel.releases }),
  };
};

/** Dense costs from the header (latency derived from cycles exactly as the data loader does). */
const modelCostsOf = (c: LoggedModelCosts): ModelCosts => ({
  model: c.model,
  layerCount: c.layerCount,
  cycles: c.cycles.map((a) => Float64Array.from(a)),
  latencyMs: c.cycles.map((a) => Float64Array.from(a, (cy) => cy / 1e6)),
  energyMJ: c.energyMJ.map((a) => Float64Array.from(a)),
});

/** A supernet model's variants from the header (costs dense, latency derived as for the model). */
const variantsOf = (v: LoggedModelVariants, layerCount: number, accCount: number): RunVariant[] =>
  v.variants.map((x, i) => {
    const bad = [x.cycles, x.energyMJ].some((t) => t.length !== accCount || t.some((row) => row.length !== layerCount));
    if (bad) throw new LogFormatError(1, `header: variants of ${v.name}: variant ${i} must be ${accCount} accelerators × ${layerCount} layers`);
    return { width: x.width, accuracy: x.accuracy, costs: modelCostsOf({ name: v.name, model: x.model, layerCount, cycles: x.cycles, energyMJ: x.energyMJ }) };
  });

/**
 * The run options the header describes, under `policy` (the recorded one, or another for a
 * re-simulation). Checks that the header is consistent (costs for every model and accelerator).
 */
export const runOptionsFromHeader = (header: LogHeader, policy: Policy): RunOptions => {
  const accCount = header.hardware.accelerators.length;
  const costs = new Map<string, ModelCosts>();
  for (const m of header.scenario.models) {
    const c = header.costs.find((x) => x.name === m.name);
    if (c === undefined) throw new LogFormatError(1, `header: costs has no entry for scenario model ${m.name}`);
    const bad = [c.cycles, c.energyMJ].some((t) => t.length !== accCount || t.some((row) => row.length !== c.layerCount));
    if (bad) throw new LogFormatError(1, `header: costs of ${m.name} must be ${accCount} accelerators × ${c.layerCount} layers`);
    costs.set(m.name, modelCostsOf(c));
  }
  let variants: Map<string, RunVariant[]> | undefined;
  if (header.variants !== undefined) {
    variants = new Map();
    for (const m of header.scenario.models) {
      const v = header.variants.find((x) => x.name === m.name);
      if (v === undefined) throw new LogFormatError(1, `header: variants has no entry for scenario model ${m.name}`);
      if (v.variants[0]!.width !== 1) throw new LogFormatError(1, `header: variants of ${m.name}: variant 0 must be the full model (width 1), got ${v.variants[0]!.width}`);
      variants.set(m.name, variantsOf(v, costs.get(m.name)!.layerCount, accCount));
    }
  }
  if (header.releases !== undefined && (header.live !== undefined || header.mode !== "exact")) {
    throw new LogFormatError(1, `header: releases "${header.releases}" is a setting of virtual-time runs in exact mode, and this is ${header.live !== undefined ? "a live run (its releases are in live.releases)" : "an xrbench-mode run"}`);
  }
  const scenario: Scenario = header.scenario;
  const hardware: Hardware = header.hardware;
  return {
    scenario,
    hardware,
    costs,
    policy,
    durationMs: header.durationMs,
    seed: header.seed,
    blockSize: header.blockSize,
    ...(header.quantumMs === undefined ? {} : { quantumMs: header.quantumMs }),
    ...(header.queueDepth === undefined ? {} : { queueDepth: header.queueDepth }),
    ...(header.chainMs === undefined ? {} : { chainMs: header.chainMs }),
    ...(header.lookaheadMs === undefined ? {} : { lookaheadMs: header.lookaheadMs }),
    phase: header.phase,
    jitterMs: header.jitterMs,
    missWindowMs: header.missWindowMs,
    run: header.run,
    ...(variants === undefined ? {} : { supernet: true, variants }),
    // a live log without `releases` was recorded before releases were asked ahead (kernel-release.ts)
    // a live log without `toleranceMs` was recorded before the timing tolerance (every event at its clock reading)
    ...(header.live === undefined
      ? {}
      : { live: { speed: header.live.speed, releases: header.live.releases ?? "held", ...(header.live.toleranceMs ? { toleranceMs: header.live.toleranceMs } : {}) } }),
    // a virtual-time log without `releases` was recorded before releases were asked ahead in virtual time
    ...(header.live === undefined && header.mode === "exact" ? { releases: header.releases ?? "held" } : {}),
  };
};

/**
 * The kernel configuration a recorded run used, rebuilt from its header with `policy` (a replay,
 * a resume): refused for a behaviour this sdrm3 does not implement.
 */
export const kernelConfigFromHeader = (header: LogHeader, policy: Policy): KernelConfig => {
  checkBehaviour(header);
  const opts = runOptionsFromHeader(header, policy);
  if (modeOf(policy) !== header.mode) {
    throw new LogFormatError(1, `header: mode ${header.mode} does not match policy ${policy.name} (mode ${modeOf(policy)})`);
  }
  // exactly what a run does (runtime/run): the online tuner, when the recorded parameters turn it on
  return kernelConfigFor(opts, header.run, tuningFor(opts));
};

/** Period of a scenario model in the header's mode. */
export const headerPeriodMs = (header: LogHeader, model: string): number => {
  const m = header.scenario.models.find((x) => x.name === model);
  if (m === undefined) throw new Error(`unknown model ${model}`);
  return taskPeriodMs({ fps: m.fps, mode: header.mode });
};
