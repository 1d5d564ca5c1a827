/** `idle`: the reference floor drops every ready frame and runs nothing. */
import { describe, expect, it } from "vitest";
import { NO_DECISION } from "./common";
import { IDLE_DROP_REASON, idle } from "./idle";
import { buildView, decideWith, flatLayers } from "./testing";

describe("idle", () => {
  it("drops every ready job, whatever its deadline, and dispatches nothing although accelerators are idle", () => {
    const view = buildView({
      models: [
        { name: "ES_eye", latencyMs: flatLayers(3, [1, 2]), jobs: [{ frame: 0, deadline: 1000 }, { frame: 1 }] },
        { name: "KD_kws", latencyMs: flatLayers(3, [1, 2]), jobs: [{ frame: 0 }] },
      ],
    });
    expect(decideWith(idle, view)).toEqual({
      dispatches: [],
      drops: [
        { job: "ES_eye:0", reason: IDLE_DROP_REASON },
        { job: "ES_eye:1", reason: IDLE_DROP_REASON },
        { job: "KD_kws:0", reason: IDLE_DROP_REASON },
      ],
    });
    expect(IDLE_DROP_REASON).toBe("idle policy");
  });

  it("has nothing to say about an empty queue", () => {
    expect(decideWith(idle, buildView({ models: [{ name: "A", latencyMs: flatLayers(3, [1, 2]) }] }))).toBe(NO_DECISION);
  });
});
