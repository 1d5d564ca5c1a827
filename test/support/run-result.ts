import type { RunResult } from "@sdrm3/shared/runtime";

/** What two runs of one spec must agree on, as text (the run id may differ and is left out). */
export const comparable = (r: RunResult): string => JSON.stringify({ models: r.models, summary: r.summary, frames: r.frames, decisions: r.decisions });
