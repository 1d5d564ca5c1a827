/**
 * Reading data files and validating them with Effect Schema.
 *
 * `readText` and `parseJson` turn I/O and syntax failures into DataErrors (a JSON syntax error
 * names the line and column and what was expected there). `decodeOrThrow` runs
 * `Schema.decodeUnknownEither(schema, { errors: "all" })` and turns every leaf of the resulting
 * ParseIssue tree into a {path, expected, actual} issue, so one DataError reports all the problems
 * of a file, the first one in its message headline.
 */
import { readFileSync } from "node:fs";
import { Either, ParseResult, Schema, SchemaAST } from "effect";
import { dataError, formatJsonPath, showValue } from "./errors";
import { findJsonSyntaxError } from "./json-syntax";
import type { DataError, DataIssue } from "./errors";
import { errorMessage } from "../contracts/errors";

/** Reads a UTF-8 text file (BOM stripped); a missing/unreadable file is a DataError. */
export const readText = (path: string, label: string = path): string => {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    throw dataError(label, "", "a readable file", typeof code === "string" ? code : String(cause));
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
};

/** JSON.parse with a DataError naming the file, line, column and what was expected on a syntax error. */
export const parseJson = (text: string, file: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    const found = findJsonSyntaxError(text);
    const reason = errorMessage(cause);
    const offset = found?.offset ?? text.length;
    const { line, column } = positionOf(text, offset);
    const expected = found === undefined ? "valid JSON" : `valid JSON (${found.expected})`;
    throw dataError(file, `line ${line}, column ${column}`, expected, found?.actual ?? reason);
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
): A => {
  const result = Schema.decodeUnknownEither(schema, { errors: "all" })(input);
  if (Either.isRight(result)) return result.right;
  throw issuesToError(file, collectIssues(result.left.issue, [...basePath]));
};

/** One DataError holding all issues, the first as its headline. */
export const issuesToError = (file: string, issues: ReadonlyArray<DataIssue>): DataError => {
  const [first, ...more] = issues;
  if (first === undefined) return dataError(file, "", "valid data", "an unexplained validation failure");
  return dataError(file, first.path, first.expected, first.actual, more);
};

/** Flattens a ParseIssue tree into leaf issues with JSON paths. */
const collectIssues = (issue: ParseResult.ParseIssue, path: PropertyKey[]): DataIssue[] => {
  switch (issue._tag) {
    case "Pointer": {
      const keys = Array.isArray(issue.path) ? issue.path : [issue.path];
      return collectIssues(issue.issue, [...path, ...(keys as ReadonlyArray<PropertyKey>)]);
    }
    case "Composite": {
      const children = (Array.isArray(issue.issues) ? issue.issues : [issue.issues]) as ReadonlyArray<ParseResult.ParseIssue>;
      if (SchemaAST.isUnion(issue.ast)) {
        // A union (e.g. Schema.optional(X), i.e. X | undefined) is reported as a whole, unless
        // exactly one member failed inside the value (the value has that member's shape, e.g. it is
        // an array but an element is bad): then report that member's nested issues where they
        // happened. The `undefined` member of an optional field never fails inside.
        const inside = children.filter((child) => !isUndefinedMember(child) && hasPointer(child));
        if (inside.length === 1) return collectIssues(inside[0]!, path);
        return [leaf(path, describe(issue.ast), issue.actual)];
      }
      return children.flatMap((child) => collectIssues(child, path));
    }
    case "Refinement":
      // A failed predicate, or a failure under a scalar refinement chain, is reported against the
      // refinement's own description ("a positive integer"); failures inside a refined
      // array/struct are reported where they happened.
      if (issue.kind === "Predicate" || !hasPointer(issue.issue)) {
        return [leaf(path, describe(issue.ast), issue.actual)];
      }
      return collectIssues(issue.issue, path);
    case "Transformation":
      return collectIssues(issue.issue, path);
    case "Missing":
      return [{ path: formatJsonPath(path), expected: describe(issue.ast.type), actual: "nothing (the field is missing)" }];
    case "Unexpected":
      return [{ path: formatJsonPath(path), expected: "no such field", actual: showValue(issue.actual) }];
    case "Type":
    case "Forbidden":
      return [leaf(path, describe(issue.ast), issue.actual)];
  }
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
