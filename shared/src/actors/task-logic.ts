/**
 * Release logic of one model task (DESIGN.md §5), as pure functions of a small state.
 *
 * Mode `xrbench` reproduces the XRBench load generator: period P = 1000 div FPS (integer
 * division), N = floor(duration / P) frames, frame f released nominally at f·P with deadline
 * (f+1)·P, injected at the first scheduler event at or after its release, at most one frame per
 * event; a model with trigger probability p injects a frame only if p > a fresh uniform draw (from
 * the task's seeded stream — XRBench seeds from the wall clock), and a skipped frame still uses up
 * its frame id.
 */
import type { ReleasedFrame, TaskReleased } from "../contracts/messages";
import { PROTOCOL_VERSION } from "../contracts/messages";
import { Prng, type PrngState } from "../domain/prng";

export interface TaskConfig {
  readonly run: string;
  /** Scenario model name. */
  readonly name: string;
  readonly fps: number;
  readonly probability: number;
  readonly mode: "xrbench";
  readonly durationMs: number;
  readonly seed: number;
}

export interface TaskState {
  readonly nextFrame: number;
  readonly prng: PrngState;
  readonly released: number;
  readonly skipped: number;
}

export const taskPeriodMs = (cfg: Pick<TaskConfig, "fps" | "mode">): number => Math.floor(1000 / cfg.fps);

export const taskFrameCount = (cfg: Pick<TaskConfig, "fps" | "mode" | "durationMs">): number =>
  Math.floor(cfg.durationMs / taskPeriodMs(cfg));

export const initialTaskState = (cfg: TaskConfig): TaskState => ({
  nextFrame: 0,
  prng: Prng.forStream(cfg.seed, cfg.name).state(),
  released: 0,
  skipped: 0,
});

const nextAt = (cfg: TaskConfig, nextFrame: number): number | null =>
  nextFrame < taskFrameCount(cfg) ? nextFrame * taskPeriodMs(cfg) : null;

/** A scheduler event at time `at`: release (at most) the next frame that is due. */
export const onTick = (cfg: TaskConfig, state: TaskState, at: number): [TaskState, TaskReleased] => {
  const period = taskPeriodMs(cfg);
  const frames: ReleasedFrame[] = [];
  const skipped: number[] = [];
  let { nextFrame, released, skipped: skippedCount } = state;
  const prng = Prng.fromState(state.prng);
  const due = nextAt(cfg, nextFrame);
  if (due !== null && due <= at) {
    const f = nextFrame++;
    if (prng.bernoulli(cfg.probability)) {
      frames.push({ model: cfg.name, frame: f, releaseAt: f * period, injectAt: at, deadline: (f + 1) * period });
      released++;
    } else {
      skipped.push(f);
      skippedCount++;
    }
  }
  const next: TaskState = { nextFrame, prng: prng.state(), released, skipped: skippedCount };
  return [
    next,
    { _tag: "task.released", v: PROTOCOL_VERSION, run: cfg.run, model: cfg.name, frames, skipped, nextAt: nextAt(cfg, nextFrame) },
  ];
};
