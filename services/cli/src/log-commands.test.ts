/**
 * The event-log commands, in process through `main(argv, io)`: `run --record/--trace`, `replay`
 * (identical → 0, diverged → 1, damaged log → 2 naming the line, `--allow-truncated`),
 * `replay --policy`, `explain` and `trace`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { LIVE_DISPATCH_DEFAULTS } from "./flags";
import { num } from "./log-commands";
import { sdrm3 } from "./testing";

const FIXTURE = fileURLToPath(new URL("../../../test/fixtures/logs/social_interactionA-sdrm3-100ms.jsonl", import.meta.url));
const MUTATED = fileURLToPath(new URL("../../../test/fixtures/logs/social_interactionA-sdrm3-100ms.mutated.jsonl", import.meta.url));

/** What the fixture files say about themselves (see test/fixtures/logs/README.md). */
const fixture = (() => {
  const lines = readFileSync(FIXTURE, "utf8").split("\n").slice(0, -1);
  const mutated = readFileSync(MUTATED, "utf8").split("\n");
  const entries = lines.slice(1).map((l) => JSON.parse(l) as { seq: number; type: string; payload: Record<string, unknown> });
  const count = (pred: (e: (typeof entries)[number]) => boolean) => entries.filter(pred).length;
  const i = lines.findIndex((l, k) => l !== mutated[k]);
  type Decision = { n: number; at: number; job: string; acc: string; firstLayer: number; layerCount: number; scores: Record<string, number> };
  const drop = entries.find((e) => e.type === "decision" && e.payload.action === "drop")!.payload as { n: number; job: string; reason: string };
  return {
    lines: lines.length,
    events: count((e) => e.type !== "input"),
    inputs: count((e) => e.type === "input"),
    decisions: count((e) => e.type === "decision"),
    blocks: count((e) => e.type === "block.dispatched"),
    frames: count((e) => e.type === "frame.released"),
    seq: i,
    original: JSON.parse(lines[i]!).payload as Decision,
    altered: JSON.parse(mutated[i]!).payload as Decision,
    drop,
    /** Events and decisions before the mutated line. */
    before: { events: entries.slice(0, i - 1).filter((e) => e.type !== "input").length, decisions: (JSON.parse(lines[i]!).payload as Decision).n - 1, inputs: entries.slice(0, i - 1).filter((e) => e.type === "input").length },
  };
})();
const layers = (d: { firstLayer: number; layerCount: number }) => `${d.firstLayer}..${d.firstLayer + d.layerCount - 1}`;

const dir = mkdtempSync(join(tmpdir(), "sdrm3-log-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the fixture with its lines changed by `edit`. */
const damaged = (name: string, edit: (lines: string[]) => string): string => {
  const lines = readFileSync(FIXTURE, "utf8").split("\n").slice(0, -1);
  const path = join(dir, name);
  writeFileSync(path, edit(lines));
  return path;
};

describe("sdrm3 run --record / --trace", () => {
  it("records a log that replays identically and writes a trace", async () => {
    const log = join(dir, "run.jsonl");
    const trace = join(dir, "trace.json");
    const r = await sdrm3("run", "--scenario", "VR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "100ms", "--record", log, "--trace", trace, "--json");
    expect(r.code).toBe(0);
    const decisions = JSON.parse(r.out).decisions as number;
    const blocks = readFileSync(log, "utf8").split("\n").filter((l) => l.includes('"type":"block.dispatched"')).length;
    expect(r.err).toMatch(new RegExp(`^recorded \\d+ entries \\(\\d+ lines, \\d+ bytes\\) to ${log.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\n`));
    expect(r.err).toContain(`wrote trace (${blocks} slices) to ${trace}`);
    expect(JSON.parse(readFileSync(trace, "utf8")).traceEvents.filter((e: { ph: string }) => e.ph === "X")).toHaveLength(blocks);
    const replay = await sdrm3("replay", log);
    expect(replay.code).toBe(0);
    expect(replay.out).toMatch(new RegExp(`replayed \\d+ events, ${decisions} decisions identical\n$`));
  });
});

describe("sdrm3 replay", () => {
  it("the fixture: exit 0, every decision identical", async () => {
    const r = await sdrm3("replay", FIXTURE);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("social_interactionA on Dual_4K/WS_OS, policy sdrm3 (alpha=1, beta=1, gamma=1, ustar=0.8, eps=0.01, starveMs=1000, boost=10, drop=1, guard=1");
    expect(r.out).toContain("seed 1, 100 ms, block 8, mode exact; recorded by sdrm3 ");
    expect(r.out.endsWith(`replayed ${fixture.events} events, ${fixture.decisions} decisions identical\n`)).toBe(true);
  });

  it("names a recorded run's dispatch queue, look-ahead and live clock in its first line", async () => {
    const spec = ["--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "30ms"];
    const queued = join(dir, "header-queued.jsonl");
    const live = join(dir, "header-live.jsonl");
    expect((await sdrm3("run", ...spec, "--queue-depth", "2", "--lookahead", "1ms", "--record", queued)).code).toBe(0);
    expect((await sdrm3("run", ...spec, "--clock", "live", "--speed", "1", "--record", live)).code).toBe(0);
    const first = async (log: string) => (await sdrm3("replay", log)).out.split("\n")[0]!;
    expect(await first(queued)).toContain(", seed 1, 30 ms, block 1, queue depth 2, look-ahead 1ms, mode exact; recorded by sdrm3 ");
    expect(await first(live)).toContain(`, seed 1, 30 ms, quantum ${LIVE_DISPATCH_DEFAULTS.quantumMs}ms, mode exact, live at speed 1; recorded by sdrm3 `);
  });

  it("the mutated fixture: exit 1, the first divergence with both sides and the differing scores", async () => {
    const { seq, original: o, altered: a, before } = fixture;
    const r = await sdrm3("replay", MUTATED);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`divergence at seq ${seq} (line ${seq + 1}), t=${num(o.at)} ms: the replay decided differently`);
    expect(r.out).toContain(`expected (log):    decision #${o.n} dispatch ${o.job} -> ${a.acc} layers ${layers(o)}`);
    expect(r.out).toContain(`actual (replay):   decision #${o.n} dispatch ${o.job} -> ${o.acc} layers ${layers(o)}`);
    expect(r.out).toContain(`S          expected ${num(a.scores.S)}  actual ${num(o.scores.S)}`);
    expect(r.out).toContain(`P          expected ${num(a.scores.P)}  actual ${num(o.scores.P)}`);
    expect(r.out).toContain(`identical before it: ${before.events} events, ${before.decisions} decisions (${before.inputs} inputs)`);
  });

  it("a log recorded before a policy parameter existed: replayed with today's default, and says so", async () => {
    const path = damaged("old-params.jsonl", (l) => {
      const h = JSON.parse(l[0]!);
      delete h.policy.params.guard;
      return `${[JSON.stringify(h), ...l.slice(1)].join("\n")}\n`;
    });
    const r = await sdrm3("replay", path);
    expect(r.out).toMatch(/note: the log records no value for (\w+, )*guard(, \w+)* \(added to sdrm3 after it was recorded\); replaying with today's defaults .*guard=1.*, which may change decisions\n/);
    expect(r.code).toBe(0); // guard=1 is what the fixture ran with
  });

  it("--until-seq replays a prefix", async () => {
    const r = await sdrm3("replay", FIXTURE, "--until-seq", "100");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/replayed \d+ events, \d+ decisions identical \(up to seq 100, t=[0-9.]+ ms\)\n$/);
  });

  it("a truncated log (cut last line): exit 2 naming the line; --allow-truncated replays the valid prefix", async () => {
    const path = damaged("cut.jsonl", (l) => `${l.join("\n")}`.slice(0, -15));
    const r = await sdrm3("replay", path);
    expect(r.code).toBe(2);
    expect(r.out).not.toContain("replayed");
    expect(r.err).toBe(`sdrm3: ${path}: line ${fixture.lines}: the line is cut (the file ends without a newline): the log is truncated\n`);
    const ok = await sdrm3("replay", path, "--allow-truncated");
    expect(ok.code).toBe(0);
    expect(ok.out).toContain(
      `--allow-truncated: used the first ${fixture.lines - 1} lines (header + ${fixture.lines - 2} entries); stopped at ${path}: line ${fixture.lines}: the line is cut`,
    );
    expect(ok.out).toMatch(new RegExp(`replayed \\d+ events, ${fixture.decisions} decisions identical\n$`));
  });

  it("a bad line in the middle: exit 2 naming it; --allow-truncated stops there", async () => {
    const path = damaged("bad-middle.jsonl", (l) => `${[...l.slice(0, 99), "{not json", ...l.slice(100)].join("\n")}\n`);
    const r = await sdrm3("replay", path);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^sdrm3: ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: line 100: not valid JSON \\(`));
    const ok = await sdrm3("replay", path, "--allow-truncated");
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("used the first 99 lines (header + 98 entries)");
  });

  it("an unknown log format version: exit 2", async () => {
    const path = damaged("v99.jsonl", (l) => `${[l[0]!.replace('"formatVersion":1', '"formatVersion":99'), ...l.slice(1)].join("\n")}\n`);
    const r = await sdrm3("replay", path);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/line 1: unknown log format version 99 \(this sdrm3 [0-9.]+ reads version 1\)\n$/);
  });

  it("a missing file: exit 2", async () => {
    const r = await sdrm3("replay", join(dir, "nope.jsonl"));
    expect(r.code).toBe(2);
    expect(r.err).toBe(`sdrm3: cannot read ${join(dir, "nope.jsonl")}: no such file\n`);
  });

  it("--policy fcfs: both metric summaries side by side, identical releases", async () => {
    const r = await sdrm3("replay", FIXTURE, "--policy", "fcfs");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("recorded (sdrm3)");
    expect(r.out).toContain("re-simulated (fcfs)");
    for (const row of ["UXCost", "deadline-miss rate", "energy mJ/s", "released", "decisions", "ES_RITNet miss rate"]) expect(r.out).toContain(`│ ${row} `);
    expect(r.out).toMatch(new RegExp(`│ released\\s+│ ${fixture.frames}\\s+│ ${fixture.frames}\\s+│`));
    expect(r.out).toMatch(new RegExp(`│ decisions\\s+│ ${fixture.decisions}\\s+│ \\d+\\s+│`));
    expect(r.out).toContain(`releases: identical (${fixture.frames} frames: same model, frame, nominal release and deadline)`);
  });

  it("--param without --policy re-simulates the recorded policy with a parameter changed", async () => {
    const r = await sdrm3("replay", FIXTURE, "--param", "gamma=1000");
    expect(r.code).toBe(0);
    expect(r.out).toContain("under sdrm3 (alpha=1, beta=1, gamma=1000, ustar=0.8, eps=0.01, starveMs=1000, boost=10, drop=1, guard=1");
    expect(r.out).toContain("│ recorded (sdrm3) │ re-simulated (sdrm3, gamma=1000) │");
    expect(r.out).toMatch(new RegExp(`│ decisions\\s+│ ${fixture.decisions}\\s+│ \\d+\\s+│`));
  });
});

describe("sdrm3 explain", () => {
  it("--at <seq>: the view and the MapScore terms of an sdrm3 decision, matching the recorded scores", async () => {
    const { seq, original: o } = fixture;
    const r = await sdrm3("explain", FIXTURE, "--at", String(seq));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const sc = o.scores;
    expect(r.out).toContain(`decision point at t=${num(o.at)} ms`);
    expect(r.out).toContain(`-> #${o.n} dispatch ${o.job} on ${o.acc} (${o.layerCount} layers)  S=${num(sc.S)} U=${num(sc.U)} F=${num(sc.F)} P=${num(sc.P)}  [recorded at seq ${seq}]`);
    expect(r.out).toContain("MapScores S = U + alpha*F + beta*P");
    expect(r.out).toMatch(new RegExp(`│ ${o.job}\\s+│ ${o.acc}\\s+│ ${num(sc.U)}\\s+│ ${num(sc.F)}\\s+│ ${num(sc.P)}\\s+│ 0\\.000000\\s+│ ${num(sc.S)}\\s+│ chosen`));
    for (const heading of ["models:", "ready jobs (", "accelerators:", "drops here ("]) expect(r.out).toContain(heading);
    expect(r.out).toContain("recorded scores: match (S, U, F, P of every dispatch equal the recomputed MapScore terms)");
  });

  it("--at <time> and --job: a drop with its reason", async () => {
    const { original: o, drop } = fixture;
    const t = await sdrm3("explain", FIXTURE, "--at", `${o.at}ms`);
    expect(t.code).toBe(0);
    expect(t.out).toContain(`-> #${o.n} dispatch ${o.job}`);
    const j = await sdrm3("explain", FIXTURE, "--job", drop.job);
    expect(j.code).toBe(0);
    expect(j.out).toContain(`: frame.released ${drop.job}`);
    expect(j.out).toContain(`-> #${drop.n} drop ${drop.job}: ${drop.reason}`);
    expect(j.out).toContain(`${drop.job} by the policy: ${drop.reason}`);
  });

  it("bad targets: exit 2", async () => {
    expect((await sdrm3("explain", FIXTURE)).code).toBe(2);
    expect((await sdrm3("explain", FIXTURE, "--at", "soon")).err).toContain("--at: expected a time such as 35ms or 1.5s, got 'soon'");
    const none = await sdrm3("explain", FIXTURE, "--job", "GE_FBNet_C:99");
    expect(none.code).toBe(2);
    expect(none.err).toBe("sdrm3: explain: no decision found for the decisions about GE_FBNet_C:99\n");
  });

  it("on the mutated fixture it explains, then reports the divergence: exit 1", async () => {
    const r = await sdrm3("explain", MUTATED, "--at", String(fixture.seq));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`divergence at seq ${fixture.seq}`);
  });
});

describe("sdrm3 trace", () => {
  it("writes the trace JSON to stdout, or to --out", async () => {
    const r = await sdrm3("trace", FIXTURE);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.displayTimeUnit).toBe("ms");
    expect(doc.traceEvents.filter((e: { ph: string }) => e.ph === "X")).toHaveLength(fixture.blocks);
    const out = join(dir, "t.json");
    const f = await sdrm3("trace", FIXTURE, "--out", out);
    expect(f.code).toBe(0);
    expect(f.out).toBe("");
    expect(existsSync(out)).toBe(true);
    expect(readFileSync(out, "utf8")).toBe(r.out);
  });

  it("a damaged log: exit 2", async () => {
    const path = damaged("trace-cut.jsonl", (l) => `${l.slice(0, 300).join("\n")}\n`);
    const r = await sdrm3("trace", path, "--out", join(dir, "cut.json"));
    expect(r.code).toBe(2);
    expect(r.err).toContain("line 301: the log ends after line 300 before the run finished");
    expect(existsSync(join(dir, "cut.json"))).toBe(false);
  });
});
