/**
 * `sdrm3 explain` explains the decision sdrm3 made with the run's own parameters: runs recorded
 * with a guard margin, one with an sdrm3 `block` other than the run's --block, one with quantum
 * blocks (--quantum). Each pair the policy skipped is said to be skipped by the rule that skipped
 * it — checked against the policy itself: the oracle replays the log and asks `scoreSdrm3` with the
 * rules turned off one by one, last checked first (block guard, affinity guard, feasibility guard);
 * a pair that turning off a rule gives back was skipped by that rule, and a pair none gives back
 * belongs to a job the overload test sheds (overload=1 gives it back). The test picks a pair that
 * only the margin makes infeasible (an explain with margin 0 called it an affinity skip) and one
 * that only the work queued ahead (contend) makes infeasible (an explain that left that work out
 * did too). The blocks in force are the policy's, and the recomputed scores equal the recorded ones.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scoreSdrm3 } from "@sdrm3/shared/policies";
import type { SchedulerView } from "@sdrm3/shared/policies";
import { explainLog, openLogFile, replayLog, scoresMatch } from "@sdrm3/shared/runtime";
import { sdrm3 } from "../services/cli/src/testing";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-explain-params-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MARGIN = 0.5;
const BLOCK = 3;
const RUN_BLOCK = 8;

/**
 * Per decision point (by its first decision number): the skipped (job, acc index) pairs and the rule
 * that skipped each; which the feasibility guard would skip with margin 0, and without the work queued ahead.
 */
interface Oracle {
  readonly skipped: ReadonlyMap<string, string>;
  readonly byGuardAtMargin0: ReadonlySet<string>;
  readonly byGuardAlone: ReadonlySet<string>;
}

const pairsOf = (view: SchedulerView, params: Readonly<Record<string, number>>) =>
  new Set(scoreSdrm3(view, params).candidates.map((c) => `${c.job.id}@${c.acc}`));

const oracle = async (path: string): Promise<Map<number, Oracle>> => {
  const points = new Map<number, Oracle>();
  let made = 0;
  await replayLog(await openLogFile(path), {
    wrapPolicy: (policy) => ({
      ...policy,
      decide: (view) => {
        const decision = policy.decide(view);
        const p = policy.params;
        const scored = pairsOf(view, p);
        const noBlock = pairsOf(view, { ...p, blockGuard: 0 });
        const noAffinity = pairsOf(view, { ...p, blockGuard: 0, pmin: 0 });
        const noGuard = pairsOf(view, { ...p, blockGuard: 0, pmin: 0, guard: 0 });
        const notShed = pairsOf(view, { ...p, blockGuard: 0, pmin: 0, guard: 0, overload: 1 });
        const guardAt = (q: Readonly<Record<string, number>>) => {
          const on = pairsOf(view, { ...p, blockGuard: 0, pmin: 0, ...q });
          const off = pairsOf(view, { ...p, blockGuard: 0, pmin: 0, guard: 0, ...q });
          return (k: string) => off.has(k) && !on.has(k);
        };
        const guardAtMargin0 = guardAt({ margin: 0 });
        const guardAlone = guardAt({ contend: 0 });
        const dropped = new Set(decision.drops.map((d) => d.job));
        const skipped = new Map<string, string>();
        for (const m of view.models) {
          for (const j of m.queue) {
            if (j.running || dropped.has(j.id)) continue;
            for (const a of view.accelerators) {
              const k = `${j.id}@${a.index}`;
              if (!a.idle || scored.has(k)) continue;
              skipped.set(k, noBlock.has(k) ? "block" : noAffinity.has(k) ? "affinity" : noGuard.has(k) ? "guard" : notShed.has(k) ? "overload" : "?");
            }
          }
        }
        const byGuardAtMargin0 = new Set([...skipped.keys()].filter(guardAtMargin0));
        const byGuardAlone = new Set([...skipped.keys()].filter(guardAlone));
        if (decision.drops.length + decision.dispatches.length > 0) points.set(made + 1, { skipped, byGuardAtMargin0, byGuardAlone });
        made += decision.drops.length + decision.dispatches.length;
        return decision;
      },
    }),
  });
  return points;
};

const RUNS = [
  { name: "sdrm3 block=3 margin=0.5 (--block 8)", log: "block.jsonl", flags: ["--block", String(RUN_BLOCK), "--param", `block=${BLOCK}`], blocks: { layers: BLOCK }, text: `next block ${BLOCK} layers` },
  { name: "margin=0.5, --quantum 0.5ms", log: "quantum.jsonl", flags: ["--quantum", "0.5ms"], blocks: { quantumMs: 0.5 }, text: "next block up to the 0.5 ms quantum" },
] as const;

describe.each(RUNS)("explain uses sdrm3's block and margin parameters: $name", (run) => {
  const LOG = join(dir, run.log);
  let points: Map<number, Oracle>;
  beforeAll(async () => {
    const r = await sdrm3(
      ...["run", "--scenario", "social_interactionA", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "200ms", "--seed", "1"],
      ...[...run.flags, "--param", `margin=${MARGIN}`, "--record", LOG, "--json"],
    );
    expect(r.code, r.err).toBe(0);
    points = await oracle(LOG);
  }, 120_000);

  const byGuard = (o: Oracle) => [...o.skipped].filter(([, by]) => by === "guard").map(([k]) => k);

  it("every skipped pair is given back by turning off one rule (or is a shed job's); the oracle finds pairs of each kind the run has", () => {
    const kinds = new Set([...points.values()].flatMap((o) => [...o.skipped.values()]));
    expect(kinds.has("?")).toBe(false);
    expect(kinds.has("guard")).toBe(true);
  });

  it.each([
    ["only the margin makes infeasible", (o: Oracle) => byGuard(o).find((k) => !o.byGuardAtMargin0.has(k))],
    ["only the work queued ahead (contend) makes infeasible", (o: Oracle) => byGuard(o).find((k) => !o.byGuardAlone.has(k))],
  ] as const)("a pair %s is shown as skipped by the feasibility guard; every skipped pair by its rule; scores and blocks as recorded", async (_, pick) => {
    // the first decision point with such a pair, and the seq of its first decision
    const found = [...points].find(([, o]) => pick(o) !== undefined);
    expect(found).toBeDefined();
    const [n, o] = found!;
    const log = await openLogFile(LOG);
    let seq = -1;
    for await (const e of log.entries) if (e.type === "decision" && e.payload._tag === "decision" && e.payload.n === n) seq = e.seq;
    expect(seq).toBeGreaterThan(0);

    const r = await explainLog(() => openLogFile(LOG), { kind: "seq", seq });
    expect(r.replay.divergence).toBeUndefined();
    const p = r.points[0]!;
    expect(p.decisions[0]!.n).toBe(n);
    expect(p.params).toMatchObject({ margin: MARGIN });
    expect(p.blocks).toEqual(run.blocks);
    const index = new Map(p.accelerators.map((a) => [a.id, a.index]));
    const skipped = p.pairs!.filter((x) => x.status !== "chosen" && x.status !== "candidate");
    expect(new Map(skipped.map((x) => [`${x.job}@${index.get(x.acc)}`, x.status]))).toEqual(o.skipped);
    const picked = pick(o)!;
    expect(skipped.find((x) => `${x.job}@${index.get(x.acc)}` === picked)?.status).toBe("guard");
    expect(scoresMatch(p)).toBe(true);
    if ("layers" in run.blocks) for (const d of p.decisions.filter((x) => x.action === "dispatch")) expect(d.layerCount).toBeLessThanOrEqual(run.blocks.layers);

    const cli = await sdrm3("explain", LOG, "--at", String(seq));
    expect(cli.code).toBe(0);
    expect(cli.out).toContain(`${run.text}, guard margin ${MARGIN} of the period`);
    expect(cli.out).toContain("skipped: feasibility guard");
    expect(cli.out).toContain("recorded scores: match");
  }, 120_000);
});
