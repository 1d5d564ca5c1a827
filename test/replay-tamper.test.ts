/**
 * Replay trusts nothing it can recompute (issue 17, item 5): mutated copies of the committed log
 * fixture whose events still agree with their inputs (the tampering is consistent) are refused at
 * the tampered input's line, because replay recomputes every accelerator reply from the header's
 * cost table and every model task reply from the header's seed. Also: a trailing blank line is
 * accepted, and `explain` on a truncated log reports it as `replay` does.
 *
 * The expectations are read from the fixture (which entry is the first accelerator reply, what it
 * says), so a regeneration of the fixture needs no edit here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { sdrm3 } from "../services/cli/src/testing";

const FIXTURE = fileURLToPath(new URL("./fixtures/logs/social_interactionA-sdrm3-100ms.jsonl", import.meta.url));
const lines = readFileSync(FIXTURE, "utf8").split("\n").slice(0, -1);
type Entry = { seq: number; at: number; type: string; payload: Record<string, any> };
const entries = lines.slice(1).map((l) => JSON.parse(l) as Entry);

const dir = mkdtempSync(join(tmpdir(), "sdrm3-tamper-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes the fixture with `edit` applied to its parsed lines (the header is index 0). */
const tampered = (name: string, edit: (header: Record<string, any>, entries: Entry[]) => void, tail = "\n"): string => {
  const header = JSON.parse(lines[0]!) as Record<string, any>;
  const copy = entries.map((e) => structuredClone(e));
  edit(header, copy);
  const path = join(dir, name);
  writeFileSync(path, [header, ...copy].map((x) => JSON.stringify(x)).join("\n") + tail);
  return path;
};

/** The first accelerator reply and the block.dispatched event that records the same block. */
const firstBlock = (() => {
  const reply = entries.find((e) => e.type === "input" && e.payload.reply?._tag === "block.result")!;
  const r = reply.payload.reply;
  const dispatched = entries.find((e) => e.seq > reply.seq && e.type === "block.dispatched" && e.payload.job === r.job && e.payload.firstLayer === r.firstLayer)!;
  return { reply, dispatched };
})();

describe("replay recomputes the inputs it can", () => {
  it("the untouched fixture replays identically (the recomputed replies equal the recorded ones)", async () => {
    const r = await sdrm3("replay", FIXTURE);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`decisions identical`);
  });

  it("an accelerator reply's energy edited ×10, consistently in its block.dispatched event, is refused at the reply's line", async () => {
    const { reply, dispatched } = firstBlock;
    const energy = reply.payload.reply.energyMJ as number;
    const path = tampered("energy.jsonl", (_, es) => {
      es.find((e) => e.seq === reply.seq)!.payload.reply.energyMJ = energy * 10;
      es.find((e) => e.seq === dispatched.seq)!.payload.energyMJ = energy * 10;
    });
    const r = await sdrm3("replay", path);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`divergence at seq ${reply.seq} (line ${reply.seq + 1})`);
    expect(r.out).toContain(`accelerator ${reply.payload.reply.acc}'s reply to the dispatch of ${reply.payload.reply.job}`);
    expect(r.out).toContain(`energyMJ ${energy * 10} recorded, ${energy} recomputed`);
    expect(r.out).not.toContain("decisions identical");
  });

  it("an accelerator reply's latency edited (completion time with it) is refused at its line", async () => {
    const { reply } = firstBlock;
    const path = tampered("latency.jsonl", (_, es) => {
      const r = es.find((e) => e.seq === reply.seq)!.payload.reply;
      r.latencyMs = r.latencyMs / 2;
      r.completesAt = r.startedAt + r.latencyMs;
    });
    const r = await sdrm3("replay", path);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`divergence at seq ${reply.seq} (line ${reply.seq + 1})`);
    expect(r.out).toMatch(/latencyMs [\d.]+ recorded, [\d.]+ recomputed/);
    expect(r.out).toContain("the header's cost table gives");
  });

  it("a changed header seed is refused at the first task reply whose draws it changes", async () => {
    const path = tampered("seed.jsonl", (h) => {
      h.seed = (h.seed as number) + 1;
    });
    const firstTask = entries.find((e) => e.type === "input" && e.payload.reply?._tag === "task.released")!;
    const r = await sdrm3("replay", path);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`divergence at seq ${firstTask.seq} (line ${firstTask.seq + 1})`);
    expect(r.out).toContain(`model task ${firstTask.payload.reply.model}'s reply`);
    expect(r.out).toContain(`the header's seed ${JSON.parse(lines[0]!).seed + 1} gives`);
  });

  it("a released frame removed from a task reply (a trigger draw that fired reported as skipped) is refused at its line", async () => {
    const withFrame = entries.find((e) => e.type === "input" && e.payload.reply?._tag === "task.released" && e.payload.reply.frames.length > 0)!;
    const frame = withFrame.payload.reply.frames[0].frame as number;
    const path = tampered("trigger.jsonl", (_, es) => {
      const r = es.find((e) => e.seq === withFrame.seq)!.payload.reply;
      r.frames = [];
      r.skipped = [frame];
    });
    const r = await sdrm3("replay", path);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`divergence at seq ${withFrame.seq} (line ${withFrame.seq + 1})`);
    expect(r.out).toContain(`skipped [${frame}] recorded, [] recomputed`);
  });

  it("a trailing blank line is accepted; other lines after run.finished are not", async () => {
    const blank = join(dir, "blank.jsonl");
    writeFileSync(blank, `${lines.join("\n")}\n\n`);
    const ok = await sdrm3("replay", blank);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("decisions identical");
    const extra = join(dir, "extra.jsonl");
    writeFileSync(extra, `${lines.join("\n")}\n\n{}\n`);
    const bad = await sdrm3("replay", extra);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(`line ${lines.length + 2}: entry after run.finished`);
  });
});

describe("explain on a damaged log", () => {
  const firstDecision = entries.find((e) => e.type === "decision")!;

  it("a log truncated after its answer: explain shows the answer and fails naming the line, as replay does", async () => {
    const path = join(dir, "truncated.jsonl");
    writeFileSync(path, `${lines.slice(0, 300).join("\n")}\n`);
    const replay = await sdrm3("replay", path);
    const explain = await sdrm3("explain", path, "--at", String(firstDecision.seq));
    expect(replay.code).toBe(2);
    expect(explain.code).toBe(2);
    const why = "line 301: the log ends after line 300 before the run finished (no run.finished entry): it is truncated";
    expect(replay.err).toContain(why);
    expect(explain.err).toContain(why);
    expect(explain.out).toContain(`#${firstDecision.payload.n} `);
  });

  it("with --allow-truncated, explain notes where the log stops, as replay does", async () => {
    const path = join(dir, "cut.jsonl");
    writeFileSync(path, readFileSync(FIXTURE, "utf8").slice(0, -50));
    const replay = await sdrm3("replay", path, "--allow-truncated");
    const explain = await sdrm3("explain", path, "--at", String(firstDecision.seq), "--allow-truncated");
    expect(explain.code).toBe(0);
    const note = `--allow-truncated: used the first ${lines.length - 1} lines (header + ${lines.length - 2} entries); stopped at ${path}: line ${lines.length}: the line is cut`;
    expect(replay.out).toContain(note);
    expect(explain.out).toContain(note);
  });
});
