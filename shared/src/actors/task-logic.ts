/**
 * Release logic of one model task (DESIGN.md §5), as pure functions of a small state. Every draw
 * comes from the task's own seeded stream (run seed × task name), indexed by frame id
 * (domain/prng drawAt): frame k's trigger, jitter and probability draws are the same whatever the
 * policy or the order in which frames end.
 *
 * Mode `xrbench` reproduces the XRBench load generator: period P = 1000 div FPS (integer
 * division), N = floor(duration / P) frames, frame f released nominally at f·P with deadline
 * (f+1)·P, injected at the first scheduler event at or after its release, at most one frame per
 * event; a model with trigger probability p injects a frame only if p > a fresh uniform draw (XRBench
 * seeds it from the wall clock), and a skipped frame still uses up its frame id. Cascades are gated
 * in the scheduler by completion counts, so a parent's end releases nothing here.
 *
 * Mode `exact` (the project's semantics): period T = 1000 / FPS; a root task starts at a seeded
 * phase φ ∈ [0, T) (0 when phases are off) and releases frame k at k·T + φ plus a seeded delay in
 * [0, jitter), with deadline (k+1)·T + φ, while k·T + φ < duration. A cascaded task has no timer:
 * when its parent's frame k ends it draws Bernoulli(p) and, on success, releases frame k at once
 * with deadline = the parent frame's nominal release + T (the scheduler drops it at once if the
 * parent was dropped).
 */
import type { ReleasedFrame, TaskParentEnded, TaskReleased } from "../contracts/messages";
import { PROTOCOL_VERSION } from "../contracts/messages";
import { drawAt } from "../domain/prng";
import type { ActiveInterval, ScenarioModel } from "../domain/types";

export interface TaskConfig {
  readonly run: string;
  /** Scenario model name. */
  readonly name: string;
  readonly fps: number;
  readonly probability: number;
  /** Cascade parents; in exact mode a task with a parent releases only on the parent's end. */
  readonly dependsOn: ReadonlyArray<string>;
  readonly mode: "xrbench" | "exact";
  readonly durationMs: number;
  readonly seed: number;
  /** exact mode: start each active interval at a seeded phase offset in [0, T). */
  readonly phase: boolean;
  /** exact mode: bound of the seeded release delay, ms (0 = none). */
  readonly jitterMs: number;
  /** exact mode: when the task is active and at which FPS; default: the whole run at `fps`. */
  readonly active?: ReadonlyArray<ActiveInterval>;
  /** exact mode: early exits and skippable layers, drawn per frame at release. */
  readonly exits?: ScenarioModel["exits"];
  readonly skips?: ScenarioModel["skips"];
}

export interface TaskState {
  readonly nextFrame: number;
  /** exact mode: index of the current active interval and of the next frame within it. */
  readonly interval: number;
  readonly k: number;
  /** exact mode: phase offset φ of the current interval. */
  readonly phaseMs: number;
  /** exact mode: actual time of the next release (nominal + delay); null when none is left. */
  readonly nextReleaseAt: number | null;
  readonly released: number;
  readonly skipped: number;
}

export const taskPeriodMs = (cfg: Pick<TaskConfig, "fps" | "mode">): number =>
  cfg.mode === "xrbench" ? Math.floor(1000 / cfg.fps) : 1000 / cfg.fps;

/** xrbench: floor(D / P) frames. exact, static task: frames whose nominal release k·T + φ < D. */
export const taskFrameCount = (cfg: Pick<TaskConfig, "fps" | "mode" | "durationMs">, phaseMs = 0): number =>
  cfg.mode === "xrbench"
    ? Math.floor(cfg.durationMs / taskPeriodMs(cfg))
    : Math.max(0, Math.ceil((cfg.durationMs - phaseMs) / taskPeriodMs(cfg)));

const isCascaded = (cfg: TaskConfig) => cfg.mode === "exact" && cfg.dependsOn.length > 0;

const intervals = (cfg: TaskConfig): ReadonlyArray<ActiveInterval> => cfg.active ?? [{ fromMs: 0, toMs: null, fps: cfg.fps }];

/** Where interval `iv` ends: its own end or the run's, whichever is first. */
const intervalEnd = (cfg: TaskConfig, iv: ActiveInterval) => Math.min(iv.toMs ?? Number.POSITIVE_INFINITY, cfg.durationMs);

const phaseOf = (cfg: TaskConfig, interval: number): number => {
  const iv = intervals(cfg)[interval];
  return iv !== undefined && cfg.phase ? drawAt(cfg.seed, cfg.name, "phase", interval) * (1000 / iv.fps) : 0;
};

/** exact mode: the next (interval, k) at or after the given one whose nominal release is inside its interval. */
const nextSlot = (cfg: TaskConfig, interval: number, k: number): { interval: number; k: number; phaseMs: number; nominal: number } | null => {
  const all = intervals(cfg);
  for (let i = interval, kk = k; i < all.length; i++, kk = 0) {
    const iv = all[i]!;
    const phaseMs = phaseOf(cfg, i);
    const nominal = iv.fromMs + phaseMs + kk * (1000 / iv.fps);
    if (nominal < intervalEnd(cfg, iv)) return { interval: i, k: kk, phaseMs, nominal };
  }
  return null;
};

/** exact mode: when the next frame is actually released (nominal + seeded delay), or null. */
const releaseTime = (cfg: TaskConfig, slot: ReturnType<typeof nextSlot>, frame: number): number | null =>
  slot === null ? null : slot.nominal + (cfg.jitterMs > 0 ? drawAt(cfg.seed, cfg.name, "jitter", frame) * cfg.jitterMs : 0);

/** Trigger draw of frame `f`: released when probability > draw (the XRBench rule). */
const triggers = (cfg: TaskConfig, f: number): boolean => cfg.probability > drawAt(cfg.seed, cfg.name, "trigger", f);

/** The frame's own path through the model: where it exits early and which layers it skips. */
const pathOf = (cfg: TaskConfig, f: number): Pick<ReleasedFrame, "exitAfter" | "skipLayers"> => {
  const exits = [...(cfg.exits ?? [])].sort((a, b) => a.afterLayer - b.afterLayer);
  const exit = exits.find((x, i) => drawAt(cfg.seed, cfg.name, `exit${i}`, f) < x.probability);
  const skipLayers = (cfg.skips ?? [])
    .filter((x, i) => drawAt(cfg.seed, cfg.name, `skip${i}`, f) >= x.probability)
    .map((x) => [x.fromLayer, x.toLayer] as const);
  return {
    ...(exit === undefined ? {} : { exitAfter: exit.afterLayer }),
    ...(skipLayers.length === 0 ? {} : { skipLayers }),
  };
};

export const initialTaskState = (cfg: TaskConfig): TaskState => {
  const none = { nextFrame: 0, interval: 0, k: 0, phaseMs: 0, nextReleaseAt: null, released: 0, skipped: 0 };
  if (cfg.mode === "xrbench" || isCascaded(cfg)) return none;
  const slot = nextSlot(cfg, 0, 0);
  return { ...none, interval: slot?.interval ?? 0, phaseMs: slot?.phaseMs ?? 0, nextReleaseAt: releaseTime(cfg, slot, 0) };
};

/** The next time this task wants a tick, or null when it has no timed release left. */
export const nextTickAt = (cfg: TaskConfig, state: TaskState): number | null => {
  if (cfg.mode === "exact") return state.nextReleaseAt;
  return state.nextFrame < taskFrameCount(cfg) ? state.nextFrame * taskPeriodMs(cfg) : null;
};

export const isExhausted = (cfg: TaskConfig, state: TaskState): boolean => nextTickAt(cfg, state) === null;

/** Whether a cascaded task is active at time `at`, and its period there. */
const activePeriodAt = (cfg: TaskConfig, at: number): number | null => {
  const iv = intervals(cfg).find((x) => x.fromMs <= at && at < (x.toMs ?? Number.POSITIVE_INFINITY));
  return iv === undefined ? null : 1000 / iv.fps;
};

const reply = (cfg: TaskConfig, state: TaskState, frames: ReleasedFrame[], skipped: number[]): TaskReleased => ({
  _tag: "task.released",
  v: PROTOCOL_VERSION,
  run: cfg.run,
  model: cfg.name,
  frames,
  skipped,
  nextAt: nextTickAt(cfg, state),
});

/** A scheduler event at time `at`: release the frame that is due (at most one). */
export const onTick = (cfg: TaskConfig, state: TaskState, at: number): [TaskState, TaskReleased] => {
  const due = nextTickAt(cfg, state);
  if (due === null || due > at) return [state, reply(cfg, state, [], [])];
  const f = state.nextFrame;
  const frames: ReleasedFrame[] = [];
  const skipped: number[] = [];
  let next: TaskState;
  if (cfg.mode === "xrbench") {
    const period = taskPeriodMs(cfg);
    if (triggers(cfg, f)) frames.push({ model: cfg.name, frame: f, releaseAt: f * period, injectAt: at, deadline: (f + 1) * period });
    else skipped.push(f);
    next = { ...state, nextFrame: f + 1 };
  } else {
    const iv = intervals(cfg)[state.interval]!;
    const period = 1000 / iv.fps;
    const releaseAt = iv.fromMs + state.phaseMs + state.k * period;
    if (triggers(cfg, f)) frames.push({ model: cfg.name, frame: f, releaseAt, injectAt: at, deadline: releaseAt + period, ...pathOf(cfg, f) });
    else skipped.push(f);
    const slot = nextSlot(cfg, state.interval, state.k + 1);
    next = {
      ...state,
      nextFrame: f + 1,
      interval: slot?.interval ?? state.interval,
      k: slot?.k ?? state.k + 1,
      phaseMs: slot?.phaseMs ?? state.phaseMs,
      nextReleaseAt: releaseTime(cfg, slot, f + 1),
    };
  }
  next = { ...next, released: state.released + frames.length, skipped: state.skipped + skipped.length };
  return [next, reply(cfg, next, frames, skipped)];
};

/** exact mode: the parent's frame ended; release this task's frame with the same id if the trigger fires. */
export const onParentEnded = (cfg: TaskConfig, state: TaskState, cmd: TaskParentEnded): [TaskState, TaskReleased] => {
  const period = isCascaded(cfg) ? activePeriodAt(cfg, cmd.at) : null;
  if (period === null) return [state, reply(cfg, state, [], [])];
  const fired = triggers(cfg, cmd.frame);
  const frames: ReleasedFrame[] = fired
    ? [{ model: cfg.name, frame: cmd.frame, releaseAt: cmd.releaseAt, injectAt: cmd.at, deadline: cmd.releaseAt + period, ...pathOf(cfg, cmd.frame) }]
    : [];
  const next: TaskState = {
    ...state,
    released: state.released + frames.length,
    skipped: state.skipped + (fired ? 0 : 1),
  };
  return [next, reply(cfg, next, frames, fired ? [] : [cmd.frame])];
};
