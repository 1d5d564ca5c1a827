/**
 * `sdrm3 explain` explains the decision sdrm3 made with the run's own parameters: runs recorded
 * with a guard margin, one with an sdrm3 `block` other than the run's --block, one with quantum
 * blocks (--quantum). Each pair the policy skipped is said to be skipped by the guard that skipped
 * it — checked against the policy itself (the oracle replays the log and asks `scoreSdrm3` with the
 * affinity guard off: a pair it still skips was skipped by the feasibility guard) — and the test
 * picks a pair that only the margin makes infeasible, which an explain with margin 0 called an
 * affinity skip. The blocks in force are the policy's, and the recomputed scores equal the
 * recorded ones.
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

/** Per decision point (by its first decision number): which skipped (job, acc index) pairs the feasibility guard skipped, with the run's margin and with margin 0. */
interface Oracle {
  readonly skipped: ReadonlySet<string>;
  readonly byGuard: ReadonlySet<string>;
  readonly byGuardAtMargin0: ReadonlySet<string>;
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
        const scored = pairsOf(view, policy.params);
        const noAffinity = pairsOf(view, { ...policy.params, pmin: 0 });
        const noAffinityMargin0 = pairsOf(view, { ...policy.params, pmin: 0, margin: 0 });
        const dropped = new Set(decision.drops.map((d) => d.job));
        const skipped = new Set<string>();
        for (const m of view.models) {
          for (const j of m.queue) {
            if (j.running || dropped.has(j.id)) continue;
            for (const a of view.accelerators) if (a.idle && !scored.has(`${j.id}@${a.index}`)) skipped.add(`${j.id}@${a.index}`);
          }
        }
        const byGuard = new Set([...skipped].filter((k) => !noAffinity.has(k)));
        const byGuardAtMargin0 = new Set([...skipped].filter((k) => !noAffinityMargin0.has(k)));
        if (decision.drops.length + decision.dispatches.length > 0) points.set(made + 1, { skipped, byGuard, byGuardAtMargin0 });
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

  it("a pair only the margin makes infeasible is shown as skipped by the feasibility guard; scores and blocks as recorded", async () => {
    // the first decision point with such a pair, and the seq of its first decision
    const found = [...points].find(([, o]) => [...o.byGuard].some((k) => !o.byGuardAtMargin0.has(k)));
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
    const skipped = p.pairs!.filter((x) => x.status === "guard" || x.status === "affinity");
    expect(new Set(skipped.map((x) => `${x.job}@${index.get(x.acc)}`))).toEqual(o.skipped);
    for (const x of skipped) expect([x.job, x.acc, x.status]).toEqual([x.job, x.acc, o.byGuard.has(`${x.job}@${index.get(x.acc)}`) ? "guard" : "affinity"]);
    expect(skipped.some((x) => x.status === "guard" && !o.byGuardAtMargin0.has(`${x.job}@${index.get(x.acc)}`))).toBe(true);
    expect(scoresMatch(p)).toBe(true);
    if ("layers" in run.blocks) for (const d of p.decisions.filter((x) => x.action === "dispatch")) expect(d.layerCount).toBeLessThanOrEqual(run.blocks.layers);

    const cli = await sdrm3("explain", LOG, "--at", String(seq));
    expect(cli.code).toBe(0);
    expect(cli.out).toContain(`${run.text}, guard margin ${MARGIN} of the period`);
    expect(cli.out).toContain("skipped: feasibility guard");
    expect(cli.out).toContain("recorded scores: match");
  }, 120_000);
});
