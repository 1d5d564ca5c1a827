/**
 * Merges the records of two `compare --json` runs and prints/writes exactly what `compare` would
 * for the full plan: the records of every policy but sdrm3 from an earlier run (`old`), and sdrm3's
 * from a new one (`fresh`). For a revision that changes sdrm3 only: the baselines' code is
 * unchanged and runs are deterministic, so their records are the ones a full run would make
 * (README Results says which figures were made this way). Every record of the plan must be found.
 *
 *   node --import tsx test/bench/merge-compare-records.ts <old results.json> <fresh.json> <scenarios> <hardware> <seeds> [outDir]
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { formatCompareHuman, planCompare, summarise, toCsv, toJson, REFERENCE_POLICY } from "../../services/cli/src/compare";
import { writeCharts } from "../../services/cli/src/charts";
const [oldPath, newPath, scenarios, hardware, seeds, outDir] = process.argv.slice(2);
const old = JSON.parse(readFileSync(oldPath!, "utf8")) as any[];
const fresh = JSON.parse(readFileSync(newPath!, "utf8")) as any[];
const plan = planCompare({ scenarios: scenarios!, hardware: hardware!, policies: "fair", seeds: seeds!, duration: "10s" } as any);
const key = (sc: string, hw: string, p: string, s: number) => `${sc}|${hw}|${p}|${s}`;
const pool = new Map<string, any>();
for (const r of old) if (r.policy !== "sdrm3") pool.set(key(r.scenario, r.hardware, r.policy, r.seed), r);
for (const r of fresh) pool.set(key(r.scenario, r.hardware, r.policy, r.seed), r);
const records = plan.jobs.map((j: any) => {
  const r = pool.get(key(j.scenario, j.hardware, j.label, j.seed));
  if (r === undefined) throw new Error(`missing ${key(j.scenario, j.hardware, j.label, j.seed)}`);
  return r;
});
const cells = summarise(plan, records);
process.stdout.write(formatCompareHuman(plan, cells));
if (outDir) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "results.csv"), toCsv(records));
  writeFileSync(join(outDir, "results.json"), toJson(records));
  await writeCharts(outDir, cells, { scenarios: plan.scenarios, hardware: plan.hardware, policies: plan.policies.map((p: any) => p.label), marked: REFERENCE_POLICY });
}
