/**
 * `sdrm3 run` on a terminal: a progress bar of simulated time on stderr (as `compare` draws one of
 * runs), for runs long enough to be worth one. It reads the run's events (their simulated time),
 * so it never changes what the run does; nothing is drawn when stderr is not a terminal.
 */
import cliProgress from "cli-progress";
import type { RunEvent } from "@sdrm3/shared/contracts";

/** Runs shorter than this (simulated) finish before a bar would be seen. */
export const PROGRESS_MIN_MS = 2_000;

export interface RunProgress {
  readonly onEvent: (e: RunEvent) => void;
  stop(): void;
}

export const runProgress = (durationMs: number, stream: NodeJS.WriteStream): RunProgress => {
  const bar = new cliProgress.SingleBar(
    { stream, format: "run [{bar}] {value}/{total} ms simulated | {percentage}% | ETA {eta_formatted}", hideCursor: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  const total = Math.round(durationMs);
  bar.start(total, 0);
  const step = Math.max(1, Math.floor(total / 200));
  let shown = 0;
  return {
    onEvent: (e) => {
      const at = Math.min(total, Math.floor(e.at));
      if (at - shown >= step) {
        shown = at;
        bar.update(at);
      }
    },
    stop: () => {
      bar.update(total);
      bar.stop();
    },
  };
};
