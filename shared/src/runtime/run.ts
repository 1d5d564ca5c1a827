/**
 * One run (scenario × hardware × policy × seed × duration) with every actor on one bus: the
 * embedded default uses the in-memory bus in one process, but any Bus works.
 *
 * Wires the actors (one accelerator actor per accelerator, one model task per scenario model, one
 * scheduler), waits for the scheduler to finish, and turns its frame records into metrics.
 */
import type { AccelModelCosts } from "../actors/accelerator-logic";
import type { KernelConfig, KernelMode, SchedulerKernel } from "../actors/scheduler-kernel";
import { type TaskConfig, taskPeriodMs } from "../actors/task-logic";
import type { RunEvent } from "../contracts/messages";
import { checkToken } from "../contracts/subjects";
import {
  type FrameRecord,
  type ModelInfo,
  type ModelMetrics,
  type RunSummary,
  UXCOST_DEFINITION,
  modelMetrics,
  runSummary,
} from "../domain/metrics";
import type { Hardware, ModelCosts, Scenario } from "../domain/types";
import type { Policy, PolicyParams } from "../policies/types";
import type { Bus } from "./bus";
import { type Hosted, type KernelObserver, type RejectListener, hostAccelerator, hostModelTasks, hostScheduler } from "./host";
import { createMemoryBus } from "./memory-bus";

export interface RunOptions {
  readonly scenario: Scenario;
  readonly hardware: Hardware;
  /** Per scenario model name: its costs on every accelerator of `hardware`. */
  readonly costs: ReadonlyMap<string, ModelCosts>;
  readonly policy: Policy;
  readonly durationMs: number;
  readonly seed: number;
  /** Layers per dispatched block (block-granular policies); default 1 (layer granularity). */
  readonly blockSize?: number;
  /** Seeded phase offsets of model tasks (exact mode); default true. */
  readonly phase?: boolean;
  /** Bound of the seeded release delay, ms (exact mode); default 0. */
  readonly jitterMs?: number;
  /** Window of the per-model recent miss rate, ms; default 1000. */
  readonly missWindowMs?: number;
  /** Run id (subject token); default "embedded". */
  readonly run?: string;
  /** Default: a fresh in-memory bus, closed after the run. */
  readonly bus?: Bus;
  readonly onEvent?: (event: RunEvent) => void;
  readonly onReject?: RejectListener;
  /** Tap on the scheduler kernel's inputs and effects (event log recording). */
  readonly observer?: KernelObserver;
}

export interface RunResult {
  readonly run: string;
  readonly scenario: string;
  readonly hardware: string;
  readonly policy: string;
  readonly params: PolicyParams;
  readonly seed: number;
  readonly durationMs: number;
  /** Simulated time at which the run ended. */
  readonly endedAtMs: number;
  readonly models: ReadonlyArray<ModelMetrics>;
  readonly summary: RunSummary;
  readonly frames: ReadonlyArray<FrameRecord>;
  readonly decisions: number;
  readonly uxCostDefinition: string;
  /** Payloads refused at the edge during the run. */
  readonly rejected: number;
}

/** Ideal frame energy and optimistic latency of a model on a hardware (DESIGN.md §7). */
export const modelInfo = (name: string, targetFps: number, periodMs: number, costs: ModelCosts): ModelInfo => {
  let ideal = 0;
  let optimistic = 0;
  for (let l = 0; l < costs.layerCount; l++) {
    let e = Number.POSITIVE_INFINITY;
    let t = Number.POSITIVE_INFINITY;
    for (let a = 0; a < costs.energyMJ.length; a++) {
      e = Math.min(e, costs.energyMJ[a]![l]!);
      t = Math.min(t, costs.latencyMs[a]![l]!);
    }
    ideal += e;
    optimistic += t;
  }
  return { name, targetFps, periodMs, idealFrameEnergyMJ: ideal, optimisticLatencyMs: optimistic };
};

const costsOf = (costs: ReadonlyMap<string, ModelCosts>, model: string): ModelCosts => {
  const c = costs.get(model);
  if (c === undefined) throw new Error(`no costs for scenario model ${model}`);
  return c;
};

/** The slice of the cost table one accelerator needs: its own column, per model. */
export const acceleratorCosts = (costs: ReadonlyMap<string, ModelCosts>, accIndex: number): Map<string, AccelModelCosts> =>
  new Map([...costs].map(([name, c]) => [name, { cycles: c.cycles[accIndex]!, energyMJ: c.energyMJ[accIndex]! }]));

/** The xrbench policy runs in the XRBench runtime's own semantics; every other policy in exact mode. */
export const modeOf = (policy: Policy): KernelMode => (policy.name === "xrbench" ? "xrbench" : "exact");

export const taskConfigsFor = (opts: RunOptions, run: string): TaskConfig[] =>
  opts.scenario.models.map((m) => ({
    run,
    name: m.name,
    fps: m.fps,
    probability: m.probability,
    dependsOn: m.dependsOn,
    mode: modeOf(opts.policy),
    durationMs: opts.durationMs,
    seed: opts.seed,
    phase: opts.phase ?? true,
    jitterMs: opts.jitterMs ?? 0,
    ...(m.active === undefined ? {} : { active: m.active }),
    ...(m.exits === undefined ? {} : { exits: m.exits }),
    ...(m.skips === undefined ? {} : { skips: m.skips }),
  }));

export const kernelConfigFor = (opts: RunOptions, run: string): KernelConfig => {
  const mode = modeOf(opts.policy);
  const dynamic = opts.scenario.models.find((m) => m.active !== undefined || m.exits !== undefined || m.skips !== undefined);
  if (mode === "xrbench" && dynamic !== undefined) {
    throw new Error(`scenario ${opts.scenario.name} is dynamic (model ${dynamic.name}); the xrbench runtime supports static scenarios only`);
  }
  if (mode === "exact") {
    const multi = opts.scenario.models.find((m) => m.dependsOn.length > 1);
    if (multi !== undefined) throw new Error(`model ${multi.name}: a cascade with more than one parent is not supported`);
  }
  const maxFps = Math.max(...opts.scenario.models.map((m) => m.fps));
  return {
    run,
    mode,
    blockSize: opts.blockSize ?? 1,
    missWindowMs: opts.missWindowMs ?? 1000,
    policy: opts.policy,
    models: opts.scenario.models.map((m) => ({
      name: m.name,
      periodMs: taskPeriodMs({ fps: m.fps, mode }),
      dependsOn: m.dependsOn,
      costs: costsOf(opts.costs, m.name),
      probability: m.probability,
      ...(m.exits === undefined ? {} : { exits: m.exits }),
      ...(m.skips === undefined ? {} : { skips: m.skips }),
    })),
    accelerators: opts.hardware.accelerators.map((a) => ({ id: a.id })),
    durationMs: opts.durationMs,
    baseTickMs: Math.floor(1000 / maxFps),
  };
};

export class AccountingError extends Error {
  constructor(message: string) {
    super(`accounting invariant violated: ${message}`);
    this.name = "AccountingError";
  }
}

/**
 * The accounting invariant, checked at the end of every run: every released frame ends exactly
 * once (on time, late or dropped; `unfinished` only in xrbench mode, whose runtime never logs
 * them), and the energy charged to frames equals the energy of the executed blocks.
 */
export const checkAccounting = (frames: ReadonlyArray<FrameRecord>, kernel: SchedulerKernel): void => {
  const seen = new Set<string>();
  for (const f of frames) {
    const id = `${f.model}:${f.frame}`;
    if (seen.has(id)) throw new AccountingError(`frame ${id} recorded twice`);
    seen.add(id);
    if (f.outcome === "unfinished" && kernel.cfg.mode !== "xrbench") throw new AccountingError(`frame ${id} never ended`);
    if ((f.outcome === "onTime" || f.outcome === "late") && f.completionAt === undefined) {
      throw new AccountingError(`frame ${id} is ${f.outcome} without a completion time`);
    }
  }
  const charged = frames.reduce((s, f) => s + f.energyMJ, 0);
  if (Math.abs(charged - kernel.blockEnergyMJ) > 1e-6 * Math.max(1, kernel.blockEnergyMJ)) {
    throw new AccountingError(`frames were charged ${charged} mJ but the executed blocks cost ${kernel.blockEnergyMJ} mJ`);
  }
};

/** Metrics of a finished run from the scheduler kernel's frame records (after checking the accounting invariant). */
export const resultOf = (opts: RunOptions, run: string, kernel: SchedulerKernel, rejected: number): RunResult => {
  const frames = kernel.frameRecords();
  checkAccounting(frames, kernel);
  const periods = new Map(kernel.cfg.models.map((m) => [m.name, m.periodMs]));
  const models = opts.scenario.models.map((m) =>
    modelMetrics(
      modelInfo(m.name, m.fps, periods.get(m.name)!, costsOf(opts.costs, m.name)),
      frames.filter((f) => f.model === m.name),
      opts.durationMs,
    ),
  );
  return {
    run,
    scenario: opts.scenario.name,
    hardware: opts.hardware.name,
    policy: opts.policy.name,
    params: opts.policy.params,
    seed: opts.seed,
    durationMs: opts.durationMs,
    endedAtMs: kernel.time,
    models,
    summary: runSummary(models, opts.durationMs),
    frames,
    decisions: kernel.decisions,
    uxCostDefinition: UXCOST_DEFINITION,
    rejected,
  };
};

/** Counts payloads refused at the edge, passing them on to the caller's listener. */
export const rejectCounter = (listener?: RejectListener): { onReject: RejectListener; count(): number } => {
  let n = 0;
  return {
    onReject: (subject, message) => {
      n++;
      listener?.(subject, message);
    },
    count: () => n,
  };
};

/** Hosts only the scheduler of a run (its tasks and accelerators live elsewhere on the bus) and waits for the result. */
export const runScheduler = async (opts: RunOptions & { readonly bus: Bus; readonly expectTasks?: boolean }): Promise<RunResult> => {
  const run = checkToken("run id", opts.run ?? "embedded");
  const rejects = rejectCounter(opts.onReject);
  const scheduler = hostScheduler(opts.bus, kernelConfigFor(opts, run), {
    onReject: rejects.onReject,
    expectTasks: opts.expectTasks ?? true,
    ...(opts.onEvent === undefined ? {} : { onEvent: opts.onEvent }),
    ...(opts.observer === undefined ? {} : { observer: opts.observer }),
  });
  try {
    const outcome = await scheduler.done;
    return resultOf(opts, run, outcome.kernel, rejects.count());
  } finally {
    scheduler.stop();
  }
};

export const runScenario = async (opts: RunOptions): Promise<RunResult> => {
  const run = checkToken("run id", opts.run ?? "embedded");
  const bus = opts.bus ?? createMemoryBus();
  const rejects = rejectCounter(opts.onReject);
  const onReject = rejects.onReject;
  const kernel = kernelConfigFor(opts, run);
  const hosted: Hosted[] = [];
  const scheduler = hostScheduler(bus, kernel, {
    onReject,
    expectTasks: true,
    ...(opts.onEvent === undefined ? {} : { onEvent: opts.onEvent }),
    ...(opts.observer === undefined ? {} : { observer: opts.observer }),
  });
  try {
    hosted.push(...hostModelTasks(bus, taskConfigsFor(opts, run), { onReject }));
    opts.hardware.accelerators.forEach((spec, i) => {
      hosted.push(hostAccelerator(bus, run, spec, acceleratorCosts(opts.costs, i), { onReject }));
    });
    const outcome = await scheduler.done;
    return resultOf(opts, run, outcome.kernel, rejects.count());
  } finally {
    scheduler.stop();
    for (const h of hosted) h.stop();
    if (opts.bus === undefined) await bus.close();
  }
};
