/**
 * Policies are identified by what they declare, not by their names (issue 15.5): outside the
 * catalogue, no production code compares a value with a policy's name (`name === "xrbench"`,
 * `"sdrm3" !== policy`, `case "sdrm3":`). What differs between policies — semantics, default
 * duration, whether it runs live, run switches, MapScores — is read from its capabilities
 * (shared/src/policies/types.ts PolicyCapabilities). Comparisons with the kernel mode
 * (`mode === "xrbench"`, the semantics a policy declares) are not policy names.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { POLICIES } from "@sdrm3/shared/policies";
import { ROOT, productDirs, scanLines, sourceFiles } from "./support/source-scan";

const CATALOGUE = "shared/src/policies/catalogue.ts";

const sources = (dir: string): string[] => sourceFiles(dir, { skipDir: (n) => n === "node_modules", file: (n) => /\.(ts|mts|mjs)$/.test(n) });

const names = [...POLICIES.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
const literal = `["'\`](?:${names})["'\`]`;
/** `<operand> ===|!== "<policy>"`, `"<policy>" ===|!== <operand>`, `case "<policy>":`. */
const COMPARISON = new RegExp(`([\\w.?!\\]\\)]+)\\s*[!=]==?\\s*${literal}|${literal}\\s*[!=]==?\\s*([\\w.?!]+)|\\bcase\\s+${literal}\\s*:`);
/** The kernel mode / declared semantics may be compared with "xrbench" and "exact". */
const MODE_OPERAND = /(^|\.)(mode|semantics)$/;

const violations = (file: string, text: string): string[] =>
  scanLines(file, text, (code) => {
    const m = COMPARISON.exec(code);
    if (m === null) return [];
    const operand = m[1] ?? m[2];
    return operand !== undefined && MODE_OPERAND.test(operand) ? [] : [code.trim()];
  });

describe("no policy-name comparisons outside the catalogue", () => {
  const files = productDirs().flatMap(sources).filter((f) => f !== CATALOGUE);

  it("covers the shared package and every service", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain("shared/src/runtime/setup.ts");
    expect(files).toContain("services/cli/src/main.ts");
  });

  it("finds none", () => {
    expect(files.flatMap((f) => violations(f, readFileSync(join(ROOT, f), "utf8")))).toEqual([]);
  });

  it("would catch one (the check itself works)", () => {
    const bad = [
      'export const modeOf = (policy: Policy) => (policy.name === "xrbench" ? "xrbench" : "exact");',
      'if (flags.policy !== "sdrm3") throw new Error("x");',
      "const live = 'xrbench' === p.name;",
      '    case "fcfs":',
    ].join("\n");
    expect(violations("bad.ts", bad)).toHaveLength(4);
    const fine = ['if (cfg.mode === "xrbench") return;', 'const exact = policy.capabilities.semantics === "xrbench";', 'resolvePolicy("sdrm3", params);'].join("\n");
    expect(violations("fine.ts", fine)).toEqual([]);
  });
});
