/**
 * Replay (DESIGN.md §4 rule 3, §9): a recorded log's inputs fed through a fresh SchedulerKernel
 * reproduce every event, decision by decision. No bus, no actors: the kernel is a pure reducer,
 * so replay is `applyInput` in a loop, compared in lockstep with the recorded events.
 *
 * The kernel is rebuilt from the header alone (STYLE.md practice 11): the policy by name with the
 * recorded parameters (every one, defaults included, so today's defaults do not matter), the costs,
 * the scenario, hardware and options as recorded.
 *
 * Also here: the recorded run's metrics recomputed from its frame events, and `resimulate`, which
 * runs the header's workload (same scenario, hardware, seed, duration, options — so the same
 * releases and trigger draws, which are counter-based per frame) under another policy.
 */
import { executeBlock } from "../actors/accelerator-logic";
import { SchedulerKernel, applyInput } from "../actors/scheduler-kernel";
import type { KernelEffect, KernelReply } from "../actors/scheduler-kernel";
import { type TaskConfig, type TaskState, initialTaskState, onParentEnded, onTick } from "../actors/task-logic";
import type { InputEntry, LogHeader } from "../contracts/log";
import { jobId } from "../contracts/job-id";
import type { RunEvent } from "../contracts/messages";
import { type FrameRecord, type ModelMetrics, type RunSummary, modelMetrics, runSummary } from "../domain/metrics";
import { POLICIES, resolvePolicy } from "../policies/catalogue";
import type { Policy } from "../policies/types";
import { behaviourOf } from "./event-log/header";
import { type LogStatus, type OpenedLog, headerPeriodMs, kernelConfigFromHeader, kernelInputOf, runOptionsFromHeader } from "./event-log";
import { type RunOptions, type RunResult, modelInfo, runScenario } from "./run";
import { acceleratorCosts, runVariants, taskConfigsFor } from "./setup";
import { errorMessage } from "../contracts/errors";

/**
 * Parameter values a log of an older scheduling behaviour implies for parameters added since (it
 * could not record them): the policy's capabilities say which (sdrm3 in a behaviour-1 log: the
 * values that reproduce behaviour 1).
 */
const impliedParams = (header: LogHeader): Readonly<Record<string, number>> =>
  POLICIES.get(header.policy.name)?.capabilities.earlierBehaviours?.[behaviourOf(header)] ?? {};

/** The policy a header names, with its recorded parameters (all of them; those its behaviour implies). */
export const recordedPolicy = (header: LogHeader): Policy => resolvePolicy(header.policy.name, { ...impliedParams(header), ...header.policy.params });

/**
 * Parameters today's policy has that the header does not record (added after the log was made):
 * replay can only give them today's defaults, which may change decisions. Replay says so.
 */
export const paramsNotInHeader = (header: LogHeader): Array<{ readonly name: string; readonly value: number }> => {
  const factory = POLICIES.get(header.policy.name);
  if (factory === undefined) return [];
  const implied = impliedParams(header);
  return factory.params.filter((p) => !Object.hasOwn(header.policy.params, p.name) && !Object.hasOwn(implied, p.name)).map((p) => ({ name: p.name, value: p.default }));
};

/** Structural equality of decoded JSON-like values (NaN equals NaN; key order is irrelevant). */
export const sameValue = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
};

export interface ScoreDiff {
  readonly key: string;
  readonly expected: number | undefined;
  readonly actual: number | undefined;
}

/** Where a replay first differs from its log. */
export interface Divergence {
  /** Sequence number of the log entry at which it shows (the header is line 1: line = seq + 1). */
  readonly seq: number;
  readonly at: number;
  /**
   * "event": the replay produced another event than the recorded one; "missing": the log has an
   * event the replay did not produce; "extra": the replay produced an event the log does not have;
   * "rejected": the kernel refused a recorded input (its state has already diverged); "input": a
   * recorded reply differs from the one the header gives (an accelerator's latency and energy from
   * its cost table, a model task's releases and trigger draws from its seed): the input was tampered with.
   */
  readonly kind: "event" | "missing" | "extra" | "rejected" | "input";
  readonly expected: RunEvent | undefined;
  readonly actual: RunEvent | undefined;
  readonly message: string;
  /** For two decisions: the scores that differ. */
  readonly scoreDiffs: ReadonlyArray<ScoreDiff>;
}

export interface ReplayOptions {
  /** Stop after the entry with this sequence number. */
  readonly untilSeq?: number;
  /** Stop before the first input that arrives after this virtual time, ms. */
  readonly untilTimeMs?: number;
  /** Wraps the rebuilt policy, and each policy the online tuner installs (explain looks at every scheduling point through it). */
  readonly wrapPolicy?: (policy: Policy) => Policy;
  /** Called after each input is applied; return true to stop the replay there. */
  readonly onInput?: (entry: InputEntry, effects: ReadonlyArray<KernelEffect>) => boolean | void;
  /** Called for each recorded event once it has been compared (identical or not). */
  readonly onEvent?: (event: RunEvent, seq: number) => void;
}

export interface ReplayReport {
  readonly header: LogHeader;
  readonly status: LogStatus;
  readonly kernel: SchedulerKernel;
  /** Inputs fed to the kernel. */
  readonly inputs: number;
  /** Recorded events compared and found identical. */
  readonly events: number;
  /** …of which decisions. */
  readonly decisions: number;
  /** Sequence number of the last entry used. */
  readonly lastSeq: number;
  readonly divergence: Divergence | undefined;
  /** Why the replay stopped before the end of the log, if it did. */
  readonly stopped: "untilSeq" | "untilTime" | "caller" | undefined;
}

export const scoreDiffs = (expected: RunEvent | undefined, actual: RunEvent | undefined): ScoreDiff[] => {
  if (expected?._tag !== "decision" || actual?._tag !== "decision") return [];
  const e = expected.scores ?? {};
  const a = actual.scores ?? {};
  const keys = [...new Set([...Object.keys(e), ...Object.keys(a)])];
  return keys.filter((k) => !sameValue(e[k], a[k])).map((k) => ({ key: k, expected: e[k], actual: a[k] }));
};

/** One line per event, for messages: `decision #12 dispatch VR:3 -> acc1 layers 4+1`. */
export const describeEvent = (e: RunEvent | undefined): string => {
  if (e === undefined) return "(nothing)";
  switch (e._tag) {
    case "decision":
      return e.action === "dispatch"
        ? `decision #${e.n} dispatch ${e.job} -> ${e.acc} layers ${e.firstLayer}..${e.firstLayer + e.layerCount - 1}${e.variant === undefined ? "" : ` variant ${e.variant}`}`
        : `decision #${e.n} drop ${e.job} (${e.reason})`;
    case "frame.released":
      return `frame.released ${jobId(e.frame.model, e.frame.frame)} (deadline ${e.frame.deadline})`;
    case "block.dispatched":
      return `block.dispatched ${e.job} on ${e.acc} layers ${e.firstLayer}..${e.firstLayer + e.layerCount - 1} until ${e.completesAt}`;
    case "frame.ended":
      return `frame.ended ${e.job} ${e.outcome}${e.reason === undefined ? "" : ` (${e.reason})`}`;
    case "run.finished":
      return "run.finished";
    default:
      return describeOther(e);
  }
};

/** Events without a dedicated description (e.g. a tuning step): the tag and the fields. */
const describeOther = (e: { readonly _tag: string }): string => {
  const { _tag, v: _v, run: _run, ...rest } = e as { _tag: string; v?: unknown; run?: unknown };
  return `${_tag} ${JSON.stringify(rest)}`;
};

/**
 * What the run's accelerators and model tasks answer to the kernel's requests, recomputed from the
 * header alone: the accelerators' replies from its cost table (accelerator-logic, as the direct
 * engine does), the tasks' from its seed (task-logic; a task's state follows the requests in the
 * order the kernel makes them, which is the order its actor answers them). Replay compares every
 * recorded reply with this one before feeding it: nothing it can recompute is taken on trust.
 */
class RecomputedReplies {
  private readonly tasks: Map<string, { readonly cfg: TaskConfig; state: TaskState }>;
  private readonly accelerators: Map<string, ReturnType<typeof acceleratorCosts>>;
  private readonly expected = new Map<number, { readonly reply: KernelReply | undefined; readonly why: string; readonly what: string }>();

  constructor(header: LogHeader) {
    const opts = runOptionsFromHeader(header, recordedPolicy(header));
    this.tasks = new Map(taskConfigsFor(opts, header.run).map((cfg) => [cfg.name, { cfg, state: initialTaskState(cfg) }]));
    this.accelerators = new Map(opts.hardware.accelerators.map((spec, i) => [spec.id, acceleratorCosts(opts.costs, i, runVariants(opts))]));
  }

  /** Records the reply each request of `effects` must get. */
  requested(effects: ReadonlyArray<KernelEffect>): void {
    for (const e of effects) {
      if (e.kind !== "request") continue;
      const m = e.message;
      if (m._tag === "block.dispatch") {
        const costs = this.accelerators.get(m.acc);
        const r = costs === undefined ? undefined : executeBlock(costs, m);
        const what = `accelerator ${m.acc}'s reply to the dispatch of ${m.job} layers ${m.firstLayer}..${m.firstLayer + m.layerCount - 1}`;
        this.expected.set(e.corr, r?._tag === "block.result" ? { reply: r, why: "the header's cost table gives", what } : { reply: undefined, why: `the header's cost table cannot answer it (${r?.message ?? `no accelerator ${m.acc}`})`, what });
        continue;
      }
      const task = e.to.kind === "task" ? this.tasks.get(e.to.name) : undefined;
      if (task === undefined) continue;
      const step = m._tag === "task.tick" ? onTick(task.cfg, task.state, m.at) : m._tag === "task.parentEnded" ? onParentEnded(task.cfg, task.state, m) : undefined;
      if (step === undefined) continue;
      task.state = step[0];
      this.expected.set(e.corr, { reply: step[1], why: `the header's seed ${task.cfg.seed} gives`, what: `model task ${task.cfg.name}'s reply to ${m._tag} at t=${m.at} ms` });
    }
  }

  /** Why the recorded reply to request `corr` is not the recomputed one, or undefined when it is (or the request is unknown: the kernel refuses that itself). */
  check(corr: number, recorded: unknown): string | undefined {
    const want = this.expected.get(corr);
    if (want === undefined) return undefined;
    this.expected.delete(corr);
    if (want.reply === undefined) return `${want.what} was recorded, but ${want.why}`;
    if (sameValue(want.reply, recorded)) return undefined;
    const got = (typeof recorded === "object" && recorded !== null ? recorded : {}) as Record<string, unknown>;
    const fields = [...new Set([...Object.keys(want.reply), ...Object.keys(got)])].filter((k) => !sameValue((want.reply as unknown as Record<string, unknown>)[k], got[k]));
    const shown = fields.map((k) => `${k} ${short(got[k])} recorded, ${short((want.reply as unknown as Record<string, unknown>)[k])} recomputed`);
    return `${want.what} differs from what ${want.why}: ${shown.join("; ")} (a tampered input)`;
  }
}

const short = (v: unknown): string => {
  const s = JSON.stringify(v) ?? "undefined";
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/**
 * Replays `log` through a fresh kernel built from its header, comparing every recorded event with
 * the one the kernel produces, in order; stops at the first divergence.
 */
export const replayLog = async (log: OpenedLog, opts: ReplayOptions = {}): Promise<ReplayReport> => {
  const { header } = log;
  const base = recordedPolicy(header);
  const wrap = opts.wrapPolicy;
  const cfg = kernelConfigFromHeader(header, wrap === undefined ? base : wrap(base));
  const tuning = cfg.tuning;
  // The online tuner installs re-parameterised policies as the run goes: wrap those too.
  const kernel = new SchedulerKernel(
    wrap === undefined || tuning === undefined
      ? cfg
      : { ...cfg, tuning: { ...tuning, tuner: (ctx) => { const r = tuning.tuner(ctx); return { ...r, policy: wrap(r.policy) }; } } },
  );
  const replies = new RecomputedReplies(header);
  let produced: RunEvent[] = [];
  let next = 0;
  let inputs = 0;
  let events = 0;
  let decisions = 0;
  let lastSeq = 0;
  let lastAt = 0;
  let divergence: Divergence | undefined;
  let stopped: ReplayReport["stopped"];
  const diverge = (d: Omit<Divergence, "scoreDiffs">) => {
    divergence = { ...d, scoreDiffs: scoreDiffs(d.expected, d.actual) };
  };
  const report = (): ReplayReport => ({ header, status: log.status, kernel, inputs, events, decisions, lastSeq, divergence, stopped });

  for await (const entry of log.entries) {
    if (opts.untilSeq !== undefined && entry.seq > opts.untilSeq) {
      stopped = "untilSeq";
      break;
    }
    if (entry.type === "input") {
      if (opts.untilTimeMs !== undefined && entry.at > opts.untilTimeMs) {
        stopped = "untilTime";
        break;
      }
      if (next < produced.length) {
        const actual = produced[next]!;
        diverge({ seq: entry.seq, at: entry.at, kind: "extra", expected: undefined, actual, message: `the replay produced ${describeEvent(actual)}, the log has the next input instead` });
        break;
      }
      const input = kernelInputOf(entry);
      const tampered = input.kind === "reply" ? replies.check(input.corr, input.reply) : undefined;
      if (tampered !== undefined) {
        diverge({ seq: entry.seq, at: entry.at, kind: "input", expected: undefined, actual: undefined, message: tampered });
        break;
      }
      let effects: KernelEffect[];
      try {
        effects = applyInput(kernel, input);
      } catch (e) {
        const why = errorMessage(e);
        diverge({ seq: entry.seq, at: entry.at, kind: "rejected", expected: undefined, actual: undefined, message: `the kernel refused the recorded input (${why})` });
        break;
      }
      inputs++;
      lastSeq = entry.seq;
      lastAt = entry.at;
      produced = [];
      next = 0;
      for (const e of effects) if (e.kind === "event") produced.push(e.event);
      replies.requested(effects);
      if (opts.onInput?.(entry, effects) === true) {
        stopped = "caller";
        break;
      }
      continue;
    }
    const expected = entry.payload;
    const actual = produced[next];
    if (actual === undefined) {
      diverge({ seq: entry.seq, at: entry.at, kind: "missing", expected, actual, message: `the log has ${describeEvent(expected)}, the replay produced nothing more` });
      break;
    }
    next++;
    if (!sameValue(expected, actual)) {
      diverge({ seq: entry.seq, at: entry.at, kind: "event", expected, actual, message: `expected ${describeEvent(expected)}, the replay produced ${describeEvent(actual)}` });
      break;
    }
    events++;
    if (expected._tag === "decision") decisions++;
    lastSeq = entry.seq;
    lastAt = entry.at;
    opts.onEvent?.(expected, entry.seq);
  }
  if (divergence === undefined && stopped === undefined && log.status.finished && next < produced.length) {
    const actual = produced[next]!;
    diverge({ seq: lastSeq + 1, at: lastAt, kind: "extra", expected: undefined, actual, message: `the replay produced ${describeEvent(actual)} after the log's last entry` });
  }
  return report();
};

// ─── metrics of a recorded run, and re-simulation under another policy ─────────────────────

/** Rebuilds frame records from a run's events (what the kernel's frameRecords() gave the run). */
export class FrameCollector {
  private readonly frames = new Map<string, {
    model: string;
    frame: number;
    releaseAt: number;
    injectAt: number;
    deadline: number;
    outcome: FrameRecord["outcome"];
    dispatchAt: number | undefined;
    completionAt: number | undefined;
    acc: number | undefined;
    energyMJ: number;
    lastCompletesAt: number | undefined;
    variant?: number;
    accuracy?: number;
  }>();
  private readonly accIndex: ReadonlyMap<string, number>;
  /** Supernet runs: per scenario model, each variant's relative accuracy. */
  private readonly accuracies: ReadonlyMap<string, ReadonlyArray<number>>;

  constructor(header: LogHeader) {
    this.accIndex = new Map(header.hardware.accelerators.map((a, i) => [a.id, i]));
    this.accuracies = new Map((header.variants ?? []).map((m) => [m.name, m.variants.map((v) => v.accuracy)]));
  }

  add(e: RunEvent): void {
    switch (e._tag) {
      case "frame.released": {
        const f = e.frame;
        this.frames.set(jobId(f.model, f.frame), {
          ...f,
          outcome: "unfinished",
          dispatchAt: undefined,
          completionAt: undefined,
          acc: undefined,
          energyMJ: 0,
          lastCompletesAt: undefined,
        });
        return;
      }
      case "block.dispatched": {
        const f = this.frames.get(e.job);
        if (f === undefined) return;
        f.energyMJ += e.energyMJ;
        f.dispatchAt ??= e.at;
        f.acc = this.accIndex.get(e.acc);
        f.lastCompletesAt = e.completesAt;
        if (e.variant !== undefined) {
          f.variant = e.variant;
          f.accuracy = this.accuracies.get(f.model)?.[e.variant] ?? 1;
        }
        return;
      }
      case "frame.ended": {
        const f = this.frames.get(e.job);
        if (f === undefined) return;
        f.outcome = e.outcome;
        if (e.outcome !== "dropped") f.completionAt = f.lastCompletesAt;
        return;
      }
      default:
        return;
    }
  }

  /** In release order, as the kernel lists them. */
  records(): FrameRecord[] {
    return [...this.frames.values()].map(({ lastCompletesAt: _, ...r }) => r);
  }
}

export interface RunMetrics {
  readonly policy: string;
  readonly models: ReadonlyArray<ModelMetrics>;
  readonly summary: RunSummary;
  readonly decisions: number;
}

/** Per-model metrics and the summary of frames from the header's workload (as runScenario computes them). */
export const metricsFromFrames = (header: LogHeader, frames: ReadonlyArray<FrameRecord>, policy: string, decisions: number): RunMetrics => {
  const opts = runOptionsFromHeader(header, recordedPolicy(header));
  const models = header.scenario.models.map((m) =>
    modelMetrics(
      modelInfo(m.name, m.fps, headerPeriodMs(header, m.name), opts.costs.get(m.name)!),
      frames.filter((f) => f.model === m.name),
      header.durationMs,
    ),
  );
  return { policy, models, summary: runSummary(models, header.durationMs), decisions };
};

/** The recorded run's metrics, recomputed from the log's events (reads the whole log). */
export const recordedMetrics = async (log: OpenedLog): Promise<RunMetrics & { readonly frames: ReadonlyArray<FrameRecord> }> => {
  const collector = new FrameCollector(log.header);
  let decisions = 0;
  for await (const entry of log.entries) {
    if (entry.type === "input") continue;
    collector.add(entry.payload);
    if (entry.type === "decision") decisions++;
  }
  const frames = collector.records();
  return { ...metricsFromFrames(log.header, frames, log.header.policy.name, decisions), frames };
};

/**
 * Runs the header's workload under `policy` (same releases and trigger draws; see the module doc).
 * Always in virtual time: a live run's timing cannot be re-created, so its re-simulation is the
 * virtual-time run of the same workload.
 */
export const resimulate = (header: LogHeader, policy: Policy, extra: Partial<Pick<RunOptions, "observer" | "onEvent">> = {}): Promise<RunResult> => {
  const { live: _live, ...opts } = runOptionsFromHeader(header, policy);
  return runScenario({ ...opts, ...extra });
};

export interface ReleaseComparison {
  readonly identical: boolean;
  readonly recorded: number;
  readonly resimulated: number;
  /** The first frame that differs (model:frame and what). */
  readonly firstDifference: string | undefined;
}

/**
 * Compares the frames two runs released: same (model, frame) set, same nominal release and
 * deadline. (Injection times of cascaded frames follow their parent's end, so they may differ.)
 */
export const compareReleases = (a: ReadonlyArray<FrameRecord>, b: ReadonlyArray<FrameRecord>): ReleaseComparison => {
  const key = (f: FrameRecord) => jobId(f.model, f.frame);
  const mb = new Map(b.map((f) => [key(f), f]));
  let first: string | undefined;
  for (const f of a) {
    const g = mb.get(key(f));
    if (g === undefined) first ??= `${key(f)} released only in the recorded run (at ${f.releaseAt} ms)`;
    else if (g.releaseAt !== f.releaseAt || g.deadline !== f.deadline) {
      first ??= `${key(f)}: release ${f.releaseAt} / deadline ${f.deadline} ms recorded, ${g.releaseAt} / ${g.deadline} ms re-simulated`;
    }
    mb.delete(key(f));
  }
  for (const g of mb.values()) first ??= `${key(g)} released only in the re-simulated run (at ${g.releaseAt} ms)`;
  return { identical: first === undefined, recorded: a.length, resimulated: b.length, firstDifference: first };
};
