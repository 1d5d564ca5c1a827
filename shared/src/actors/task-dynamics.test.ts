/**
 * Dynamic workloads in the pure model-task logic (exact mode, DESIGN.md §5): active intervals
 * with their own FPS (releases, frame ids, deadlines, per-interval seeded phase), cascaded children
 * that release only while active, and the per-frame early-exit / skipped-layer draws.
 */
import { describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "../contracts/messages";
import type { ReleasedFrame, TaskParentEnded } from "../contracts/messages";
import type { ActiveInterval } from "../domain/types";
import { type TaskConfig, type TaskState, initialTaskState, nextTickAt, onParentEnded, onTick } from "./task-logic";

const TWO_INTERVALS: ReadonlyArray<ActiveInterval> = [
  { fromMs: 0, toMs: 1000, fps: 10 },
  { fromMs: 2000, toMs: 3000, fps: 20 },
];

const config = (over: Partial<TaskConfig> = {}): TaskConfig => ({
  run: "t",
  name: "HT_hand_graph_cnn_half",
  fps: 10,
  probability: 1,
  dependsOn: [],
  mode: "exact",
  durationMs: 5000,
  seed: 1,
  phase: false,
  jitterMs: 0,
  ...over,
});

/** Ticks the task at each time it asks for until it has nothing left; returns every released frame. */
const releaseAll = (cfg: TaskConfig): { frames: ReleasedFrame[]; ticks: number[]; state: TaskState } => {
  let state = initialTaskState(cfg);
  const frames: ReleasedFrame[] = [];
  const ticks: number[] = [];
  for (let at = nextTickAt(cfg, state); at !== null; at = nextTickAt(cfg, state)) {
    if (ticks.length > 10_000) throw new Error("the task never runs out of releases");
    ticks.push(at);
    const [next, reply] = onTick(cfg, state, at);
    expect(reply.nextAt).toBe(nextTickAt(cfg, next));
    frames.push(...reply.frames);
    state = next;
  }
  return { frames, ticks, state };
};

const parentEnded = (frame: number, at: number, releaseAt: number, outcome: TaskParentEnded["outcome"] = "onTime"): TaskParentEnded => ({
  _tag: "task.parentEnded",
  v: PROTOCOL_VERSION,
  run: "t",
  at,
  parent: "ES_RITNet",
  frame,
  releaseAt,
  outcome,
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("active intervals", () => {
  it("10 fps in [0, 1000) and 20 fps in [2000, 3000): frames at 0, 100, …, 900 then 2000, 2050, …, 2950", () => {
    const { frames, ticks, state } = releaseAll(config({ active: TWO_INTERVALS }));
    const expected = [...range(10).map((k) => k * 100), ...range(20).map((k) => 2000 + k * 50)];
    expect(frames.map((f) => f.releaseAt)).toEqual(expected);
    expect(ticks).toEqual(expected);
    // frame ids continue across intervals
    expect(frames.map((f) => f.frame)).toEqual(range(30));
    // deadline = release + the period of the frame's own interval
    expect(frames.map((f) => f.deadline - f.releaseAt)).toEqual([...range(10).map(() => 100), ...range(20).map(() => 50)]);
    expect(frames.every((f) => f.injectAt === f.releaseAt && f.model === "HT_hand_graph_cnn_half")).toBe(true);
    expect(frames.some((f) => f.releaseAt >= 1000 && f.releaseAt < 2000)).toBe(false);
    expect(state.released).toBe(30);
    expect(nextTickAt(config({ active: TWO_INTERVALS }), state)).toBeNull();
  });

  it("nothing is released in the gap: after the frame at 900 the next tick is 2000, and ticks in between release nothing", () => {
    const cfg = config({ active: TWO_INTERVALS });
    let state = initialTaskState(cfg);
    for (let k = 0; k < 10; k++) state = onTick(cfg, state, k * 100)[0];
    expect(nextTickAt(cfg, state)).toBe(2000);
    for (const at of [1000, 1500, 1999.999]) {
      const [same, reply] = onTick(cfg, state, at);
      expect(reply.frames).toEqual([]);
      expect(reply.skipped).toEqual([]);
      expect(reply.nextAt).toBe(2000);
      expect(same).toEqual(state);
    }
    const [, reply] = onTick(cfg, state, 2000);
    expect(reply.frames.map((f) => [f.frame, f.releaseAt, f.deadline])).toEqual([[10, 2000, 2050]]);
  });

  it("an interval that starts late, and one open to the end of the run, are clipped to the run", () => {
    const cfg = config({
      durationMs: 2200,
      active: [
        { fromMs: 500, toMs: 1000, fps: 4 },
        { fromMs: 1000, toMs: null, fps: 5 },
      ],
    });
    const { frames } = releaseAll(cfg);
    expect(frames.map((f) => [f.releaseAt, f.deadline])).toEqual([
      [500, 750],
      [750, 1000],
      [1000, 1200],
      [1200, 1400],
      [1400, 1600],
      [1600, 1800],
      [1800, 2000],
      [2000, 2200],
    ]);
  });

  it("an interval wholly after the run's end releases nothing", () => {
    const { frames } = releaseAll(config({ durationMs: 1000, active: TWO_INTERVALS }));
    expect(frames.map((f) => f.releaseAt)).toEqual(range(10).map((k) => k * 100));
  });

  it("no active list: the whole run at fps (the static behaviour)", () => {
    const { frames } = releaseAll(config({ durationMs: 450 }));
    expect(frames.map((f) => [f.frame, f.releaseAt, f.deadline])).toEqual(range(5).map((k) => [k, k * 100, (k + 1) * 100]));
  });

  it("with phase: true every interval gets its own seeded offset in [0, T), the same for the same seed", () => {
    const runWith = (seed: number) => releaseAll(config({ active: TWO_INTERVALS, phase: true, seed })).frames;
    const offsets = (frames: ReleasedFrame[]) => [frames[0]!.releaseAt, frames.find((f) => f.releaseAt >= 2000)!.releaseAt - 2000];
    const seen = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5]) {
      const frames = runWith(seed);
      expect(runWith(seed)).toEqual(frames);
      const first = frames.filter((f) => f.releaseAt < 1000);
      const second = frames.filter((f) => f.releaseAt >= 2000);
      expect(first.length + second.length).toBe(frames.length);
      const [phi0, phi1] = offsets(frames);
      expect(phi0).toBeGreaterThanOrEqual(0);
      expect(phi0).toBeLessThan(100);
      expect(phi1).toBeGreaterThanOrEqual(0);
      expect(phi1).toBeLessThan(50);
      // within an interval: k·T + φ, deadline one period on
      first.forEach((f, k) => {
        expect(f.releaseAt).toBeCloseTo(phi0! + k * 100, 9);
        expect(f.deadline).toBeCloseTo(f.releaseAt + 100, 9);
      });
      second.forEach((f, k) => {
        expect(f.releaseAt).toBeCloseTo(2000 + phi1! + k * 50, 9);
        expect(f.deadline).toBeCloseTo(f.releaseAt + 50, 9);
      });
      // all nominal releases lie inside their interval: 10 and 20 frames (φ < T)
      expect([first.length, second.length]).toEqual([10, 20]);
      expect(frames.map((f) => f.frame)).toEqual(range(30));
      seen.add(JSON.stringify(offsets(frames)));
    }
    expect(seen.size).toBeGreaterThan(1); // the seed moves the phases
  });

  it("jitter delays the release (injectAt) by less than jitterMs but leaves the nominal release and deadline", () => {
    const cfg = config({ active: TWO_INTERVALS, jitterMs: 10, seed: 9 });
    const { frames, ticks } = releaseAll(cfg);
    const nominal = [...range(10).map((k) => k * 100), ...range(20).map((k) => 2000 + k * 50)];
    expect(frames.map((f) => f.releaseAt)).toEqual(nominal);
    frames.forEach((f, i) => {
      expect(ticks[i]).toBe(f.injectAt);
      expect(f.injectAt - f.releaseAt).toBeGreaterThanOrEqual(0);
      expect(f.injectAt - f.releaseAt).toBeLessThan(10);
    });
    expect(frames.some((f) => f.injectAt > f.releaseAt)).toBe(true);
    expect(frames.map((f) => f.deadline - f.releaseAt)).toEqual([...range(10).map(() => 100), ...range(20).map(() => 50)]);
  });
});

describe("cascaded child with active intervals", () => {
  const child = config({ name: "GE_FBNet_C", dependsOn: ["ES_RITNet"], active: TWO_INTERVALS });

  it("has no timer of its own", () => {
    expect(nextTickAt(child, initialTaskState(child))).toBeNull();
  });

  it("releases on the parent's end only when active at that time, with its interval's period for the deadline", () => {
    let state = initialTaskState(child);
    const released: ReleasedFrame[] = [];
    const silent: number[] = [];
    for (const [frame, at, releaseAt] of [
      [0, 30, 0],
      [9, 990, 980],
      [10, 1010, 995], // parent released while active, but ended after the interval: nothing
      [11, 1500, 1480],
      [12, 2000, 1990], // interval starts at the parent's end
      [13, 2600, 2580],
      [14, 3000, 2990], // interval ended (exclusive end)
    ] as const) {
      const [next, reply] = onParentEnded(child, state, parentEnded(frame, at, releaseAt));
      if (reply.frames.length === 0) silent.push(frame);
      released.push(...reply.frames);
      state = next;
    }
    expect(released.map((f) => [f.frame, f.releaseAt, f.injectAt, f.deadline])).toEqual([
      [0, 0, 30, 100],
      [9, 980, 990, 1080],
      [12, 1990, 2000, 2040],
      [13, 2580, 2600, 2630],
    ]);
    expect(silent).toEqual([10, 11, 14]);
    // outside its intervals nothing is consumed: no trigger draw, no skipped frame
    expect(state).toMatchObject({ released: 4, skipped: 0 });
  });

  it("an inactive child reports neither a frame nor a skipped id", () => {
    const state = initialTaskState(child);
    const [next, reply] = onParentEnded(child, state, parentEnded(5, 1200, 1190, "dropped"));
    expect([reply.frames, reply.skipped, reply.nextAt]).toEqual([[], [], null]);
    expect(next).toEqual(state);
  });

  it("a trigger probability below 1 skips some frames while active", () => {
    const cfg = { ...child, probability: 0.5 };
    let state = initialTaskState(cfg);
    for (let f = 0; f < 40; f++) state = onParentEnded(cfg, state, parentEnded(f, 2000 + f * 10, 2000 + f * 10))[0];
    expect(state.released + state.skipped).toBe(40);
    expect(state.released).toBeGreaterThan(0);
    expect(state.skipped).toBeGreaterThan(0);
  });
});

describe("per-frame early exits and skipped layers", () => {
  const EXITS = [
    { afterLayer: 30, probability: 1 },
    { afterLayer: 10, probability: 1 },
  ];

  it("exit probability 1: every frame exits at the first exit point (lowest layer)", () => {
    const { frames } = releaseAll(config({ active: TWO_INTERVALS, exits: EXITS }));
    expect(frames).toHaveLength(30);
    expect(frames.every((f) => f.exitAfter === 10)).toBe(true);
    expect(frames.every((f) => f.skipLayers === undefined)).toBe(true);
  });

  it("exit probability 1 on the later point only: every frame exits there", () => {
    const { frames } = releaseAll(config({ durationMs: 1000, exits: [{ afterLayer: 10, probability: 0 }, { afterLayer: 30, probability: 1 }] }));
    expect(frames.map((f) => f.exitAfter)).toEqual(range(10).map(() => 30));
  });

  it("exit probability 0: no frame ever exits", () => {
    const { frames } = releaseAll(config({ active: TWO_INTERVALS, exits: EXITS.map((x) => ({ ...x, probability: 0 })) }));
    expect(frames).toHaveLength(30);
    expect(frames.every((f) => !("exitAfter" in f))).toBe(true);
  });

  it("skip (execute) probability 0: every frame skips the range; 1: never", () => {
    const skips = [
      { fromLayer: 3, toLayer: 5, probability: 0 },
      { fromLayer: 8, toLayer: 9, probability: 1 },
    ];
    const { frames } = releaseAll(config({ active: TWO_INTERVALS, skips }));
    expect(frames).toHaveLength(30);
    for (const f of frames) expect(f.skipLayers).toEqual([[3, 5]]);
    const never = releaseAll(config({ active: TWO_INTERVALS, skips: skips.map((s) => ({ ...s, probability: 1 })) })).frames;
    expect(never.every((f) => !("skipLayers" in f))).toBe(true);
    const always = releaseAll(config({ active: TWO_INTERVALS, skips: skips.map((s) => ({ ...s, probability: 0 })) })).frames;
    for (const f of always) expect(f.skipLayers).toEqual([[3, 5], [8, 9]]);
  });

  it("a cascaded child draws its path too", () => {
    const cfg = config({ name: "GE_FBNet_C", dependsOn: ["ES_RITNet"], exits: [{ afterLayer: 40, probability: 1 }], skips: [{ fromLayer: 2, toLayer: 3, probability: 0 }] });
    const [, reply] = onParentEnded(cfg, initialTaskState(cfg), parentEnded(7, 120, 100));
    expect(reply.frames).toEqual([
      { model: "GE_FBNet_C", frame: 7, releaseAt: 100, injectAt: 120, deadline: 200, exitAfter: 40, skipLayers: [[2, 3]] },
    ]);
  });

  it("probabilities in between: a mix, roughly at the given rates", () => {
    const cfg = config({
      durationMs: 100_000,
      fps: 20,
      exits: [{ afterLayer: 10, probability: 0.3 }],
      skips: [{ fromLayer: 3, toLayer: 5, probability: 0.75 }],
    });
    const { frames } = releaseAll(cfg);
    expect(frames).toHaveLength(2000);
    const exitRate = frames.filter((f) => f.exitAfter === 10).length / frames.length;
    const skipRate = frames.filter((f) => f.skipLayers !== undefined).length / frames.length;
    expect(exitRate).toBeGreaterThan(0.25);
    expect(exitRate).toBeLessThan(0.35);
    expect(skipRate).toBeGreaterThan(0.2); // executes with 0.75: skipped a quarter of the time
    expect(skipRate).toBeLessThan(0.3);
  });

  it("same seed and frame → same path, whatever order the frames are drawn in", () => {
    const cfg = config({
      name: "GE_FBNet_C",
      dependsOn: ["ES_RITNet"],
      seed: 42,
      exits: [
        { afterLayer: 20, probability: 0.4 },
        { afterLayer: 40, probability: 0.5 },
      ],
      skips: [
        { fromLayer: 2, toLayer: 3, probability: 0.5 },
        { fromLayer: 50, toLayer: 55, probability: 0.5 },
      ],
    });
    const pathOf = (f: ReleasedFrame) => JSON.stringify([f.exitAfter ?? null, f.skipLayers ?? []]);
    const drawIn = (order: ReadonlyArray<number>): Map<number, string> => {
      let state = initialTaskState(cfg);
      const paths = new Map<number, string>();
      for (const frame of order) {
        const [next, reply] = onParentEnded(cfg, state, parentEnded(frame, frame * 10 + 5, frame * 10));
        for (const f of reply.frames) paths.set(f.frame, pathOf(f));
        state = next;
      }
      return paths;
    };
    const ids = range(64);
    const forward = drawIn(ids);
    const backward = drawIn([...ids].reverse());
    const shuffled = drawIn(ids.map((i) => (i * 37) % 64));
    const odd = drawIn(ids.filter((i) => i % 2 === 1));
    expect(forward.size).toBe(64);
    for (const id of ids) {
      expect(backward.get(id), `frame ${id}`).toBe(forward.get(id));
      expect(shuffled.get(id), `frame ${id}`).toBe(forward.get(id));
      if (id % 2 === 1) expect(odd.get(id), `frame ${id}`).toBe(forward.get(id));
    }
    // the draws are real: several different paths occur
    expect(new Set(forward.values()).size).toBeGreaterThan(3);
    // a root task of the same name and seed draws the same path for the same frame id
    const root = releaseAll({ ...cfg, dependsOn: [], durationMs: 640, fps: 100 }).frames;
    expect(root).toHaveLength(64);
    for (const f of root) expect(pathOf(f), `frame ${f.frame}`).toBe(forward.get(f.frame));
    // another seed gives other paths
    const other = releaseAll({ ...cfg, seed: 43, dependsOn: [], durationMs: 640, fps: 100 }).frames;
    expect(other.map(pathOf)).not.toEqual(root.map(pathOf));
  });
});
