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
  /** exact mode: start at a seeded phase offset in [0, T). */
  readonly phase: boolean;
  /** exact mode: bound of the seeded release delay, ms (0 = none). */
  readonly jitterMs: number;
}

export interface TaskState {
  readonly nextFrame: number;
  /** exact mode: phase offset φ. */
  readonly phaseMs: number;
  /** exact mode: actual time of the next release (nominal + delay); null when none is left. */
  readonly nextReleaseAt: number | null;
  readonly released: number;
  readonly skipped: number;
}

export const taskPeriodMs = (cfg: Pick<TaskConfig, "fps" | "mode">): number =>
  cfg.mode === "xrbench" ? Math.floor(1000 / cfg.fps) : 1000 / cfg.fps;

/** xrbench: floor(D / P) frames. exact: frames whose nominal release k·T + φ < D (roots). */
export const taskFrameCount = (cfg: Pick<TaskConfig, "fps" | "mode" | "durationMs">, phaseMs = 0): number =>
  cfg.mode === "xrbench"
    ? Math.floor(cfg.durationMs / taskPeriodMs(cfg))
    : Math.max(0, Math.ceil((cfg.durationMs - phaseMs) / taskPeriodMs(cfg)));

const isCascaded = (cfg: TaskConfig) => cfg.mode === "exact" && cfg.dependsOn.length > 0;

/** exact mode: when frame `f` is actually released (nominal + seeded delay), or null past the end. */
const scheduleRelease = (cfg: TaskConfig, phaseMs: number, f: number): number | null => {
  if (isCascaded(cfg) || f >= taskFrameCount(cfg, phaseMs)) return null;
  const delay = cfg.jitterMs > 0 ? drawAt(cfg.seed, cfg.name, "jitter", f) * cfg.jitterMs : 0;
  return f * taskPeriodMs(cfg) + phaseMs + delay;
};

/** Trigger draw of frame `f`: released when probability > draw (the XRBench rule). */
const triggers = (cfg: TaskConfig, f: number): boolean => cfg.probability > drawAt(cfg.seed, cfg.name, "trigger", f);

export const initialTaskState = (cfg: TaskConfig): TaskState => {
  if (cfg.mode === "xrbench") return { nextFrame: 0, phaseMs: 0, nextReleaseAt: null, released: 0, skipped: 0 };
  const phaseMs = cfg.phase && !isCascaded(cfg) ? drawAt(cfg.seed, cfg.name, "phase", 0) * taskPeriodMs(cfg) : 0;
  return { nextFrame: 0, phaseMs, nextReleaseAt: scheduleRelease(cfg, phaseMs, 0), released: 0, skipped: 0 };
};

/** The next time this task wants a tick, or null when it has no timed release left. */
export const nextTickAt = (cfg: TaskConfig, state: TaskState): number | null => {
  if (cfg.mode === "exact") return state.nextReleaseAt;
  return state.nextFrame < taskFrameCount(cfg) ? state.nextFrame * taskPeriodMs(cfg) : null;
};

export const isExhausted = (cfg: TaskConfig, state: TaskState): boolean => nextTickAt(cfg, state) === null;

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
  const period = taskPeriodMs(cfg);
  const f = state.nextFrame;
  const frames: ReleasedFrame[] = [];
  const skipped: number[] = [];
  const releaseAt = f * period + state.phaseMs;
  if (triggers(cfg, f)) {
    frames.push({ model: cfg.name, frame: f, releaseAt, injectAt: at, deadline: releaseAt + period });
  } else {
    skipped.push(f);
  }
  const nextReleaseAt = cfg.mode === "exact" ? scheduleRelease(cfg, state.phaseMs, f + 1) : null;
  const next: TaskState = {
    nextFrame: f + 1,
    phaseMs: state.phaseMs,
    nextReleaseAt,
    released: state.released + frames.length,
    skipped: state.skipped + skipped.length,
  };
  return [next, reply(cfg, next, frames, skipped)];
};

/** exact mode: the parent's frame ended; release this task's frame with the same id if the trigger fires. */
export const onParentEnded = (cfg: TaskConfig, state: TaskState, cmd: TaskParentEnded): [TaskState, TaskReleased] => {
  if (!isCascaded(cfg)) return [state, reply(cfg, state, [], [])];
  const fired = triggers(cfg, cmd.frame);
  const frames: ReleasedFrame[] = fired
    ? [{ model: cfg.name, frame: cmd.frame, releaseAt: cmd.releaseAt, injectAt: cmd.at, deadline: cmd.releaseAt + taskPeriodMs(cfg) }]
    : [];
  const next: TaskState = {
    ...state,
    released: state.released + frames.length,
    skipped: state.skipped + (fired ? 0 : 1),
  };
  return [next, reply(cfg, next, frames, fired ? [] : [cmd.frame])];
};
