/**
 * Errors of the data module.
 *
 * - `DataError`: a file (or a hardware spec, or the cost table) holds something it must not. It says
 *   where (file + JSON path, or CSV line and column), what was expected and what was found, e.g.
 *   `scenarios.json: scenarios[0].models[2].target_fps: expected a positive number, got -30`.
 * - `UnknownNameError`: a name asked for (scenario, hardware config, model) does not exist; the
 *   message lists the valid names: `unknown scenario 'X'; valid: A, B, C`.
 *
 * Also the small formatting helpers every loader uses to build those messages.
 */
import { Data } from "effect";
import type { FailureKind } from "../contracts/errors";

/** One problem found in a data file. */
export interface DataIssue {
  readonly path: string;
  readonly expected: string;
  readonly actual: string;
}

export class DataError extends Data.TaggedError("DataError")<{
  /** The file (as given by the caller), or a label such as `hardware 'Dual_4K/WS'` or `<cost table>`. */
  readonly file: string;
  /** Where in the file: a JSON path (`scenarios[0].models[2].target_fps`) or `line 17, column X`. */
  readonly path: string;
  readonly expected: string;
  readonly actual: string;
  /** Further problems found in the same file (schema validation reports all of them). */
  readonly more: ReadonlyArray<DataIssue>;
}> {
  /** contracts/errors: input. */
  get failure(): FailureKind {
    return "input";
  }
  override get message(): string {
    const first = formatIssue(this.file, this);
    if (this.more.length === 0) return first;
    const rest = this.more.map((issue) => `  ${formatIssue(this.file, issue)}`);
    return [`${first} (and ${this.more.length} more)`, ...rest].join("\n");
  }
}

export class UnknownNameError extends Data.TaggedError("UnknownNameError")<{
  /** What was looked up: "scenario", "hardware config", "model". */
  readonly kind: string;
  readonly name: string;
  readonly valid: ReadonlyArray<string>;
}> {
  /** contracts/errors: input. */
  get failure(): FailureKind {
    return "input";
  }
  override get message(): string {
    return `unknown ${this.kind} '${this.name}'; valid: ${this.valid.join(", ")}`;
  }
}

/** Either error of this module. */
export type DataLoadError = DataError | UnknownNameError;

/** A DataError for one issue (plus optional further issues of the same file). */
export const dataError = (
  file: string,
  path: string,
  expected: string,
  actual: string,
  more: ReadonlyArray<DataIssue> = [],
): DataError => new DataError({ file, path, expected, actual, more });

const formatIssue = (file: string, issue: DataIssue): string => {
  const where = [file, issue.path].filter((part) => part !== "").join(": ");
  const what = `expected ${issue.expected}, got ${issue.actual}`;
  return where === "" ? what : `${where}: ${what}`;
};

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** JSON path text for a list of keys: `scenarios[0].models[2].target_fps`; `(root)` when empty. */
export const formatJsonPath = (keys: ReadonlyArray<PropertyKey>): string => {
  let out = "";
  for (const key of keys) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && IDENTIFIER.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === "" ? "(root)" : out;
};

/** Appends keys to an existing JSON path text: joinJsonPath("scenarios[0]", "models", 2) = "scenarios[0].models[2]". */
export const joinJsonPath = (base: string, ...keys: ReadonlyArray<PropertyKey>): string => {
  const tail = formatJsonPath(keys);
  if (base === "" || base === "(root)") return tail;
  if (keys.length === 0) return base;
  return tail.startsWith("[") ? `${base}${tail}` : `${base}.${tail}`;
};

const MAX_SHOWN = 80;

/** A short readable rendering of a found value: `-30`, `"abc"`, `null`, `{"a":1}`, `nothing`. */
export const showValue = (value: unknown): string => {
  if (value === undefined) return "nothing";
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text;
};

/** `A, B, C` — for "expected one of ..." messages. */
export const listNames = (names: Iterable<string>): string => [...names].join(", ");
