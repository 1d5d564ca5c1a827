/**
 * Supernets end to end (docs/supernets.md): AR_Assistant on Dual_4K/WS_OS for 2 s under sdrm3
 * with supernets on and off, on the actor system — the load rule downgrades some jobs (decision
 * events name variants > 0), accuracy drops below 1, the accounting invariant holds; both UXCosts
 * are reported. The direct engine gives exactly what the actors give with supernets on; a recorded
 * supernet run replays identically from its log (whose header carries the variants), and a log
 * without them replays as supernets off; baselines always run the full model.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { RunEvent } from "@sdrm3/shared/contracts";
import {
  EventRecorder,
  JsonlLogSink,
  LogFormatError,
  type RunOptions,
  type RunResult,
  logHeaderFor,
  openLogFile,
  recordedMetrics,
  replayLog,
  resolveRunSpec,
  runOptionsFromHeader,
  runScenario,
  simulateDirect,
} from "@sdrm3/shared/runtime";
import { resolvePolicy } from "@sdrm3/shared/policies";
import { comparable } from "./support/run-result";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-supernet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const AR = { scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", durationMs: 2000, seed: 1 } as const;

type Decision = Extract<RunEvent, { _tag: "decision"; action: "dispatch" }>;

const runWithEvents = async (opts: RunOptions): Promise<{ result: RunResult; events: RunEvent[] }> => {
  const events: RunEvent[] = [];
  const result = await runScenario({ ...opts, onEvent: (e) => events.push(e) });
  return { result, events };
};

describe("AR_Assistant on Dual_4K/WS_OS, 2 s: sdrm3 with supernets on vs off", async () => {
  const on = await runWithEvents(resolveRunSpec({ ...AR, policy: "sdrm3", supernet: true }));
  const off = await runWithEvents(resolveRunSpec({ ...AR, policy: "sdrm3", supernet: false }));
  const dispatches = (events: RunEvent[]) => events.filter((e): e is Decision => e._tag === "decision" && e.action === "dispatch");

  it("reports both (UXCost and accuracy)", () => {
    const line = (name: string, r: RunResult) =>
      `${name}: UXCost ${r.summary.uxCost?.toFixed(4)}, accuracy ${r.summary.accuracy?.toFixed(4)}, miss rate ${(100 * r.summary.deadlineMissRate).toFixed(1)}%, ` +
      `${r.summary.energyMJPerS.toFixed(0)} mJ/s, ${r.frames.filter((f) => (f.variant ?? 0) > 0).length} frames downgraded`;
    console.info(`${line("supernet on ", on.result)}\n${line("supernet off", off.result)}`);
    expect(on.result.summary.uxCost).not.toBeNull();
    expect(off.result.summary.uxCost).not.toBeNull();
  });

  it("on: some jobs are downgraded — decision events name variants > 0, with the load L that chose them", () => {
    const downgraded = dispatches(on.events).filter((d) => (d.variant ?? 0) > 0);
    expect(downgraded.length).toBeGreaterThan(0);
    for (const d of downgraded.filter((x) => x.scores?.L !== undefined)) expect(d.scores!.L).toBeGreaterThan(0.8);
    // every dispatch of a supernet run names its variant, and a job keeps it on every block
    const byJob = new Map<string, Set<number>>();
    for (const d of dispatches(on.events)) {
      expect(d.variant).toBeDefined();
      byJob.set(d.job, (byJob.get(d.job) ?? new Set()).add(d.variant!));
    }
    for (const [job, vs] of byJob) expect([job, vs.size]).toEqual([job, 1]);
  });

  it("on: accuracy in (0, 1) — below 1 since downgraded frames completed on time; per model in (0, 1] or null", () => {
    const acc = on.result.summary.accuracy!;
    expect(acc).toBeGreaterThan(0);
    expect(acc).toBeLessThan(1);
    expect(on.result.frames.some((f) => f.outcome === "onTime" && (f.variant ?? 0) > 0)).toBe(true);
    for (const m of on.result.models) if (m.accuracy !== null) expect(m.accuracy).toBeGreaterThan(0), expect(m.accuracy).toBeLessThanOrEqual(1);
  });

  it("off: no variant anywhere, accuracy 1", () => {
    expect(dispatches(off.events).every((d) => d.variant === undefined)).toBe(true);
    expect(off.result.frames.every((f) => f.variant === undefined)).toBe(true);
    expect(off.result.summary.accuracy).toBe(1);
    expect(off.result.supernet).toBe(false);
  });

  it("the accounting invariant: every frame ends once, frame energy = block energy (at each block's variant)", () => {
    for (const { result, events } of [on, off]) {
      const ids = result.frames.map((f) => `${f.model}:${f.frame}`);
      expect(new Set(ids).size).toBe(ids.length);
      expect(result.frames.every((f) => f.outcome !== "unfinished")).toBe(true);
      const blocks = events.filter((e): e is Extract<RunEvent, { _tag: "block.dispatched" }> => e._tag === "block.dispatched");
      const blockEnergy = blocks.reduce((s, b) => s + b.energyMJ, 0);
      expect(result.frames.reduce((s, f) => s + f.energyMJ, 0)).toBeCloseTo(blockEnergy, 6);
      const variantOf = new Map(result.frames.map((f) => [`${f.model}:${f.frame}`, f.variant]));
      for (const b of blocks) expect(b.variant).toBe(variantOf.get(b.job));
    }
  });
});

describe("engines and logs with supernets on", () => {

  it("the direct engine equals the actor system (AR_Assistant, Dual_4K/WS_OS, 1 s)", async () => {
    const opts = resolveRunSpec({ ...AR, durationMs: 1000, seed: 4, policy: "sdrm3", supernet: true });
    const actorEvents: string[] = [];
    const directEvents: string[] = [];
    const actors = await runScenario({ ...opts, run: "x", onEvent: (e) => actorEvents.push(JSON.stringify(e)) });
    const direct = simulateDirect({ ...opts, run: "x", onEvent: (e) => directEvents.push(JSON.stringify(e)) });
    expect(actors.frames.some((f) => (f.variant ?? 0) > 0)).toBe(true);
    expect(comparable(direct)).toBe(comparable(actors));
    expect(directEvents).toEqual(actorEvents);
  });

  it("record → replay: identical decisions and frames; the header carries the variants; metrics from the log equal the run's", async () => {
    const opts = resolveRunSpec({ ...AR, policy: "sdrm3", supernet: true });
    const path = join(dir, "supernet.jsonl");
    const sink = new JsonlLogSink(path);
    const header = logHeaderFor(opts);
    let result: RunResult;
    try {
      result = await runScenario({ ...opts, observer: new EventRecorder(sink, header) });
    } finally {
      sink.close();
    }
    expect(header.variants?.map((v) => v.name)).toEqual(opts.scenario.models.map((m) => m.name));
    expect(header.variants?.[0]?.variants.map((v) => v.width)).toEqual([1, 0.75, 0.5]);
    const log = await openLogFile(path);
    expect(log.header).toEqual(header);
    const replay = await replayLog(log);
    expect(replay.divergence).toBeUndefined();
    expect(replay.decisions).toBe(result.decisions);
    expect(replay.kernel.frameRecords()).toEqual(result.frames);
    const recorded = await recordedMetrics(await openLogFile(path));
    expect(recorded.frames).toEqual(result.frames);
    expect(recorded.summary).toEqual(result.summary);
    expect(recorded.summary.accuracy).toBeLessThan(1);

    // the header gives back the run's options: variants and all
    const again = runOptionsFromHeader(log.header, resolvePolicy("sdrm3", log.header.policy.params));
    expect(again.supernet).toBe(true);
    for (const [name, vs] of opts.variants!) {
      const back = again.variants!.get(name)!;
      expect(back.map((v) => [v.width, v.accuracy, v.costs.model])).toEqual(vs.map((v) => [v.width, v.accuracy, v.costs.model]));
      back.forEach((v, i) => expect(v.costs.latencyMs).toEqual(vs[i]!.costs.latencyMs));
    }
  });

  it("a log without variants (recorded before supernets) replays as supernets off; a bad variants entry is a header error", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/logs/social_interactionA-sdrm3-100ms.jsonl", import.meta.url));
    const log = await openLogFile(fixture);
    expect(log.header.variants).toBeUndefined();
    const opts = runOptionsFromHeader(log.header, resolvePolicy("sdrm3", log.header.policy.params));
    expect(opts.supernet).toBeUndefined();
    expect((await replayLog(log)).divergence).toBeUndefined();

    const lines = readFileSync(fixture, "utf8").split("\n");
    const h = JSON.parse(lines[0]!);
    const m = h.scenario.models[0].name;
    const layers = h.costs[0].layerCount;
    const row = (v: number) => [new Array<number>(layers).fill(v), new Array<number>(layers).fill(v)];
    h.variants = [{ name: m, variants: [{ width: 1, accuracy: 0, model: "x", cycles: row(1), energyMJ: row(1) }] }];
    const bad = join(dir, "bad-variants.jsonl");
    writeFileSync(bad, [JSON.stringify(h), ...lines.slice(1)].join("\n"));
    await expect(openLogFile(bad)).rejects.toThrow(/line 1: bad header: variants\.0\.variants\.0\.accuracy/);
    h.variants = [{ name: m, variants: [{ width: 1, accuracy: 1, model: "x", cycles: row(1), energyMJ: row(1) }] }];
    writeFileSync(bad, [JSON.stringify(h), ...lines.slice(1)].join("\n"));
    const partial = await openLogFile(bad);
    expect(() => runOptionsFromHeader(partial.header, resolvePolicy("sdrm3"))).toThrow(LogFormatError);
    expect(() => runOptionsFromHeader(partial.header, resolvePolicy("sdrm3"))).toThrow(/variants has no entry for scenario model/);
  });
});

describe("baselines always run the full model", () => {
  it("edf with supernets on: no variant > 0, accuracy 1, the same frames as with supernets off", async () => {
    const on = await runScenario(resolveRunSpec({ ...AR, durationMs: 1000, policy: "edf", supernet: true }));
    const off = await runScenario(resolveRunSpec({ ...AR, durationMs: 1000, policy: "edf" }));
    expect(on.supernet).toBe(true);
    expect(on.frames.every((f) => (f.variant ?? 0) === 0)).toBe(true);
    expect(on.summary.accuracy).toBe(1);
    expect(on.frames.map(({ variant: _v, accuracy: _a, ...rest }) => rest)).toEqual(off.frames);
    expect(on.summary.uxCost).toBe(off.summary.uxCost);
  });
});
