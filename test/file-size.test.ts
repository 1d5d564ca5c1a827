/**
 * No file under shared/src over 500 lines (issue 15): a long module mixes concerns; split it by
 * concept (as domain/cost-model.ts was: the model, its fidelity, its fit, the least squares).
 * No file is exempt (test files included).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LIMIT = 500;

const files = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );

const lines = (file: string) => readFileSync(join(ROOT, file), "utf8").split("\n").length - 1;

describe(`no file under shared/src over ${LIMIT} lines`, () => {
  const all = files("shared/src");
  it("covers shared/src", () => expect(all.length).toBeGreaterThan(100));
  it("every file is within the limit", () => {
    expect(all.filter((f) => lines(f) > LIMIT).map((f) => `${f}: ${lines(f)} lines`)).toEqual([]);
  });
});
