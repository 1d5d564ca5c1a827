/**
 * Test helpers for the data module's refusal tests (for tests only, not exported from the package
 * index): the bad-data fixtures, a DataError catcher, the fields that locate an error, and a temp
 * dir for one-off files (removed after the test file).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import { DataError } from "./errors";

/** The path of test/fixtures/bad-data/<name>. */
export const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/bad-data/${name}`, import.meta.url));

/** Runs `load`, which must throw a DataError, and returns it. */
export const dataErrorOf = (load: () => unknown): DataError => {
  try {
    load();
  } catch (error) {
    if (error instanceof DataError) return error;
    throw error;
  }
  throw new Error("expected a DataError, but loading succeeded");
};

/** The error's fields that locate and explain it. */
export const where = (e: DataError) => ({ file: e.file, path: e.path, expected: e.expected, actual: e.actual });

/**
 * A temp dir `sdrm3-<prefix>-*` removed after the calling test file; `write(name, content)` writes
 * a file there (content as JSON unless a string) and returns its path. Call at a test file's top level.
 */
export const tempFiles = (prefix: string): { readonly dir: string; readonly write: (name: string, content: unknown) => string } => {
  const dir = mkdtempSync(join(tmpdir(), `sdrm3-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    write: (name, content) => {
      const path = join(dir, name);
      writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
      return path;
    },
  };
};
