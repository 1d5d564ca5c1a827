/**
 * The determinism boundary, enforced by a test (STYLE.md practices 4 and 6): the pure packages —
 * contracts, domain, policies, actors — never read a clock or a random source, never set timers and
 * never import Node built-ins or the NATS client. Time comes from the kernel's virtual clock,
 * randomness from the seeded per-task streams (domain/prng), I/O from the runtime's host.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, sourceFiles } from "./support/source-scan";

const PURE = ["shared/src/contracts", "shared/src/domain", "shared/src/policies", "shared/src/actors"];

const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, "Date.now(): use the event's `at` (virtual time)"],
  [/\bnew Date\s*\(/, "new Date(): use the event's `at` (virtual time)"],
  [/\bMath\.random\s*\(/, "Math.random(): use domain/prng (seeded per task)"],
  [/\bperformance\.now\s*\(/, "performance.now(): wall time has no place in the logic"],
  [/\b(setTimeout|setInterval|setImmediate)\s*\(/, "timers: ask the kernel's clock (tuning points, releases) instead"],
  [/\bcrypto\.randomUUID\s*\(/, "randomUUID: ids are <actor>:<seq>"],
  [/from\s+["']node:/, "Node built-ins: I/O belongs in runtime/, nats/ or services/"],
  [/from\s+["']@nats-io\//, "@nats-io: only shared/src/nats talks to NATS"],
  [/from\s+["']\.\.\/(runtime|nats|data|testkit)\b/, "a pure package must not import runtime, nats, data or testkit"],
];

const sources = (dir: string): string[] => sourceFiles(dir, { file: (n) => n.endsWith(".ts") && n !== "testing.ts" });

describe("the pure packages stay pure", () => {
  const files = PURE.flatMap(sources);
  it("covers every source file of contracts, domain, policies and actors", () => {
    expect(files.length).toBeGreaterThan(20);
  });
  it.each(files)("%s", (file) => {
    const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
    const problems: string[] = [];
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, "");
      for (const [pattern, why] of FORBIDDEN) if (pattern.test(code) && !/^\s*\*/.test(line)) problems.push(`${file}:${i + 1}: ${why}`);
    });
    expect(problems).toEqual([]);
  });
  it("no shared/ code at all reads the calendar clock or Math.random (I/O edges included)", () => {
    const everywhere = sources("shared/src");
    const problems = everywhere.flatMap((file) =>
      readFileSync(join(ROOT, file), "utf8")
        .split("\n")
        .flatMap((line, i) => (/\bDate\.now\s*\(|\bnew Date\s*\(|\bMath\.random\s*\(/.test(line.replace(/\/\/.*$/, "")) ? [`${file}:${i + 1}`] : [])),
    );
    expect(everywhere.length).toBeGreaterThan(60);
    expect(problems).toEqual([]);
  });
  it("would catch a violation (the check itself works)", () => {
    const bad = "const t = Date.now(); const r = Math.random(); import x from \"node:fs\";";
    expect(FORBIDDEN.filter(([p]) => p.test(bad)).length).toBe(3);
  });
});
