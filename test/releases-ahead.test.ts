/**
 * Releases asked ahead in virtual time (shared/src/actors/kernel-release.ts, docs/architecture.md
 * "Virtual time"): every virtual-time run in exact mode asks a model's next release as soon as it
 * has injected the current one, and waits for the answer only before its clock reaches the
 * release's due time. What must hold:
 * - the results are those of asking when due ("held", how logs recorded before replay): the same
 *   events, decision for decision, on the direct engine and on the actors, for scenarios with
 *   cascades, phases (active intervals), supernets and online tuning;
 * - they do not depend on when the answers arrive: a driver that delivers every answer to a tick
 *   asked ahead as late as the kernel lets it (only when it waits for nothing else) gives the same
 *   events as one that answers at once;
 * - the log header records it (`releases: "ahead"`; nothing in live or xrbench-mode logs), an
 *   ahead log replays exactly, and a header naming releases for a run that cannot have them is refused.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type KernelReply, SchedulerKernel } from "@sdrm3/shared/actors";
import type { RunEvent } from "@sdrm3/shared/contracts";
import {
  EventRecorder,
  JsonlLogSink,
  type RunOptions,
  kernelConfigFor,
  logHeaderFor,
  openLogFile,
  replayLog,
  pureResponders,
  runScenario,
  simulateDirect,
  tuningFor,
} from "@sdrm3/shared/runtime";
import { comparable, runSpecOf, scratchDir } from "./support/run-result";

const dir = scratchDir("ahead");


/**
 * Runs `opts` on the scheduler kernel with the tasks' and accelerators' pure logic (as the direct
 * engine does), answering each request at once in request order — or, with `late`, each tick asked
 * ahead only when the kernel asks for nothing more (it waits for that answer).
 */
const drive = (opts: RunOptions, late: boolean): { events: string[]; held: number } => {
  const run = opts.run ?? "x";
  const kernel = new SchedulerKernel(kernelConfigFor(opts, run));
  const answer = pureResponders(opts, run);
  const events: string[] = [];
  const backlog: Array<[number, KernelReply]> = [];
  let heldBack = 0;
  let effects = kernel.start();
  for (;;) {
    const now: Array<[number, KernelReply]> = [];
    for (const e of effects) {
      if (e.kind === "event") events.push(JSON.stringify(e.event));
      if (e.kind !== "request") continue;
      // a tick for a later time than the kernel's is one asked ahead: it may be answered late
      if (late && e.message._tag === "task.tick" && e.message.at > kernel.time) {
        backlog.push([e.corr, answer(e)]);
        heldBack++;
      } else now.push([e.corr, answer(e)]);
    }
    effects = [];
    for (const [corr, reply] of now) effects.push(...kernel.onReply(corr, reply));
    if (effects.length > 0) continue;
    if (kernel.finished) break;
    // the kernel asks for nothing more: it waits for an answer held back (the oldest first)
    const next = backlog.shift();
    if (next === undefined) throw new Error("the kernel stopped before the end of the run");
    effects = kernel.onReply(next[0], next[1]);
  }
  return { events, held: heldBack };
};

const spec = (scenario: string, hardware: string, policy: string, durationMs: number, extra: Record<string, unknown> = {}): RunOptions =>
  runSpecOf(scenario, hardware, policy, durationMs, extra, 3, "x");

describe("releases asked ahead in virtual time", () => {
  it.each([
    ["AR_Assistant", "Quad_8K/WS_OS_WS_OS", "sdrm3", 600, {}],
    ["social_interactionA", "Dual_4K/WS_OS", "sdrm3", 600, { quantumMs: 2 }],
    ["VR_gaming", "Dual_4K/WS_OS", "edf", 600, { queueDepth: 2, chainMs: 1 }],
    ["social_dynamic", "Quad_8K/WS_OS_WS_OS", "sdrm3", 1200, {}],
    ["VR_to_AR_switch", "Dual_4K/WS_OS", "sdrm3", 1200, { supernet: true }],
  ] as const)("%s on %s under %s: the events of asking when due, on the direct engine and on the actors", async (scenario, hardware, policy, durationMs, extra) => {
    const opts = spec(scenario, hardware, policy, durationMs, extra);
    expect(kernelConfigFor(opts, "x").releases).toBe("ahead");
    const collect = (into: string[]) => (e: RunEvent) => into.push(JSON.stringify(e));
    const heldEvents: string[] = [];
    const aheadEvents: string[] = [];
    const actorEvents: string[] = [];
    const held = simulateDirect({ ...opts, releases: "held", onEvent: collect(heldEvents) });
    const ahead = simulateDirect({ ...opts, onEvent: collect(aheadEvents) });
    const actors = await runScenario({ ...opts, onEvent: collect(actorEvents) });
    expect(heldEvents.length).toBeGreaterThan(100);
    expect(aheadEvents).toEqual(heldEvents);
    expect(actorEvents).toEqual(heldEvents);
    expect(comparable(ahead)).toBe(comparable(held));
    expect(comparable(actors)).toBe(comparable(held));
  });

  it("with online tuning (the tuner's look-aheads run on the direct engine too)", () => {
    // short look-aheads every 100 ms: several tuning points in a short run (the test holds its worker while it runs)
    const opts = spec("social_dynamic", "Dual_4K/WS_OS", "sdrm3", 300, { tune: true, params: { lookahead: 100, tuneEvery: 100 } });
    const held = simulateDirect({ ...opts, releases: "held" }, tuningFor(opts));
    const ahead = simulateDirect(opts, tuningFor(opts));
    expect(held.tuning.length).toBeGreaterThan(2);
    expect(ahead.tuning).toEqual(held.tuning);
    expect(comparable(ahead)).toBe(comparable(held));
  });

  it.each([
    ["AR_Assistant", "Quad_8K/WS_OS_WS_OS", {}],
    ["VR_gaming", "Dual_4K/WS_OS", { quantumMs: 1 }],
    ["social_dynamic", "Dual_4K/WS_OS", {}],
  ] as const)("%s on %s: answers delivered as late as the kernel lets them change nothing", (scenario, hardware, extra) => {
    const opts = spec(scenario, hardware, "sdrm3", 800, extra);
    const eager = drive(opts, false);
    const lazy = drive(opts, true);
    expect(lazy.held).toBeGreaterThan(20); // answers were held back
    expect(lazy.events).toEqual(eager.events);
    const held = drive({ ...opts, releases: "held" }, true);
    expect(held.held).toBe(0); // asked when due: nothing is ever asked ahead
    expect(eager.events).toEqual(held.events);
  });

  it("the header records it for virtual-time runs in exact mode only; an ahead log replays exactly", async () => {
    const opts = spec("AR_Assistant", "Dual_4K/WS_OS", "sdrm3", 300);
    expect(logHeaderFor(opts).releases).toBe("ahead");
    expect(logHeaderFor({ ...opts, releases: "held" }).releases).toBe("held");
    expect(logHeaderFor(spec("AR_Assistant", "Dual_4K/WS_OS", "xrbench", 300)).releases).toBeUndefined();
    expect(logHeaderFor({ ...opts, live: { speed: 1 } })).toMatchObject({ live: { speed: 1, releases: "ahead" } });
    expect(logHeaderFor({ ...opts, live: { speed: 1 } }).releases).toBeUndefined();
    const path = join(dir, "ahead.jsonl");
    const sink = new JsonlLogSink(path);
    let recorded;
    try {
      recorded = await runScenario({ ...opts, observer: new EventRecorder(sink, logHeaderFor(opts)) });
    } finally {
      sink.close();
    }
    const log = await openLogFile(path);
    expect(log.header.releases).toBe("ahead");
    const replay = await replayLog(await openLogFile(path));
    expect(replay.divergence).toBeUndefined();
    expect(replay.decisions).toBe(recorded.decisions);
    expect(replay.kernel.frameRecords()).toEqual(recorded.frames);
  });

  it("a log header naming releases for a live or xrbench-mode run is refused at line 1", async () => {
    for (const [opts, live] of [[spec("AR_Assistant", "Dual_4K/WS_OS", "xrbench", 100), false], [spec("AR_Assistant", "Dual_4K/WS_OS", "sdrm3", 100), true]] as const) {
      const path = join(dir, `tampered-${live}.jsonl`);
      const header = { ...logHeaderFor(live ? { ...opts, live: { speed: 1 } } : opts), releases: "ahead" as const };
      writeFileSync(path, `${JSON.stringify(header)}\n`);
      await expect(replayLog(await openLogFile(path))).rejects.toThrow(
        live ? /line 1: header: releases "ahead" is a setting of virtual-time runs in exact mode, and this is a live run/ : /line 1: header: releases "ahead" .* this is an xrbench-mode run/,
      );
    }
  });

  it("a kernel refuses releases for a live or xrbench-mode run", () => {
    const xr = spec("AR_Assistant", "Dual_4K/WS_OS", "xrbench", 300);
    expect(() => new SchedulerKernel({ ...kernelConfigFor(xr, "x"), releases: "ahead" })).toThrow(/releases ahead: a setting of virtual-time runs in exact mode/);
    const live = spec("AR_Assistant", "Dual_4K/WS_OS", "sdrm3", 300);
    expect(() => new SchedulerKernel({ ...kernelConfigFor({ ...live, live: { speed: 1 } }, "x"), releases: "held" })).toThrow(/releases held: a setting of virtual-time runs/);
  });
});
