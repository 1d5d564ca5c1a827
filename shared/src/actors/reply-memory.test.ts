import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { recall, remember, replyMemory } from "./reply-memory";

describe("reply memory", () => {
  it("recalls what was remembered, and nothing a later memory added", () => {
    const m0 = replyMemory<number>(4);
    const m1 = remember(m0, "a", 1);
    const m2 = remember(m1, "b", 2);
    expect(recall(m2, "a")).toBe(1);
    expect(recall(m2, "b")).toBe(2);
    expect(recall(m1, "b")).toBeUndefined();
    expect(recall(m0, "a")).toBeUndefined();
  });

  it("two memories made from one memory do not see each other's entries (a value, not a shared object)", () => {
    const base = remember(replyMemory<string>(8), "x", "x0");
    const left = remember(base, "k", "left");
    const right = remember(base, "k", "right");
    expect(recall(left, "k")).toBe("left");
    expect(recall(right, "k")).toBe("right");
    expect(recall(base, "k")).toBeUndefined();
    const left2 = remember(left, "y", "l");
    expect(recall(right, "y")).toBeUndefined();
    expect(recall(left2, "x")).toBe("x0");
    expect(recall(left2, "k")).toBe("left");
  });

  it("matches a plain map of the last keys on any sequence of branches (property)", () => {
    const capacity = 3;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(20), fc.integer({ min: 0, max: 9 })), { maxLength: 60 }), (ops) => {
        // each op: remember key k into the memory made `back` steps ago (a branch), compared with a model
        const memories = [replyMemory<number>(capacity)];
        const models: Array<ReadonlyArray<[string, number]>> = [[]];
        ops.forEach(([back, k], i) => {
          const from = Math.max(0, memories.length - 1 - back);
          const key = `k${k}`;
          memories.push(remember(memories[from]!, key, i));
          models.push([...models[from]!.filter(([kk]) => kk !== key), [key, i]]);
        });
        memories.forEach((m, j) => {
          const model = models[j]!;
          // the last `capacity` keys are always remembered, with their newest value
          for (const [key, value] of model.slice(-capacity)) expect(recall(m, key)).toBe(value);
          // nothing is recalled that the model never had, and never a stale value
          for (let k = 0; k < 10; k++) {
            const got = recall(m, `k${k}`);
            if (got !== undefined) expect(model.find(([kk]) => kk === `k${k}`)?.[1]).toBe(got);
          }
        });
      }),
    );
  });

  it("keeps the last `capacity` keys of a long lineage and forgets the older ones (at most capacity + 2 generations)", () => {
    const capacity = 64;
    let m = replyMemory<number>(capacity);
    for (let i = 0; i < 10 * capacity; i++) m = remember(m, `k${i}`, i);
    const recalled = Array.from({ length: 10 * capacity }, (_, i) => recall(m, `k${i}`)).filter((v) => v !== undefined);
    expect(recalled.length).toBeGreaterThanOrEqual(capacity);
    expect(recalled.length).toBeLessThan(capacity + 2 * Math.ceil(capacity / 4));
    // the ones kept are the newest, each with its own value
    expect(recalled).toEqual(Array.from({ length: recalled.length }, (_, i) => 10 * capacity - recalled.length + i));
  });

  it("numeric keys that are hashes: entries with one key told apart by `same`, newest first; `order` answers a later request without a lookup", () => {
    type Entry = { readonly id: string; readonly at: number };
    const same = (id: string, at: number) => (e: Entry) => e.id === id && e.at === at;
    let m = replyMemory<Entry>(8);
    // one hash for three requests (a collision), remembered in time order
    for (const [id, at] of [["a", 1], ["b", 2], ["a", 3]] as const) m = remember(m, 7, { id, at }, same(id, at), at);
    expect(recall(m, 7, same("a", 1), 1)).toEqual({ id: "a", at: 1 });
    expect(recall(m, 7, same("b", 2), 2)).toEqual({ id: "b", at: 2 });
    expect(recall(m, 7, same("a", 3), 3)).toEqual({ id: "a", at: 3 });
    expect(recall(m, 7, same("c", 2), 2)).toBeUndefined();
    expect(recall(m, 7, same("a", 4), 4)).toBeUndefined(); // after every remembered request
    expect(recall(m, 8, same("a", 1), 1)).toBeUndefined();
    // remembering a request it holds replaces its answer and keeps the others
    const again = remember(m, 7, { id: "b", at: 2 }, same("b", 2), 2);
    expect(recall(again, 7, same("b", 2), 2)).toEqual({ id: "b", at: 2 });
    expect(recall(again, 7, same("a", 1), 1)).toEqual({ id: "a", at: 1 });
    expect(recall(again, 7, same("a", 3), 3)).toEqual({ id: "a", at: 3 });
  });

  it("a lookup leaves the memory it reads as it was (no table is built into it)", () => {
    let m = replyMemory<number>(8);
    for (let i = 0; i < 5; i++) m = remember(m, `k${i}`, i);
    const before = JSON.stringify(m);
    expect(recall(m, "k1")).toBe(1);
    expect(recall(m, "k4")).toBe(4);
    expect(JSON.stringify(m)).toBe(before);
  });
});
