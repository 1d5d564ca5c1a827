/**
 * Replay (DESIGN.md §4 rule 3, §9; STYLE.md practice 10): a recorded log fed through a fresh
 * scheduler kernel reproduces every event and decision — for every policy of the catalogue on
 * every usage scenario; the committed fixture replays identically and its mutated copy diverges
 * exactly at the changed decision; `resimulate` gives the same releases under another policy;
 * explain's recomputed MapScore terms equal the recorded ones; the trace export is well formed.
 *
 * Fixtures (test/fixtures/logs/README.md, made by regenerate.ts there): social_interactionA, sdrm3,
 * Dual_4K/WS_OS, 100 ms, block 8, seed 1; and a copy with one dispatch decision moved to the other
 * accelerator with its P and S changed. The expectations are read from the files (counts, the
 * mutated line), so a regeneration needs no test edit. A change in the kernel or in sdrm3 that
 * alters any decision makes the fixture test fail: regenerate only for an intended change.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type DispatchDecision, type RunEvent, jobId } from "@sdrm3/shared/contracts";
import { findScenario, loadBuiltinDataset, resolveHardware, resolveModelCosts } from "@sdrm3/shared/data";
import { POLICIES, SDRM3_BEHAVIOUR_1, SDRM3_BEHAVIOUR_2, SDRM3_PARAMS, resolvePolicy } from "@sdrm3/shared/policies";
import {
  EventRecorder,
  type ExplainTarget,
  JsonlLogSink,
  type RunOptions,
  TraceBuilder,
  compareReleases,
  explainLog,
  logHeaderFor,
  openLogFile,
  paramsNotInHeader,
  recordedMetrics,
  recordedPolicy,
  replayLog,
  resimulate,
  runScenario,
  scoresMatch,
} from "@sdrm3/shared/runtime";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/logs/${name}`, import.meta.url));
const FIXTURE = fixture("social_interactionA-sdrm3-100ms.jsonl");
const MUTATED = fixture("social_interactionA-sdrm3-100ms.mutated.jsonl");

/** What the fixture files say about themselves (the tests compare the replay with them). */
const fixtureFacts = () => {
  const lines = readFileSync(FIXTURE, "utf8").split("\n").slice(0, -1);
  const mutated = readFileSync(MUTATED, "utf8").split("\n");
  const entries = lines.slice(1).map((l) => JSON.parse(l) as { seq: number; at: number; type: string; payload: Record<string, unknown> });
  const count = (pred: (e: (typeof entries)[number]) => boolean) => entries.filter(pred).length;
  const changed = lines.map((l, i) => (l === mutated[i] ? -1 : i)).filter((i) => i >= 0);
  // the fixture's mutation changes a dispatch decision (the tests below check action "dispatch")
  const original = JSON.parse(lines[changed[0]!]!).payload as DispatchDecision;
  const altered = JSON.parse(mutated[changed[0]!]!).payload as DispatchDecision;
  return {
    lines: lines.length,
    mutatedLines: mutated.length - 1,
    changed,
    entries: entries.length,
    inputs: count((e) => e.type === "input"),
    events: count((e) => e.type !== "input"),
    decisions: count((e) => e.type === "decision"),
    drops: count((e) => e.type === "decision" && e.payload.action === "drop"),
    blocks: count((e) => e.type === "block.dispatched"),
    frames: count((e) => e.type === "frame.released"),
    misses: count((e) => e.type === "frame.ended" && e.payload.outcome !== "onTime"),
    /** The changed decision: its seq, as recorded and as mutated. */
    mutation: { seq: changed[0]!, original, altered },
    /** Seq of the decision entry numbered n. */
    seqOfDecision: (n: number) => entries.find((e) => e.type === "decision" && e.payload.n === n)!.seq,
  };
};

const USAGE_SCENARIOS = ["AR_Assistant", "AR_gaming", "VR_gaming", "outdoor_activity_A", "outdoor_activity_B", "social_interactionA", "social_interactionB"];

const dir = mkdtempSync(join(tmpdir(), "sdrm3-replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dataset = loadBuiltinDataset();
const hardware = resolveHardware(dataset, "Dual_4K/WS_OS");
const optionsFor = (scenarioName: string, policy: string, durationMs: number, blockSize = 1): RunOptions => {
  const scenario = findScenario(dataset, scenarioName);
  return { scenario, hardware, costs: resolveModelCosts(dataset, scenario, hardware), policy: resolvePolicy(policy), durationMs, seed: 1, blockSize };
};

const record = async (opts: RunOptions, path: string) => {
  const sink = new JsonlLogSink(path);
  const recorder = new EventRecorder(sink, logHeaderFor(opts));
  try {
    return { result: await runScenario({ ...opts, observer: recorder }), entries: recorder.entries };
  } finally {
    sink.close();
  }
};

describe("record → replay gives identical decisions, every policy × every usage scenario (Dual_4K/WS_OS, 300 ms)", () => {
  it("covers the catalogue, xrbench included, and the 7 usage scenarios", () => {
    expect([...POLICIES.keys()]).toContain("xrbench");
    expect([...POLICIES.keys()]).toContain("sdrm3");
    for (const s of USAGE_SCENARIOS) expect(dataset.scenarios.has(s)).toBe(true);
  });

  for (const policy of POLICIES.keys()) {
    for (const scenario of USAGE_SCENARIOS) {
      it(`${policy} on ${scenario}`, async () => {
        const path = join(dir, `${policy}-${scenario}.jsonl`);
        const { result } = await record(optionsFor(scenario, policy, 300), path);
        const replay = await replayLog(await openLogFile(path));
        expect(replay.divergence).toBeUndefined();
        expect(replay.kernel.finished).toBe(true);
        expect(replay.decisions).toBe(result.decisions);
        expect(replay.kernel.frameRecords()).toEqual(result.frames);
        const recorded = await recordedMetrics(await openLogFile(path));
        expect(recorded.frames).toEqual(result.frames);
        expect(recorded.summary).toEqual(result.summary);
      });
    }
  }
});

describe("record → replay, every policy × the other shipped scenarios (probability sweeps, dynamic; 200 ms, block 4)", () => {
  const others = [...dataset.scenarios.keys()].filter((s) => !USAGE_SCENARIOS.includes(s));
  it("covers every shipped scenario together with the usage scenarios", () => {
    expect(others.length + USAGE_SCENARIOS.length).toBe(dataset.scenarios.size);
    expect(others.length).toBeGreaterThanOrEqual(7);
  });
  for (const scenario of others) {
    const dynamic = findScenario(dataset, scenario).phases !== undefined;
    for (const policy of POLICIES.keys()) {
      if (policy === "xrbench" && dynamic) continue; // the XRBench runtime refuses dynamic scenarios (tested elsewhere)
      it(`${policy} on ${scenario}`, async () => {
        const path = join(dir, `other-${policy}-${scenario}.jsonl`);
        const { result } = await record(optionsFor(scenario, policy, 200, 4), path);
        const replay = await replayLog(await openLogFile(path));
        expect(replay.divergence).toBeUndefined();
        expect(replay.decisions).toBe(result.decisions);
        expect(replay.kernel.frameRecords()).toEqual(result.frames);
      });
    }
  }
});

describe("record → replay on the shipped dynamic scenarios (phases, early exits, skipped layers)", () => {
  const dynamic = [...dataset.scenarios.values()].filter((s) => "phases" in s && s.phases !== undefined);
  it("the dataset ships some", () => expect(dynamic.length).toBeGreaterThan(0));
  for (const scenario of dynamic) {
    // run 300 ms past the first phase change, so the log holds a switch of the workload
    const boundary = (scenario as { phases?: ReadonlyArray<{ toMs: number | null }> }).phases?.[0]?.toMs ?? 0;
    const durationMs = Math.min(boundary, 6000) + 300;
    it(`sdrm3 on ${scenario.name} (${durationMs} ms, block 8): identical; the header carries the dynamics`, async () => {
      const path = join(dir, `dynamic-${scenario.name}.jsonl`);
      const { result } = await record(optionsFor(scenario.name, "sdrm3", durationMs, 8), path);
      const log = await openLogFile(path);
      expect(log.header.scenario).toEqual(JSON.parse(JSON.stringify(scenario)));
      const replay = await replayLog(log);
      expect(replay.divergence).toBeUndefined();
      expect(replay.decisions).toBe(result.decisions);
      expect(replay.kernel.frameRecords()).toEqual(result.frames);
    });
  }
});

describe("online tuning (sdrm3 tune=1)", () => {
  it("replays identically, tuning steps included; explain scores with the parameters in force", async () => {
    const path = join(dir, "tuned.jsonl");
    // social_interactionA: a run where the tuner moves θ (on AR_gaming it keeps the defaults since behaviour 3)
    const opts = { ...optionsFor("social_interactionA", "sdrm3", 400, 8), policy: resolvePolicy("sdrm3", { tune: 1, tuneEvery: 100, lookahead: 100 }) };
    const { result } = await record(opts, path);
    const tunes: RunEvent[] = [];
    const replay = await replayLog(await openLogFile(path), { onEvent: (e) => void (e._tag === "decision" || e._tag.startsWith("frame") || e._tag.startsWith("block") || e._tag === "run.finished" ? 0 : tunes.push(e)) });
    expect(replay.divergence).toBeUndefined();
    expect(replay.decisions).toBe(result.decisions);
    expect(tunes.length).toBeGreaterThanOrEqual(4);
    const last = tunes[tunes.length - 1] as RunEvent & { params: Record<string, number> };
    const r = await explainLog(() => openLogFile(path), { kind: "time", atMs: 390 });
    expect(r.replay.divergence).toBeUndefined();
    const p = r.points[0]!;
    expect(Object.entries(last.params).some(([k, v]) => opts.policy.params[k] !== v)).toBe(true); // the tuner did change θ
    expect(p.params).toEqual(last.params);
    expect(scoresMatch(p)).toBe(true);
  });
});

describe("the committed fixture log", () => {
  const facts = fixtureFacts();

  it("is the documented run, and has drops (so explain and trace see them)", async () => {
    const log = await openLogFile(FIXTURE);
    expect(log.header).toMatchObject({ scenario: { name: "social_interactionA" }, hardware: { name: "Dual_4K/WS_OS" }, policy: { name: "sdrm3" }, seed: 1, durationMs: 100, blockSize: 8 });
    expect(facts.drops).toBeGreaterThan(0);
    expect(facts.decisions).toBeGreaterThan(100);
  });

  it("replays identically", async () => {
    const r = await replayLog(await openLogFile(FIXTURE));
    expect(r.divergence).toBeUndefined();
    expect([r.inputs, r.events, r.decisions, r.lastSeq]).toEqual([facts.inputs, facts.events, facts.decisions, facts.entries]);
    expect(r.status).toMatchObject({ finished: true, linesUsed: facts.lines });
  });

  it("its mutated copy (one decision changed) diverges exactly there", async () => {
    expect(facts.mutatedLines).toBe(facts.lines);
    expect(facts.changed).toHaveLength(1);
    const { seq, original, altered } = facts.mutation;
    expect(altered).toMatchObject({ _tag: "decision", action: "dispatch", n: original.n, job: original.job });
    expect(altered.acc).not.toBe(original.acc);

    const r = await replayLog(await openLogFile(MUTATED));
    expect(r.divergence).toMatchObject({ seq, kind: "event", expected: altered, actual: original });
    expect(r.divergence?.scoreDiffs).toEqual([
      { key: "S", expected: altered.scores!.S, actual: original.scores!.S },
      { key: "P", expected: altered.scores!.P, actual: original.scores!.P },
    ]);
    expect([r.decisions, r.lastSeq]).toEqual([original.n - 1, seq - 1]);
  });

  it("replays a prefix: --until-seq and --until-time", async () => {
    const bySeq = await replayLog(await openLogFile(FIXTURE), { untilSeq: 100 });
    expect([bySeq.stopped, bySeq.lastSeq, bySeq.divergence]).toEqual(["untilSeq", 100, undefined]);
    let lastInputAt = 0;
    const byTime = await replayLog(await openLogFile(FIXTURE), { untilTimeMs: 50, onInput: (e) => void (lastInputAt = e.at) });
    expect(byTime.stopped).toBe("untilTime");
    expect(lastInputAt).toBeLessThanOrEqual(50);
    expect(lastInputAt).toBeGreaterThan(45);
    expect(byTime.divergence).toBeUndefined();
  });

  it("names the parameters the policy gained after a log was recorded (replay can only default them), but not those its behaviour version implies", async () => {
    const log = await openLogFile(FIXTURE);
    const recorded = Object.keys(log.header.policy.params);
    // the fixture is behaviour 1: the parameters added with behaviour 2 get their behaviour-1 values, not today's defaults
    const implied = Object.keys(SDRM3_BEHAVIOUR_1);
    expect(paramsNotInHeader(log.header).map((p) => p.name)).toEqual(SDRM3_PARAMS.map((p) => p.name).filter((n) => !recorded.includes(n) && !implied.includes(n)));
    expect(recordedPolicy(log.header).params).toMatchObject(SDRM3_BEHAVIOUR_1);
    const older = { ...log.header, policy: { name: "sdrm3", params: { alpha: 1 } } };
    expect(paramsNotInHeader(older)).toEqual(SDRM3_PARAMS.filter((p) => p.name !== "alpha" && !implied.includes(p.name)).map((p) => ({ name: p.name, value: p.default })));
    // a behaviour-2 header implies the behaviour-2 values of the parameters added with behaviour 3
    const two = Object.keys(SDRM3_BEHAVIOUR_2);
    const b2 = { ...older, behaviourVersion: 2 };
    expect(paramsNotInHeader(b2)).toEqual(SDRM3_PARAMS.filter((p) => p.name !== "alpha" && !two.includes(p.name)).map((p) => ({ name: p.name, value: p.default })));
    expect(recordedPolicy(b2).params).toMatchObject(SDRM3_BEHAVIOUR_2);
    // a behaviour-3 header implies nothing: every parameter it lacks takes today's default
    const newer = { ...older, behaviourVersion: 3 };
    expect(paramsNotInHeader(newer)).toEqual(SDRM3_PARAMS.filter((p) => p.name !== "alpha").map((p) => ({ name: p.name, value: p.default })));
  });

  it("a behaviour-2 log (recorded before affordableUrgent and blockGuard) replays with behaviour 2's decisions; read as behaviour 3 it diverges", async () => {
    // a log as behaviour 2 wrote it: sdrm3 with the blocking rules off, a header that names neither parameter
    const path = join(dir, "behaviour-2.jsonl");
    await record({ ...optionsFor("VR_gaming", "sdrm3", 1000), policy: resolvePolicy("sdrm3", SDRM3_BEHAVIOUR_2) }, path);
    const lines = readFileSync(path, "utf8").split("\n");
    const header = JSON.parse(lines[0]!) as { behaviourVersion: number; policy: { params: Record<string, number> } };
    expect(header.behaviourVersion).toBe(3);
    const asWritten = (behaviourVersion: number) => {
      const params = Object.fromEntries(Object.entries(header.policy.params).filter(([k]) => !Object.hasOwn(SDRM3_BEHAVIOUR_2, k)));
      const file = join(dir, `behaviour-2-as-${behaviourVersion}.jsonl`);
      writeFileSync(file, [JSON.stringify({ ...header, behaviourVersion, policy: { ...header.policy, params } }), ...lines.slice(1)].join("\n"));
      return file;
    };
    const replay = await replayLog(await openLogFile(asWritten(2)));
    expect(replay.divergence).toBeUndefined();
    expect(replay.kernel.finished).toBe(true);
    // today's defaults (the blocking rules on) decide differently on this run: the implied values are what makes it replay
    expect((await replayLog(await openLogFile(asWritten(3)))).divergence).toBeDefined();
  });
});

describe("re-simulation under another policy", () => {
  it("fcfs on the fixture's workload: the same releases (frames, nominal releases, deadlines)", async () => {
    const log = await openLogFile(FIXTURE);
    const recorded = await recordedMetrics(log);
    const again = await resimulate(log.header, resolvePolicy("fcfs"));
    expect(again.policy).toBe("fcfs");
    const rel = compareReleases(recorded.frames, again.frames);
    expect(rel).toEqual({ identical: true, recorded: fixtureFacts().frames, resimulated: fixtureFacts().frames, firstDifference: undefined });
  });

  it("under the recorded policy it reproduces the recorded metrics", async () => {
    const log = await openLogFile(FIXTURE);
    const recorded = await recordedMetrics(log);
    // the policy as the log's behaviour (1) implies it: today's sdrm3 defaults decide differently
    const again = await resimulate(log.header, recordedPolicy(log.header));
    expect(again.frames).toEqual(recorded.frames);
    expect(again.summary).toEqual(recorded.summary);
    expect(again.decisions).toBe(recorded.decisions);
  });
});

describe("explain", () => {
  const explain = (target: ExplainTarget, path = FIXTURE) => explainLog(() => openLogFile(path), target);

  it("shows a decision's view: ready jobs, accelerators, every MapScore with U/F/P, equal to the recorded scores", async () => {
    const { seq, original } = fixtureFacts().mutation;
    const r = await explain({ kind: "seq", seq });
    expect(r.replay.divergence).toBeUndefined();
    expect(r.points).toHaveLength(1);
    const p = r.points[0]!;
    const d = p.decisions.find((x) => x.target)!;
    expect(d).toMatchObject({ n: original.n, action: "dispatch", job: original.job, acc: original.acc, recorded: { seq } });
    const chosen = p.pairs!.find((x) => x.status === "chosen" && x.job === original.job)!;
    expect({ S: chosen.s, U: chosen.u, F: chosen.f, P: chosen.p }).toEqual(original.scores);
    expect(d.recorded!.scores).toEqual(original.scores);
    expect(scoresMatch(p)).toBe(true);
    expect(p.ready.some((j) => j.job === original.job && j.u === chosen.u && j.f === chosen.f)).toBe(true);
    expect(p.accelerators.map((a) => a.id)).toEqual(["acc0", "acc1"]);
    expect(p.at).toBe(original.at);
  });

  it("for every job of the fixture, each explained dispatch's recomputed terms equal the recorded ones; drops have reasons", async () => {
    const facts = fixtureFacts();
    const log = await openLogFile(FIXTURE);
    const jobs: string[] = [];
    for await (const e of log.entries) if (e.type === "frame.released" && e.payload._tag === "frame.released") jobs.push(`${e.payload.frame.model}:${e.payload.frame.frame}`);
    expect(jobs).toHaveLength(facts.frames);
    let dispatches = 0;
    let drops = 0;
    for (const job of jobs) {
      const r = await explain({ kind: "job", job });
      expect(r.replay.divergence).toBeUndefined();
      for (const p of r.points) {
        for (const d of p.decisions.filter((x) => x.target)) {
          expect(d.job).toBe(job);
          expect(d.recorded?.seq).toBe(facts.seqOfDecision(d.n));
          if (d.action === "dispatch") {
            dispatches++;
            const pair = p.pairs!.find((x) => x.job === d.job && x.acc === d.acc)!;
            expect(pair.status).toBe("chosen");
            expect({ S: pair.s, U: pair.u, F: pair.f, P: pair.p }).toEqual(d.recorded!.scores);
          } else {
            drops++;
            expect(p.drops).toContainEqual({ job, reason: d.reason, by: "policy" });
          }
        }
      }
    }
    expect([dispatches, drops]).toEqual([facts.decisions - facts.drops, facts.drops]);
  });

  it("for another policy: the view and the decisions, no MapScores", async () => {
    const path = join(dir, "fcfs.jsonl");
    await record(optionsFor("VR_gaming", "fcfs", 100), path);
    const r = await explain({ kind: "time", atMs: 20 }, path);
    expect(r.points).toHaveLength(1);
    expect(r.points[0]!.pairs).toBeUndefined();
    expect(r.points[0]!.at).toBeGreaterThanOrEqual(20);
    expect(r.points[0]!.ready[0]!.u).toBeUndefined();
    expect(r.points[0]!.decisions.some((d) => d.target && d.action === "dispatch")).toBe(true);
  });
});

// ─── trace export ────────────────────────────────────────────────────────────────────────────

interface TraceEvent {
  readonly ph: string;
  readonly name: string;
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly args?: Record<string, unknown>;
}

/** Structure checks of a Chrome/Perfetto trace (JSON object format). */
const validateTrace = (text: string, accelerators: number) => {
  const doc = JSON.parse(text) as { displayTimeUnit: string; traceEvents: TraceEvent[] };
  expect(doc.displayTimeUnit).toBe("ms");
  const events = doc.traceEvents;
  const threadNames = new Map(events.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => [e.tid, String(e.args?.name)]));
  expect(threadNames.size).toBe(accelerators + 1);
  expect(events.some((e) => e.ph === "M" && e.name === "process_name")).toBe(true);
  const lastTs = new Map<string, number>();
  const lastEnd = new Map<number, number>();
  const counts = { X: 0, i: 0, C: 0 };
  for (const e of events) {
    if (e.ph === "M") continue;
    expect(["X", "i", "C"]).toContain(e.ph);
    counts[e.ph as "X" | "i" | "C"]++;
    expect(e.pid).toBe(1);
    expect(typeof e.ts).toBe("number");
    expect(Number.isFinite(e.ts)).toBe(true);
    const track = e.ph === "C" ? `C:${e.name}` : `T:${e.tid}`;
    expect(e.ts!, `ts monotone on ${track}`).toBeGreaterThanOrEqual(lastTs.get(track) ?? 0);
    lastTs.set(track, e.ts!);
    if (e.ph === "X") {
      expect(typeof e.name === "string" && e.name.length > 0).toBe(true);
      expect(typeof e.tid).toBe("number");
      expect(e.tid >= 1 && e.tid <= accelerators).toBe(true);
      expect(threadNames.has(e.tid)).toBe(true);
      expect(typeof e.dur).toBe("number");
      expect(e.dur!).toBeGreaterThanOrEqual(0);
      expect(e.args).toMatchObject({ model: e.name, job: expect.stringMatching(/:\d+$/), layers: expect.stringMatching(/^\d+\.\.\d+$/) });
      expect(typeof e.args!.frame).toBe("number");
      expect(typeof e.args!.energyMJ).toBe("number");
      expect(e.ts! + 1e-6, `no overlap on accelerator track ${e.tid}`).toBeGreaterThanOrEqual(lastEnd.get(e.tid) ?? 0);
      lastEnd.set(e.tid, e.ts! + e.dur!);
    }
    if (e.ph === "i") expect(e.tid).toBe(accelerators + 1);
  }
  return { events, counts };
};

const traceOf = async (path: string) => {
  const log = await openLogFile(path);
  let text = "";
  const builder = new TraceBuilder(log.header, (t) => void (text += t), 4096);
  for await (const e of log.entries) if (e.type !== "input") builder.event(e.payload as RunEvent);
  builder.finish();
  return { text, builder };
};

describe("trace export", () => {
  it("the fixture: one slice per block with scores, instants for drops and misses, queue and energy counters", async () => {
    const facts = fixtureFacts();
    const { text, builder } = await traceOf(FIXTURE);
    const { events, counts } = validateTrace(text, 2);
    expect(counts.X).toBe(facts.blocks);
    expect(counts.i).toBe(facts.misses); // drops + late frames
    expect(builder.stats).toMatchObject({ slices: facts.blocks, instants: facts.misses });
    const { original } = facts.mutation;
    const slice = events.find((e) => e.ph === "X" && e.args?.decision === original.n)!;
    const [model, frame] = original.job.split(":");
    expect(slice).toMatchObject({
      name: model,
      tid: Number(original.acc!.slice(3)) + 1,
      ts: Math.round(original.at * 1e6) / 1e3,
      args: { job: original.job, frame: Number(frame), layers: `${original.firstLayer}..${original.firstLayer! + original.layerCount! - 1}`, scores: original.scores },
    });
    expect(events.filter((e) => e.ph === "i" && e.name.startsWith("drop "))).toHaveLength(facts.drops);
    const queue = events.filter((e) => e.ph === "C" && e.name === "ready queue");
    expect(queue.length).toBeGreaterThan(10);
    expect(Object.values(queue[queue.length - 1]!.args!)).toEqual([0, 0, 0, 0]); // every frame ended
    const energy = events.filter((e) => e.ph === "C" && e.name === "energy mJ").map((e) => e.args!.energy as number);
    expect(energy).toEqual([...energy].sort((a, b) => a - b));
  });

  it("a block that the xrbench runtime retired 0.01 ms early: the slice is clamped to the next start", async () => {
    const meta = (await openLogFile(FIXTURE)).header;
    let text = "";
    const b = new TraceBuilder(meta, (t) => void (text += t));
    const block = (at: number, frame: number, completesAt: number): RunEvent => ({
      _tag: "block.dispatched", v: 1, run: "embedded", at, acc: "acc0", job: jobId("ES_RITNet", frame), firstLayer: 0, layerCount: 1, completesAt, energyMJ: 1,
    });
    b.event(block(0, 0, 1.005));
    b.event(block(1, 1, 2));
    b.finish();
    const { events } = validateTrace(text, 2);
    const slices = events.filter((e) => e.ph === "X");
    expect(slices.map((e) => [e.ts, e.dur, e.args?.clampedMs])).toEqual([[0, 1000, 0.005], [1000, 1000, undefined]]);
  });

  it("an xrbench run (its runtime frees accelerators up to 0.01 ms early): slices never overlap", async () => {
    const path = join(dir, "xrbench.jsonl");
    await record(optionsFor("AR_gaming", "xrbench", 700), path);
    const { text } = await traceOf(path);
    const { counts } = validateTrace(text, 2);
    expect(counts.X).toBeGreaterThan(20);
  });
});

describe("re-simulation equals the other policy's own run", () => {
  it.each(["edf", "herald", "prema"])("a recorded sdrm3 run re-simulated under %s gives exactly `sdrm3 run --policy %s`", async (other) => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { main } = await import("@sdrm3/cli");
    const dir = mkdtempSync(join(tmpdir(), "sdrm3-resim-"));
    const io = { out: () => {}, err: () => {} };
    const args = ["--scenario", "social_interactionA", "--hardware", "Dual_4K/WS_OS", "--duration", "300ms", "--seed", "3", "--block", "2"];
    expect(await main(["run", ...args, "--policy", "sdrm3", "--record", join(dir, "run.jsonl")], io)).toBe(0);
    const log = await openLogFile(join(dir, "run.jsonl"));
    const again = await resimulate(log.header, resolvePolicy(other));
    let own = "";
    expect(await main(["run", ...args, "--policy", other, "--json"], { out: (t) => void (own += t), err: () => {} })).toBe(0);
    const ownJson = JSON.parse(own) as { models: unknown; summary: unknown; decisions: number };
    const { runToJson } = await import("@sdrm3/cli");
    const againJson = JSON.parse(JSON.stringify(runToJson(again))) as typeof ownJson;
    expect(againJson.models).toEqual(ownJson.models);
    expect(againJson.summary).toEqual(ownJson.summary);
    expect(againJson.decisions).toBe(ownJson.decisions);
  });
});
