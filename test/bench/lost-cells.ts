/**
 * sdrm3 runs (`compare --json`, any sdrm3 variants) against the fair baselines' figures printed by
 * an earlier `compare` (its text output, e.g. docs/results/compare-output.txt): per cell and sdrm3
 * variant, UXCost (geomean over seeds), XRBench score (mean), miss rate and energy, the sdrm3 row of
 * the text output ("before"), the lowest-UXCost and best-score fair baselines, and LOST where it is
 * more than 1% worse in UXCost or more than 1 point lower in score than some fair baseline — the rule
 * `compare` applies (services/cli/src/compare.ts). For a change of sdrm3 only: the baselines' code is
 * unchanged and runs are deterministic, so their printed figures are what a full run would give.
 *
 *   node --import tsx test/bench/lost-cells.ts <compare text output> <sdrm3 results.json>
 */
import { readFileSync } from "node:fs";
import { LOSS_SCORE, LOSS_UXCOST } from "../../services/cli/src/compare";

interface Row { ux: number; miss: number; energy: number; score: number }
const [textPath, jsonPath] = process.argv.slice(2);
if (textPath === undefined || jsonPath === undefined) throw new Error("usage: lost-cells.ts <compare text output> <sdrm3 results.json>");

// the text output: "<scenario> on <hardware> (…" then table rows "│ policy │ UXCost │ accuracy │ miss │ energy │ score │"
const printed = new Map<string, Map<string, Row>>();
let cell: Map<string, Row> | undefined;
for (const line of readFileSync(textPath, "utf8").split("\n")) {
  const head = /^(\S+) on (\S+) \(/.exec(line);
  if (head) {
    cell = new Map();
    printed.set(`${head[1]} ${head[2]}`, cell);
    continue;
  }
  const cols = line.split("│").map((c) => c.trim());
  if (cell === undefined || cols.length < 7 || cols[1] === "policy") continue;
  cell.set(cols[1]!, { ux: Number(cols[2]), miss: Number(cols[4]!.replace("%", "")) / 100, energy: Number(cols[5]), score: Number(cols[6]) });
}

interface RunRecord { scenario: string; hardware: string; policy: string; summary: { uxCost: number; xrbenchScore: number; deadlineMissRate: number; energyMJPerS: number } }
const runs = JSON.parse(readFileSync(jsonPath, "utf8")) as RunRecord[];
const groups = new Map<string, RunRecord[]>();
for (const r of runs) {
  const key = `${r.scenario} ${r.hardware}\t${r.policy}`;
  groups.set(key, [...(groups.get(key) ?? []), r]);
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const geomean = (xs: number[]): number => Math.exp(mean(xs.map(Math.log)));
const lostBy = new Map<string, number>();
for (const [key, rs] of groups) {
  const [where, policy] = key.split("\t") as [string, string];
  const base = printed.get(where);
  if (base === undefined) throw new Error(`${where}: not in ${textPath}`);
  const ux = geomean(rs.map((r) => r.summary.uxCost));
  const score = mean(rs.map((r) => r.summary.xrbenchScore));
  const miss = mean(rs.map((r) => r.summary.deadlineMissRate));
  const energy = mean(rs.map((r) => r.summary.energyMJPerS));
  const fair = [...base].filter(([p]) => p.endsWith("[drop=1]"));
  const lowest = fair.reduce((a, b) => (b[1].ux < a[1].ux ? b : a));
  const best = fair.reduce((a, b) => (b[1].score > a[1].score ? b : a));
  // compare rounds nothing: the printed figures have 3 decimals, so a loss within rounding is flagged as compare would flag the rounded figures
  const lost: string[] = [];
  for (const [p, c] of fair) {
    if (ux > c.ux * (1 + LOSS_UXCOST)) lost.push(`UXCost ${ux.toFixed(3)} vs ${c.ux.toFixed(3)} for ${p}`);
    if (score < c.score - LOSS_SCORE) lost.push(`score ${score.toFixed(2)} vs ${c.score.toFixed(2)} for ${p}`);
  }
  const before = base.get("sdrm3");
  const [scenario, hardware] = where.split(" ");
  console.log(
    `${scenario!.padEnd(20)} ${hardware!.padEnd(24)} ${policy.padEnd(34)} ${ux.toFixed(3)} ${score.toFixed(2).padStart(6)} miss ${(100 * miss).toFixed(1).padStart(5)}% ${energy.toFixed(0).padStart(6)} mJ/s` +
      (before === undefined ? "" : ` (before: ${before.ux.toFixed(3)} ${before.score.toFixed(2)})`) +
      ` | lowest-UX ${lowest[0]} ${lowest[1].ux.toFixed(3)} | best-score ${best[0]} ${best[1].score.toFixed(2)}` +
      (lost.length > 0 ? `  LOST: ${lost.join("; ")}` : ""),
  );
  lostBy.set(policy, (lostBy.get(policy) ?? 0) + (lost.length > 0 ? 1 : 0));
}
for (const [policy, n] of lostBy) console.log(`${policy}: cells lost ${n}`);
