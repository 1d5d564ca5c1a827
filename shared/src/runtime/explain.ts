/**
 * Explain (DESIGN.md §9): the scheduler's view behind recorded decisions — ready jobs (slack,
 * ToGo*, and for sdrm3 U and F), accelerators (idle or busy until when, with what), every
 * (job, idle accelerator) MapScore with its U/F/P terms, and the drops with their reasons.
 *
 * How: replay the log (replay.ts) with the rebuilt policy wrapped, so each scheduling point's
 * view is seen exactly as the policy saw it (after the runtime's own drops, before any of the
 * point's decisions is applied). At a targeted point the wrapper snapshots the view and, for
 * sdrm3, recomputes every candidate with `scoreSdrm3` — the same pure function the policy used —
 * so the scores shown can be checked against the recorded ones (`scoresMatch`).
 *
 * Targets name decisions: the first decision at or after a sequence number or a virtual time, or
 * every decision about one job. A log is read twice (find the targets, then replay up to them).
 */
import type { LogHeader } from "../contracts/log";
import { jobId } from "../contracts/job-id";
import type { RunEvent } from "../contracts/messages";
import { toGoMs } from "../policies/common";
import { type Candidate, type SkipReason, isStarving, scoreSdrm3 } from "../policies/sdrm3";
import type { Decision, Policy, SchedulerView } from "../policies/types";
import type { OpenedLog } from "./event-log";
import { type ReplayReport, replayLog, sameValue } from "./replay";

export type ExplainTarget =
  | { readonly kind: "seq"; readonly seq: number }
  | { readonly kind: "time"; readonly atMs: number }
  | { readonly kind: "job"; readonly job: string };

export interface ExplainedModel {
  readonly name: string;
  readonly periodMs: number;
  readonly recentMissRate: number;
  readonly lastOnTimeAt: number | null;
  /** sdrm3: no frame on time for starveMs (the starvation guard applies). */
  readonly starving: boolean | undefined;
}

export interface ExplainedJob {
  readonly job: string;
  readonly model: string;
  readonly releaseAt: number;
  readonly deadline: number;
  readonly slackMs: number;
  /** ToGo*: remaining layers, each on its fastest accelerator. */
  readonly toGoMs: number;
  readonly nextLayer: number;
  readonly layerCount: number;
  readonly started: boolean;
  readonly lastRanAt: number;
  /** sdrm3 urgency and fairness (undefined for other policies). */
  readonly u: number | undefined;
  readonly f: number | undefined;
}

export interface ExplainedAccel {
  readonly index: number;
  readonly id: string;
  readonly dataflow: string;
  readonly idle: boolean;
  readonly busyUntil: number;
  /** The block in flight on a busy accelerator. */
  readonly block: { readonly job: string; readonly firstLayer: number; readonly layerCount: number } | undefined;
}

/** One (job, idle accelerator) pair of sdrm3's matching. */
export interface ExplainedPair {
  readonly job: string;
  readonly acc: string;
  readonly u: number;
  readonly f: number;
  readonly p: number;
  /** Starvation-guard boost included in S (0 when none). */
  readonly boost: number;
  readonly s: number;
  /**
   * chosen: dispatched here; candidate: scored, not chosen; the others were skipped, by the rule
   * the policy's own scoring applied (policies/sdrm3-score.ts `SkipReason`): guard, the feasibility
   * guard; affinity, the affinity guard (a relaxed job waits for a better-suited accelerator);
   * block, the block guard (the block would make a job due earlier miss); overload, the overload test
   * sheds the job (it is not started). Skipped pairs carry U, F, P but no S.
   */
  readonly status: "chosen" | "candidate" | SkipReason;
}

export interface ExplainedDecision {
  readonly n: number;
  readonly action: "dispatch" | "drop";
  readonly job: string;
  readonly acc: string | undefined;
  readonly layerCount: number | undefined;
  readonly reason: string | undefined;
  /** Scores the policy gave (recomputed by the replay). */
  readonly scores: Readonly<Record<string, number>> | undefined;
  /** The decision as recorded in the log (its seq and scores), once read. */
  recorded: { readonly seq: number; readonly scores: Readonly<Record<string, number>> | undefined } | undefined;
  /** One of the decisions asked about. */
  readonly target: boolean;
}

export interface ExplainedDrop {
  readonly job: string;
  readonly reason: string;
  /** runtime: deadline passed before start, cascade parent dropped, left at the end; policy: a drop decision. */
  readonly by: "runtime" | "policy";
}

/** One scheduling point: what the policy saw and what it decided. */
export interface DecisionPoint {
  readonly at: number;
  /** The policy's parameters in force at this point (the online tuner may have changed them). */
  readonly params: Readonly<Record<string, number>>;
  /**
   * How blocks were cut at this point: a number of layers (sdrm3's `block` parameter when set, else
   * the run's --block), or consecutive layers up to the run's quantum (ms).
   */
  readonly blocks: { readonly layers: number } | { readonly quantumMs: number };
  /** The input whose arrival led to this point. */
  inputSeq: number;
  inputSource: string;
  readonly models: ReadonlyArray<ExplainedModel>;
  readonly ready: ReadonlyArray<ExplainedJob>;
  readonly accelerators: ReadonlyArray<ExplainedAccel>;
  /** sdrm3 only: every (ready job, idle accelerator) pair, best first. */
  readonly pairs: ReadonlyArray<ExplainedPair> | undefined;
  readonly decisions: ExplainedDecision[];
  readonly drops: ExplainedDrop[];
}

export interface ExplainReport {
  readonly header: LogHeader;
  readonly target: ExplainTarget;
  readonly points: ReadonlyArray<DecisionPoint>;
  /** For a job target: how the job's frame went (released, ended), from the log. */
  readonly jobHistory: ReadonlyArray<{ readonly seq: number; readonly event: RunEvent }>;
  readonly replay: ReplayReport;
}

/** A MapScore policy (its capabilities: sdrm3, any parameters) gets MapScores; every other policy gets the view and its decisions. */
const isSdrm3 = (p: Policy) => p.capabilities.mapScore;

const findTargets = async (log: OpenedLog, target: ExplainTarget) => {
  const numbers = new Set<number>();
  const jobHistory: Array<{ seq: number; event: RunEvent }> = [];
  for await (const e of log.entries) {
    if (e.type === "input") continue;
    const ev = e.payload;
    if (target.kind === "job") {
      const job = ev._tag === "frame.released" ? jobId(ev.frame.model, ev.frame.frame) : "job" in ev ? ev.job : undefined;
      if (job !== target.job) continue;
      jobHistory.push({ seq: e.seq, event: ev });
      if (ev._tag === "decision") numbers.add(ev.n);
    } else if (ev._tag === "decision" && (target.kind === "seq" ? e.seq >= target.seq : ev.at >= target.atMs)) {
      numbers.add(ev.n);
      break;
    }
  }
  return { numbers, jobHistory };
};

/** Snapshot of `view` (live objects: copy every value now) for the decisions `first`… of `decision`. */
const snapshot = (
  view: SchedulerView,
  decision: Decision,
  first: number,
  policy: Policy,
  header: LogHeader,
  inFlight: ReadonlyMap<string, { job: string; firstLayer: number; layerCount: number }>,
  targets: ReadonlySet<number>,
): DecisionPoint => {
  const sdrm3 = isSdrm3(policy);
  const params = policy.params;
  // how the policy cut blocks here (policies/common blockLayers): sdrm3's `block` parameter when
  // set, else the run's quantum (--quantum, --block auto) or its --block
  const own = sdrm3 ? (params.block ?? 0) : 0;
  const quantumMs = view.quantumMs ?? 0;
  const blocks: DecisionPoint["blocks"] = own > 0 ? { layers: Math.round(own) } : quantumMs > 0 ? { quantumMs } : { layers: view.blockSize };
  const dataflow = new Map(header.hardware.accelerators.map((a) => [a.id, a.dataflow]));
  // a supernet model's variant views (docs/supernets.md) share its name and statistics: list it once
  const models: ExplainedModel[] = view.models.filter((m) => m.variant === 0).map((m) => ({
    name: m.name,
    periodMs: m.periodMs,
    recentMissRate: m.recentMissRate,
    lastOnTimeAt: m.lastOnTimeAt,
    starving: sdrm3 ? isStarving(m, view.now, params.starveMs!) : undefined,
  }));
  // sdrm3's own scorer gives the terms (no formula is repeated here): once as decided, and once
  // "unguarded" — every accelerator free, drop, overload shedding and placement guards (feasibility,
  // affinity, block) off — for U and F of every
  // ready job and P of every pair, including the pairs the guards skipped.
  let unguarded: Map<string, Candidate> | undefined;
  if (sdrm3) {
    const free: SchedulerView = { ...view, accelerators: view.accelerators.map((a) => ({ ...a, idle: true, busyUntil: view.now })) };
    const off = { ...params, drop: 0, guard: 0, ...(params.pmin === undefined ? {} : { pmin: 0 }), ...(params.blockGuard === undefined ? {} : { blockGuard: 0 }) };
    unguarded = new Map(scoreSdrm3(free, off).candidates.map((c) => [`${c.job.id}@${c.acc}`, c]));
  }
  const termsOf = (job: string) => unguarded?.get(`${job}@0`);
  const ready: ExplainedJob[] = [];
  for (const m of view.models) {
    for (const j of m.queue) {
      if (j.running) continue;
      const slack = j.deadline - view.now;
      const terms = termsOf(j.id);
      // a starting supernet job is scored at the load rule's variant: its ToGo* at that variant
      const toGo = toGoMs(terms?.model ?? m, j);
      ready.push({
        job: j.id,
        model: m.name,
        releaseAt: j.releaseAt,
        deadline: j.deadline,
        slackMs: slack,
        toGoMs: toGo,
        nextLayer: j.nextLayer,
        layerCount: j.layerCount,
        started: j.started,
        lastRanAt: j.lastRanAt,
        u: terms?.u,
        f: terms?.f,
      });
    }
  }
  const accelerators: ExplainedAccel[] = view.accelerators.map((a) => ({
    index: a.index,
    id: a.id,
    dataflow: dataflow.get(a.id) ?? "?",
    idle: a.idle,
    busyUntil: a.busyUntil,
    block: a.idle ? undefined : inFlight.get(a.id),
  }));
  let pairs: ExplainedPair[] | undefined;
  if (sdrm3) {
    const chosen = new Set(decision.dispatches.map((d) => `${d.job}@${d.acc}`));
    const dropped = new Set(decision.drops.map((d) => d.job));
    const { candidates, skipped } = scoreSdrm3(view, params);
    const byPair = new Map(candidates.map((c) => [`${c.job.id}@${c.acc}`, c]));
    const skippedBy = new Map(skipped.map((x) => [`${x.job.id}@${x.acc}`, x]));
    pairs = [];
    for (const m of view.models) {
      for (const j of m.queue) {
        if (j.running || dropped.has(j.id)) continue;
        for (const a of view.accelerators) {
          if (!a.idle) continue;
          const key = `${j.id}@${a.index}`;
          const c = byPair.get(key);
          if (c !== undefined) {
            const boost = c.score - (c.u + params.alpha! * c.f + params.beta! * c.p);
            pairs.push({ job: j.id, acc: a.id, u: c.u, f: c.f, p: c.p, boost: Math.abs(boost) < 1e-9 ? 0 : boost, s: c.score, status: chosen.has(key) ? "chosen" : "candidate" });
            continue;
          }
          const t = unguarded!.get(key);
          const skip = skippedBy.get(key);
          if (t === undefined || skip === undefined) continue;
          // skipped: the rule the policy's own scoring applied, and P as its fit had it (a shed job is not fitted: P unguarded)
          pairs.push({ job: j.id, acc: a.id, u: t.u, f: t.f, p: Number.isNaN(skip.p) ? t.p : skip.p, boost: 0, s: Number.NaN, status: skip.by });
        }
      }
    }
    const rank = (p: ExplainedPair) => (Number.isNaN(p.s) ? Number.NEGATIVE_INFINITY : p.s);
    pairs.sort((x, y) => rank(y) - rank(x));
  }
  const decisions: ExplainedDecision[] = [];
  let n = first;
  for (const d of decision.drops) {
    decisions.push({ n, action: "drop", job: d.job, acc: undefined, layerCount: undefined, reason: d.reason, scores: d.scores, recorded: undefined, target: targets.has(n) });
    n++;
  }
  for (const d of decision.dispatches) {
    const acc = view.accelerators[d.acc]?.id ?? String(d.acc);
    decisions.push({ n, action: "dispatch", job: d.job, acc, layerCount: d.layerCount, reason: undefined, scores: d.scores, recorded: undefined, target: targets.has(n) });
    n++;
  }
  return { at: view.now, params: { ...params }, blocks, inputSeq: 0, inputSource: "", models, ready, accelerators, pairs, decisions, drops: [] };
};

/**
 * Explains the decisions `target` names. `open` opens the log afresh (it is read twice).
 * Throws nothing for a divergent log: `report.replay.divergence` says where it stopped matching.
 */
export const explainLog = async (open: () => Promise<OpenedLog>, target: ExplainTarget): Promise<ExplainReport> => {
  const { numbers, jobHistory } = await findTargets(await open(), target);
  const log = await open();
  const points: DecisionPoint[] = [];
  let made = 0;
  let pending: DecisionPoint | undefined;
  let remaining = numbers.size;
  const inFlight = new Map<string, { job: string; firstLayer: number; layerCount: number }>();
  const byNumber = new Map<number, ExplainedDecision>();
  const wrap = (policy: Policy): Policy => ({
    ...policy,
    decide: (view) => {
      const decision = policy.decide(view);
      const first = made + 1;
      made += decision.drops.length + decision.dispatches.length;
      let hit = false;
      for (let n = first; n <= made; n++) if (numbers.has(n)) hit = true;
      if (hit) pending = snapshot(view, decision, first, policy, log.header, inFlight, numbers);
      return decision;
    },
  });
  const replay = numbers.size === 0
    ? await replayLog(log, { untilSeq: 0 })
    : await replayLog(log, {
        wrapPolicy: wrap,
        onInput: (entry, effects) => {
          if (remaining === 0) return true; // the last point's recorded decisions have been read
          if (pending === undefined) return;
          const point = pending;
          pending = undefined;
          point.inputSeq = entry.seq;
          point.inputSource = entry.source;
          const policyDrops = new Set(point.decisions.filter((d) => d.action === "drop").map((d) => d.job));
          for (const e of effects) {
            if (e.kind !== "event" || e.event._tag !== "frame.ended" || e.event.outcome !== "dropped" || e.event.at !== point.at) continue;
            point.drops.push({ job: e.event.job, reason: e.event.reason ?? "", by: policyDrops.has(e.event.job) ? "policy" : "runtime" });
          }
          for (const d of point.decisions) {
            byNumber.set(d.n, d);
            if (d.target) remaining--;
          }
          points.push(point);
        },
        onEvent: (event, seq) => {
          if (event._tag !== "decision") return;
          const d = byNumber.get(event.n);
          if (d !== undefined) d.recorded = { seq, scores: event.scores };
          if (event.action === "dispatch") inFlight.set(event.acc, { job: event.job, firstLayer: event.firstLayer, layerCount: event.layerCount });
        },
      });
  return { header: log.header, target, points, jobHistory, replay };
};

/**
 * For sdrm3 points: whether the MapScore terms recomputed for each dispatch equal the scores the
 * log recorded for it (exactly). Undefined when the point has no recorded dispatch scores.
 */
export const scoresMatch = (point: DecisionPoint): boolean | undefined => {
  if (point.pairs === undefined) return undefined;
  let any = false;
  for (const d of point.decisions) {
    if (d.action !== "dispatch" || d.recorded?.scores === undefined) continue;
    const pair = point.pairs.find((p) => p.job === d.job && p.acc === d.acc && p.status === "chosen");
    if (pair === undefined) return false;
    const r = d.recorded.scores;
    if (!sameValue(r.S, pair.s) || !sameValue(r.U, pair.u) || !sameValue(r.F, pair.f) || !sameValue(r.P, pair.p)) return false;
    any = true;
  }
  return any ? true : undefined;
};
