/**
 * Reading data files and validating them with Effect Schema.
 *
 * `readText` and `parseJson` turn I/O and syntax failures into DataErrors (a JSON syntax error
 * names the line and column and what was expected there); a file larger than its size limit, or
 * JSON nested deeper than MAX_JSON_DEPTH, is refused before it is parsed. `decodeOrThrow` runs
 * `Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })` and turns
 * every leaf of the resulting ParseIssue tree into a {path, expected, actual} issue, so one
 * DataError reports all the problems of a file, the first one in its message headline. A field
 * the schema does not name is one of them, with the nearest known field as a suggestion.
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readFileSync } from "node:fs";
import { Either, Option, ParseResult, Schema, SchemaAST } from "effect";
import { dataError, formatJsonPath, showValue } from "./errors";
import { findJsonSyntaxError } from "./json-syntax";
import type { DataError, DataIssue } from "./errors";
import { errorMessage } from "../contracts/errors";
import { MAX_JSON_DEPTH, MAX_JSON_FILE_BYTES, formatBytes } from "./limits";
import { ShowActual } from "./schemas";

/**
 * Opens a file for reading; a missing/unreadable file is a DataError. Non-blocking, so that a named
 * pipe with no writer is opened (and refused by checkFileSize) rather than waited on for ever.
 */
export const openForReading = (path: string, label: string): number => {
  try {
    return openSync(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch (cause) {
    throw unreadable(label, cause);
  }
};

const unreadable = (label: string, cause: unknown): DataError => {
  const code = (cause as { code?: unknown }).code;
  return dataError(label, "", "a readable file", typeof code === "string" ? code : String(cause));
};

/** Refuses what is not a regular file, or a file larger than `maxBytes` (before reading it), naming the limit and the size. */
export const checkFileSize = (fd: number, label: string, maxBytes: number): void => {
  const stat = fstatSync(fd);
  if (!stat.isFile()) throw dataError(label, "", "a readable file", stat.isDirectory() ? "EISDIR (a directory)" : "not a regular file");
  const { size } = stat;
  if (size > maxBytes) {
    throw dataError(label, "", `a file of at most ${formatBytes(maxBytes)} (the file-size limit)`, `${formatBytes(size)} (${size} bytes)`);
  }
};

/**
 * Reads a UTF-8 text file (BOM stripped); a missing/unreadable file, or one larger than
 * `maxBytes`, is a DataError.
 */
export const readText = (path: string, label: string = path, maxBytes: number = MAX_JSON_FILE_BYTES): string => {
  const fd = openForReading(path, label);
  let text: string;
  try {
    checkFileSize(fd, label, maxBytes);
    text = readFileSync(fd, "utf8");
  } catch (cause) {
    if (cause instanceof Error && "_tag" in cause) throw cause;
    throw unreadable(label, cause);
  } finally {
    closeSync(fd);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
};

/**
 * JSON.parse with a DataError naming the file, line, column and what was expected on a syntax
 * error. Nesting deeper than MAX_JSON_DEPTH is refused first (a deep value would overflow the
 * stack of the syntax locator or of JSON.stringify in messages).
 */
export const parseJson = (text: string, file: string): unknown => {
  const { tooDeep, duplicate } = scanJson(text, MAX_JSON_DEPTH);
  if (tooDeep >= 0) {
    const { line, column } = positionOf(text, tooDeep);
    throw dataError(file, `line ${line}, column ${column}`, `arrays and objects nested at most ${MAX_JSON_DEPTH} deep (the JSON-depth limit)`, `nesting ${MAX_JSON_DEPTH + 1} deep`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (cause) {
    const found = findJsonSyntaxError(text);
    const reason = errorMessage(cause);
    const offset = found?.offset ?? text.length;
    const { line, column } = positionOf(text, offset);
    const expected = found === undefined ? "valid JSON" : `valid JSON (${found.expected})`;
    throw dataError(file, `line ${line}, column ${column}`, expected, found?.actual ?? reason);
  }
  // JSON.parse keeps the last of two equal keys: `"fps": 60, "fps": 30` would load as 30, quietly
  if (duplicate !== undefined) {
    const { line, column } = positionOf(text, duplicate.offset);
    throw dataError(file, `line ${line}, column ${column}`, "each key once in an object", `${JSON.stringify(duplicate.key)} a second time`);
  }
  return value;
};

/**
 * One pass over JSON text, outside its strings: the offset of the first `[` or `{` nested deeper
 * than `max` (-1: none; the pass stops there), and the first key given twice in one object, with its
 * offset. Keys are compared as decoded (`"a"` and `"\u0061"` are one key). It runs before JSON.parse
 * (a deep value would overflow the stack); `duplicate` means something only for text JSON.parse takes.
 */
const scanJson = (text: string, max: number): { tooDeep: number; duplicate: { offset: number; key: string } | undefined } => {
  const open: Array<Set<string> | undefined> = []; // per open container, an object's keys (undefined: an array)
  let keyNext = false;
  let duplicate: { offset: number; key: string } | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 34) {
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) !== 34) end += text.charCodeAt(end) === 92 ? 2 : 1;
      const keys = keyNext ? open[open.length - 1] : undefined;
      if (keys !== undefined && duplicate === undefined) {
        const key = decodedKey(text.slice(i + 1, end));
        if (keys.has(key)) duplicate = { offset: i, key };
        keys.add(key);
      }
      keyNext = false;
      i = end;
    } else if (ch === 123 || ch === 91) {
      open.push(ch === 123 ? new Set() : undefined);
      if (open.length > max) return { tooDeep: i, duplicate };
      keyNext = ch === 123;
    } else if (ch === 93 || ch === 125) open.pop();
    else if (ch === 44) keyNext = open[open.length - 1] !== undefined;
  }
  return { tooDeep: -1, duplicate };
};

/** A key's text between its quotes, its escapes decoded (as it is given when they do not decode: the text is not JSON then). */
const decodedKey = (raw: string): string => {
  if (!raw.includes("\\")) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
};

/** Reads and parses a JSON file. */
export const readJson = (path: string, label: string = path): unknown => parseJson(readText(path, label), label);

/** 1-based line and column of a 0-based character offset. */
export const positionOf = (text: string, offset: number): { line: number; column: number } => {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
};

/**
 * Decodes `input` with `schema`, reporting every problem. Paths are prefixed with `basePath`
 * (keys of the value inside the file, e.g. ["scenarios", 0]).
 */
export const decodeOrThrow = <A, I>(
  schema: Schema.Schema<A, I, never>,
  input: unknown,
  file: string,
  basePath: ReadonlyArray<PropertyKey> = [],
  onExcessProperty: "error" | "ignore" = "error",
): A => {
  const result = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty })(input);
  if (Either.isRight(result)) return result.right;
  throw issuesToError(file, collectIssues(result.left.issue, [...basePath]));
};

/** One DataError holding all issues, the first as its headline. */
export const issuesToError = (file: string, issues: ReadonlyArray<DataIssue>): DataError => {
  const [first, ...more] = issues;
  if (first === undefined) return dataError(file, "", "valid data", "an unexplained validation failure");
  return dataError(file, first.path, first.expected, first.actual, more);
};

/**
 * Flattens a ParseIssue tree into leaf issues with JSON paths. `fields` are the fields of the
 * innermost object schema, for suggesting one in place of an unknown field.
 */
const collectIssues = (issue: ParseResult.ParseIssue, path: PropertyKey[], fields: ReadonlyArray<string> = []): DataIssue[] => {
  switch (issue._tag) {
    case "Pointer": {
      const keys = Array.isArray(issue.path) ? issue.path : [issue.path];
      return collectIssues(issue.issue, [...path, ...(keys as ReadonlyArray<PropertyKey>)], fields);
    }
    case "Composite": {
      const children = (Array.isArray(issue.issues) ? issue.issues : [issue.issues]) as ReadonlyArray<ParseResult.ParseIssue>;
      if (SchemaAST.isTypeLiteral(issue.ast)) {
        const known = issue.ast.propertySignatures.map((signature) => String(signature.name));
        return children.flatMap((child) => collectIssues(child, path, known));
      }
      if (SchemaAST.isUnion(issue.ast)) {
        // A union (e.g. Schema.optional(X), i.e. X | undefined) is reported as a whole, unless
        // exactly one member failed inside the value (the value has that member's shape, e.g. it is
        // an array but an element is bad): then report that member's nested issues where they
        // happened. The `undefined` member of an optional field never fails inside.
        const inside = children.filter((child) => !isUndefinedMember(child) && hasPointer(child));
        if (inside.length === 1) return collectIssues(inside[0]!, path, fields);
        // an optional refined value (X | undefined): reported by the rule of X it breaks
        const members = children.filter((child) => !isUndefinedMember(child));
        const only = members.length === 1 ? members[0]! : undefined;
        if (only?._tag === "Refinement" || only?._tag === "Transformation") return collectIssues(only, path, fields);
        return [leaf(path, describe(issue.ast), issue.actual)];
      }
      return children.flatMap((child) => collectIssues(child, path));
    }
    case "Refinement":
      // A failed predicate, or a failure under a scalar refinement chain, is reported against the
      // refinement's own description ("a positive integer"); failures inside a refined
      // array/struct are reported where they happened.
      // A chain of refinements (a positive number, then at most a limit) is reported by the
      // first rule the value breaks.
      if (issue.kind === "From" && (issue.issue._tag === "Refinement" || issue.issue._tag === "Transformation") && !hasPointer(issue.issue)) {
        return collectIssues(issue.issue, path, fields);
      }
      if (issue.kind === "Predicate" || !hasPointer(issue.issue)) {
        const show = SchemaAST.getAnnotation<(value: unknown) => string>(issue.ast, ShowActual);
        // a limit's refinement over a value of the wrong type: say which type was expected
        if (Option.isSome(show) && issue.kind === "From" && issue.issue._tag === "Type") {
          return [leaf(path, describe(issue.issue.ast), issue.actual)];
        }
        if (Option.isSome(show)) return [{ path: formatJsonPath(path), expected: describe(issue.ast), actual: show.value(issue.actual) }];
        return [leaf(path, describe(issue.ast), issue.actual)];
      }
      return collectIssues(issue.issue, path);
    case "Transformation":
      return collectIssues(issue.issue, path);
    case "Missing":
      return [{ path: formatJsonPath(path), expected: describe(issue.ast.type), actual: "nothing (the field is missing)" }];
    case "Unexpected":
      return [unknownField(path, fields)];
    case "Type":
    case "Forbidden":
      return [leaf(path, describe(issue.ast), issue.actual)];
  }
};

/** An unknown field, with the nearest known one (by edit distance) or the list of known fields. */
const unknownField = (path: ReadonlyArray<PropertyKey>, fields: ReadonlyArray<string>): DataIssue => {
  const key = String(path[path.length - 1] ?? "");
  const nearest = nearestName(key, fields);
  const expected =
    nearest !== undefined
      ? `a known field (did you mean ${nearest}?)`
      : `a known field (${fields.length === 0 ? "none here" : fields.join(", ")})`;
  return { path: formatJsonPath(path), expected, actual: `the unknown field ${showValue(key)}` };
};

/** The name closest to `word` within an edit distance of a third of its length (at least 2). */
export const nearestName = (word: string, names: ReadonlyArray<string>): string | undefined => {
  const budget = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = budget + 1;
  for (const name of names) {
    if (Math.abs(name.length - word.length) > budget) continue;
    const distance = editDistance(word.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
};

/** Levenshtein distance (insertions, deletions, substitutions). */
const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
};

const leaf = (path: ReadonlyArray<PropertyKey>, expected: string, actual: unknown): DataIssue => ({
  path: formatJsonPath(path),
  expected,
  actual: showValue(actual),
});

/** Whether a union member's issue is the `undefined` alternative of an optional field. */
const isUndefinedMember = (issue: ParseResult.ParseIssue): boolean => issue._tag === "Type" && SchemaAST.isUndefinedKeyword(issue.ast);

const hasPointer = (issue: ParseResult.ParseIssue): boolean => {
  switch (issue._tag) {
    case "Pointer":
      return true;
    case "Composite": {
      const children = Array.isArray(issue.issues) ? issue.issues : [issue.issues];
      return (children as ReadonlyArray<ParseResult.ParseIssue>).some(hasPointer);
    }
    case "Refinement":
    case "Transformation":
      return hasPointer(issue.issue);
    default:
      return false;
  }
};

/** Readable name of what a schema node accepts: its description, else a structural fallback. */
const describe = (ast: SchemaAST.AST): string => {
  const description = SchemaAST.getDescriptionAnnotation(ast);
  if (description._tag === "Some") return description.value;
  switch (ast._tag) {
    case "TypeLiteral":
      return "an object";
    case "TupleType":
      return "an array";
    case "Literal":
      return JSON.stringify(ast.literal) ?? String(ast.literal);
    case "Union":
      return ast.types
        .filter((member) => !SchemaAST.isUndefinedKeyword(member))
        .map(describe)
        .join(" or ");
    case "Refinement":
      return describe(ast.from);
    case "Transformation":
      return describe(ast.to);
    default:
      return String(ast);
  }
};
