import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "./main";
import { timelineSpec } from "./timeline";

const trace = {
  traceEvents: [
    { ph: "M", name: "process_name", tid: 0, ts: 0, args: { name: "hw — sc / p" } },
    { ph: "M", name: "thread_name", tid: 1, ts: 0, args: { name: "acc0" } },
    { ph: "M", name: "thread_name", tid: 2, ts: 0, args: { name: "acc1" } },
    { ph: "X", name: "A", tid: 1, ts: 1000, dur: 2000 },
    { ph: "X", name: "B", tid: 2, ts: 5000, dur: 1000 },
    { ph: "X", name: "A", tid: 1, ts: 150_000, dur: 1000 },
    { ph: "i", name: "drop A:1", tid: 3, ts: 4000 },
  ],
};

const capture = () => {
  const io = { stdout: "", stderr: "", out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
};

describe("sdrm3 timeline", () => {
  it("draws the blocks and marks inside the window, one lane per accelerator", () => {
    const spec = timelineSpec(trace, 0, 100) as unknown as { layer: Array<{ data: { values: unknown[] } }> };
    expect(spec.layer[0]!.data.values).toEqual([
      { lane: "acc0", model: "A", start: 1, end: 3 },
      { lane: "acc1", model: "B", start: 5, end: 6 },
    ]);
    expect(spec.layer[1]!.data.values).toEqual([{ lane: "frames", at: 4, kind: "drop", label: "drop A:1" }]);
  });

  it("writes a PNG, and refuses a file that is not a trace (exit 2)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sdrm3-timeline-"));
    writeFileSync(join(dir, "t.json"), JSON.stringify(trace));
    const ok = capture();
    expect(await main(["timeline", join(dir, "t.json"), "--out", join(dir, "t.png"), "--to", "10ms"], ok)).toBe(0);
    expect(readFileSync(join(dir, "t.png")).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    writeFileSync(join(dir, "bad.json"), "{not json");
    const bad = capture();
    expect(await main(["timeline", join(dir, "bad.json"), "--out", join(dir, "x.png")], bad)).toBe(2);
    expect(bad.stderr).toContain("not a readable trace-event JSON file");
  });
});
