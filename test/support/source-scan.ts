/**
 * For the tests that hold a rule over the product's source text (one relay point, no policy-name
 * comparisons, the determinism boundary): the product's source directories, their files, and a
 * line scan that skips comments.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** shared/src and every service's src (a new service is covered without being listed). */
export const productDirs = (): string[] => [
  "shared/src",
  ...readdirSync(join(ROOT, "services"), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `services/${e.name}/src`),
];

export interface SourceFilter {
  /** File names to take (default: `.ts` files). Test files (`.test.ts`) are never taken. */
  readonly file?: (name: string) => boolean;
  /** Directory names not to enter. */
  readonly skipDir?: (name: string) => boolean;
}

/** The source files under `dir` (relative to the repository), recursively. */
export const sourceFiles = (dir: string, filter: SourceFilter = {}): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? filter.skipDir?.(e.name) === true
        ? []
        : sourceFiles(join(dir, e.name), filter)
      : !e.name.endsWith(".test.ts") && (filter.file ?? ((n: string) => n.endsWith(".ts")))(e.name)
        ? [join(dir, e.name)]
        : [],
  );

/**
 * `file:line: problem` for each line of `text` where `check` finds a problem in the code (a `//`
 * comment removed; block-comment lines starting with `*` skipped).
 */
export const scanLines = (file: string, text: string, check: (code: string) => ReadonlyArray<string>): string[] =>
  text.split("\n").flatMap((line, i) => (/^\s*\*/.test(line) ? [] : check(line.replace(/\/\/.*$/, "")).map((p) => `${file}:${i + 1}: ${p}`)));
