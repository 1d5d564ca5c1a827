/** The busy rule the accelerator actor and the direct engine share (accelerator-logic isFreeFor / busyRefusal). */
import { describe, expect, it } from "vitest";
import { jobId } from "../contracts/job-id";
import type { BlockDispatch } from "../contracts/messages";
import { busyRefusal, isFreeFor } from "./accelerator-logic";

const dispatch = (at: number, timing: BlockDispatch["timing"]): BlockDispatch => ({
  _tag: "block.dispatch", v: 1, run: "r", at, acc: "acc0", job: jobId("ES_RITNet", 1), model: "ES_RITNet", frame: 1, firstLayer: 0, layerCount: 1, timing,
});

describe("the busy rule", () => {
  it("exact timing: free from the completion on, never before", () => {
    expect(isFreeFor(10, dispatch(10, "exact"))).toBe(true);
    expect(isFreeFor(10, dispatch(11, "exact"))).toBe(true);
    expect(isFreeFor(10, dispatch(9.995, "exact"))).toBe(false);
  });

  it("xrbench timing: free up to 0.01 ms before the completion (the XRBench runtime's tolerance)", () => {
    expect(isFreeFor(10, dispatch(9.99, "xrbench-f32"))).toBe(true);
    expect(isFreeFor(10, dispatch(9.98, "xrbench-f32"))).toBe(false);
  });

  it("a refusal names the accelerator, until when it is busy, the job and the time", () => {
    expect(busyRefusal("acc0", 10, dispatch(9, "exact"))).toEqual({
      _tag: "error", v: 1, kind: "rejected", message: "accelerator acc0 is busy until 10 ms; block of ES_RITNet:1 at 9 ms refused", issues: [],
    });
  });
});
