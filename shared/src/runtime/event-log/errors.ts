/** The event log's errors: a defect at a line of a log, and a log file that cannot be read at all. */
import { Sdrm3Error } from "../../contracts/errors";

/** A defect of a log: the line (1-based; the header is line 1) and what is wrong. The log is the user's input. */
export class LogFormatError extends Sdrm3Error {
  readonly _tag = "LogFormatError";
  readonly failure = "input";
  constructor(
    readonly line: number,
    readonly detail: string,
    readonly source = "",
  ) {
    super(`${source === "" ? "" : `${source}: `}line ${line}: ${detail}`);
  }

  withSource(source: string): LogFormatError {
    return new LogFormatError(this.line, this.detail, source);
  }
}

/** A log file that cannot be read at all (missing, a directory, no permission). */
export class LogFileError extends Sdrm3Error {
  readonly _tag = "LogFileError";
  readonly failure = "input";
}
