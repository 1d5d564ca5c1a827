import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { RunEvent } from "@sdrm3/shared/contracts";
import { runProgress } from "./run-progress";

/** A terminal-like stream that keeps what was drawn. */
const terminal = () => {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let drawn = "";
  stream.on("data", (chunk: Buffer) => (drawn += chunk.toString()));
  return { stream: stream as unknown as NodeJS.WriteStream, drawn: () => drawn };
};

describe("sdrm3 run's progress bar", () => {
  it("follows the simulated time of the run's events and ends at the duration", () => {
    const t = terminal();
    const p = runProgress(3000, t.stream);
    for (const at of [0, 500, 1500]) p.onEvent({ _tag: "run.finished", v: 1, run: "r", at } as RunEvent);
    p.stop();
    expect(t.drawn()).toContain("0/3000 ms simulated | 0%"); // drawn at most 10 times a second: the middle may be skipped
    expect(t.drawn()).toContain("3000/3000 ms simulated | 100%");
  });
});
