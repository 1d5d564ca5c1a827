/**
 * The dashboard's model on exact inputs: a recorded run's events give the run's own metrics
 * (UXCost over a window that covers the whole run = the run's UXCost), malformed events are
 * counted and skipped, slot ownership changes read as "gone" and "spare took over", and a run id
 * with no traffic reads as not found.
 */
import { describe, expect, it } from "vitest";
import { RunEvent } from "@sdrm3/shared/contracts";
import { decodeJson, resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";
import { DashboardModel, NOT_FOUND_AFTER_MS } from "./model";
import { runInfoOfId, runInfoOfResolved } from "./run-info";
import { acceptEvent } from "./sources";

describe("DashboardModel", () => {
  it("recomputes the run's per-model figures and UXCost from its events", async () => {
    const resolved = resolveRunSpec({ scenario: "social_interactionA", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 300, blockSize: 4 });
    const events: RunEvent[] = [];
    const result = await runScenario({ ...resolved, onEvent: (e) => events.push(e) });
    const model = new DashboardModel(runInfoOfResolved("embedded", "nats://x", resolved), 0, { windowMs: 10_000 });
    for (const e of events) model.event(e);
    const s = model.snapshot(0);
    expect(s.phase).toBe("finished");
    expect(s.events).toBe(events.length);
    expect(s.accelerators.map((a) => a.id)).toEqual(["acc0", "acc1"]);
    expect(s.accelerators.reduce((n, a) => n + a.blocks, 0)).toBe(events.filter((e) => e._tag === "block.dispatched").length);
    for (const m of result.models) {
      const v = s.models.find((x) => x.name === m.name)!;
      expect([v.released, v.onTime, v.late, v.dropped], m.name).toEqual([m.released, m.onTime, m.late, m.dropped]);
      expect(v.targetFps).toBe(m.targetFps);
    }
    // the window holds every frame that ended; the run's UXCost also counts its duration, the window the time so far
    const ended = result.models.filter((m) => m.unfinished === 0 && m.released > 0);
    expect(ended.length).toBeGreaterThan(0);
    expect(s.uxCost).not.toBeNull();
    expect(s.uxCost!).toBeCloseTo(result.summary.uxCost!, 9);
  });

  it("skips and counts malformed events, and keeps going", () => {
    const model = new DashboardModel(runInfoOfId("r1", "nats://x"), 0);
    const subject = "sdrm3.r1.evt.sched.frame-released";
    expect(acceptEvent(model, "r1", subject, decodeJson(RunEvent, "{oops"))).toBeUndefined();
    expect(acceptEvent(model, "r1", subject, decodeJson(RunEvent, JSON.stringify({ _tag: "frame.released", v: 1, run: "r1", at: -5 })))).toBeUndefined();
    const ok = { _tag: "frame.released", v: 1, run: "r1", at: 1, frame: { model: "M", frame: 0, releaseAt: 1, injectAt: 1, deadline: 21 } };
    expect(acceptEvent(model, "r1", subject, decodeJson(RunEvent, JSON.stringify({ ...ok, run: "other" })))).toBeUndefined();
    expect(acceptEvent(model, "r1", subject, decodeJson(RunEvent, JSON.stringify(ok)))).toBeDefined();
    const s = model.snapshot(0);
    expect(s.malformed).toBe(3);
    expect(s.lastMalformed).toContain("an event of run other, not r1");
    expect(s.events).toBe(1);
    expect(s.models.map((m) => [m.name, m.targetFps, m.estimated])).toEqual([["M", 50, true]]);
    expect(s.uxCost).toBeNull(); // no ideal energies without the run's flags
  });

  it("shows a lapsed lease as gone and the spare that takes the slot over", () => {
    const model = new DashboardModel(runInfoOfId("r1", "nats://x"), 0);
    model.controlMessage({ _tag: "accel.register", v: 1, run: "r1", acc: "acc0", dataflow: "WS", numPes: 1024, nocBw: 64, costClass: "c", host: "p1" }, 10);
    model.lease("acc0", "p1", 20);
    model.lease("acc0", undefined, 30);
    expect(model.snapshot(30).accelerators[0]).toMatchObject({ id: "acc0", state: "gone", owner: "p1" });
    model.lease("acc0", "spare", 40);
    const a = model.snapshot(40).accelerators[0]!;
    expect(a).toMatchObject({ state: "up", owner: "spare" });
    expect(a.history.map((h) => [h.kind, h.text])).toEqual([
      ["claimed", "claimed by p1"],
      ["gone", "p1 gone: its lease lapsed"],
      ["takeover", "spare spare took over from p1"],
    ]);
    // a takeover seen without the gap still says the old owner is gone
    model.lease("acc0", "p9", 50);
    expect(model.snapshot(50).accelerators[0]!.history.slice(-2).map((h) => h.kind)).toEqual(["gone", "takeover"]);
  });

  it("says when a run has no traffic, and that it is not found after a while", () => {
    const model = new DashboardModel(runInfoOfId("ghost", "nats://x"), 1_000);
    expect(model.snapshot(1_000).message).toBe("no events for run ghost yet");
    expect(model.snapshot(1_000 + NOT_FOUND_AFTER_MS).message).toBe("run ghost not found: no events, registrations or slot leases for it yet");
    model.leaseBucket(true);
    expect(model.snapshot(1_000 + NOT_FOUND_AFTER_MS).message).toBe("no events for run ghost yet");
  });
});
