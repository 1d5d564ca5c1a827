import { Either, Schema } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidJobIdError, JobId, jobId, modelOfJob, parseJobId } from "./job-id";
import { BlockDispatchedEvent } from "./messages";

const modelName = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const frame = fc.integer({ min: 0, max: 999_999_999 });

describe("JobId", () => {
  it("parseJobId(jobId(model, frame)) gives back the model and the frame", () => {
    fc.assert(
      fc.property(modelName, frame, (model, f) => {
        const id = jobId(model, f);
        expect(id).toBe(`${model}:${f}`);
        expect(parseJobId(id)).toEqual({ model, frame: f });
        expect(modelOfJob(id)).toBe(model);
        expect(Either.isRight(Schema.decodeUnknownEither(JobId)(id))).toBe(true);
      }),
      { seed: 15, numRuns: 300 },
    );
  });

  it("refuses a model name containing ':' (model names are tokens), so the first ':' always separates model and frame", () => {
    expect(() => jobId("VR:gaming", 1)).toThrow(InvalidJobIdError);
    expect(() => jobId("VR:gaming", 1)).toThrow(/invalid job id "VR:gaming:1": the model name/);
    expect(() => parseJobId("VR:gaming:1")).toThrow(/invalid job id "VR:gaming:1": expected '<model>:<frame>'/);
    expect(Either.isLeft(Schema.decodeUnknownEither(JobId)("VR:gaming:1"))).toBe(true);
  });

  it("refuses frames that are not integers in 0..999999999 and ids without a frame", () => {
    for (const f of [-1, 1.5, Number.NaN, 1e9]) expect(() => jobId("VR", f), String(f)).toThrow(/the frame must be an integer in 0\.\.999999999/);
    for (const s of ["VR", "VR:", ":3", "VR:3a", "VR:-1", "V R:3", ""]) expect(() => parseJobId(s), s).toThrow(InvalidJobIdError);
  });

  it("a message's job field decodes to a JobId and refuses anything else naming the field", () => {
    const event = { _tag: "block.dispatched", v: 1, run: "r", at: 0, acc: "acc0", job: "ES_RITNet:4", firstLayer: 0, layerCount: 1, completesAt: 1, energyMJ: 1 };
    const ok = Schema.decodeUnknownSync(BlockDispatchedEvent)(event);
    expect(parseJobId(ok.job)).toEqual({ model: "ES_RITNet", frame: 4 });
    expect(() => Schema.decodeUnknownSync(BlockDispatchedEvent)({ ...event, job: "ES_RITNet" })).toThrow(/\["job"\][\s\S]*expected '<model>:<frame>'/);
  });
});
