/**
 * A job's id, `<model>:<frame>` (the frame of a scenario model that a job runs): built by `jobId`
 * and taken apart by `parseJobId`, nowhere else. A model name is a token (letters, digits, `_` and
 * `-`: no `:`), so the first and only `:` separates the two parts.
 */
import { Schema } from "effect";
import { Sdrm3Error } from "./errors";

const JOB_ID = /^([A-Za-z0-9_-]{1,64}):([0-9]{1,9})$/;
const MODEL = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_FRAME = 999_999_999;

/** `<model>:<frame>`, branded: a plain string is not a JobId until `jobId` built it or the schema decoded it. */
export const JobId = Schema.String.pipe(
  Schema.pattern(JOB_ID, { message: () => "expected '<model>:<frame>'" }),
  Schema.brand("JobId"),
);
export type JobId = typeof JobId.Type;

/** A job id named a model or frame that cannot be one (a programming error, never user input). */
export class InvalidJobIdError extends Sdrm3Error {
  readonly _tag = "InvalidJobIdError";
  readonly failure = "terminal";
  constructor(readonly value: string, reason: string) {
    super(`invalid job id ${JSON.stringify(value)}: ${reason}`);
  }
}

/** The id of frame `frame` of model `model`. */
export const jobId = (model: string, frame: number): JobId => {
  if (!MODEL.test(model)) throw new InvalidJobIdError(`${model}:${frame}`, "the model name must be 1-64 characters of letters, digits, '_' or '-'");
  if (!Number.isInteger(frame) || frame < 0 || frame > MAX_FRAME) {
    throw new InvalidJobIdError(`${model}:${frame}`, `the frame must be an integer in 0..${MAX_FRAME}`);
  }
  return `${model}:${frame}` as JobId;
};

/** The model and frame a job id names. */
export const parseJobId = (id: string): { readonly model: string; readonly frame: number } => {
  const m = JOB_ID.exec(id);
  if (m === null) throw new InvalidJobIdError(id, "expected '<model>:<frame>'");
  return { model: m[1]!, frame: Number(m[2]) };
};

/** The model of a job id. */
export const modelOfJob = (id: string): string => parseJobId(id).model;
