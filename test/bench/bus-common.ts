/** Shared by the bus benchmark (./bus.ts) and its responder process (./bus-responder.ts). */
import { PROTOCOL_VERSION, jobId } from "@sdrm3/shared/contracts";

export const BENCH_RUN = "bench";
export const RAW_SUBJECT = "bench.raw";
export const BENCH_MODEL = "OD_D2go_FasterRCNN";

/** The block.dispatch command the benchmark sends (layer `layer` of frame `frame`, at `at`). */
export const dispatchCommand = (at: number, frame: number, layer: number) => ({
  _tag: "block.dispatch" as const,
  v: PROTOCOL_VERSION,
  run: BENCH_RUN,
  at,
  acc: "acc0",
  job: jobId(BENCH_MODEL, frame),
  model: BENCH_MODEL,
  frame,
  firstLayer: layer,
  layerCount: 1,
  timing: "exact" as const,
});

