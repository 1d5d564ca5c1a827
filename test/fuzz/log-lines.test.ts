/**
 * Fuzz: event-log lines fed to `replay` and `explain` through files. Each case damages the
 * recorded fixture log (test/fixtures/logs, 516 lines): a line's JSON value mutated (a field set
 * to an edge value, removed or added), a line replaced by other text, removed, repeated or cut
 * short, a blank line added. Every case must end with exit 0, exit 2 (one message naming the
 * line), or exit 1 when replay reports a divergence (its designed outcome for a log whose
 * decisions differ from a fresh replay; the report names the seq and line). Never an internal
 * error.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { KNOWN_FIELDS, Tally, edgeValue, expectCleanEnd, mutatedJson, params, removeScratch, scratch, sdrm3 } from "./support";
import type { Ran } from "./support";

afterAll(removeScratch);

const LOG = fileURLToPath(new URL("../fixtures/logs/social_interactionA-sdrm3-100ms.jsonl", import.meta.url));
const lines = readFileSync(LOG, "utf8").split("\n").filter((line) => line !== "");
const files = scratch("log");
const tallies = new Map<string, Tally>();
afterAll(() => {
  for (const [name, t] of tallies) console.info(`[fuzz] ${name}: ${t.total} cases (${t.toString()})`);
});

/** How to damage the log (kept small, so that a counterexample prints the change, not the log). */
const damage = fc
  .tuple(
    fc.nat(lines.length - 1),
    fc.oneof(
      fc.nat(lines.length - 1).chain((i) => mutatedJson(JSON.parse(lines[i]!), [...KNOWN_FIELDS, "type", "seq", "at", "event", "payload"]).map((text) => ({ kind: "replace" as const, text }))),
      edgeValue.map((v) => ({ kind: "replace" as const, text: JSON.stringify(v) })),
      fc.constant({ kind: "drop" as const }),
      fc.constant({ kind: "repeat" as const }),
      fc.constant({ kind: "blank" as const }),
      fc.nat().map((cut) => ({ kind: "cut" as const, cut })),
    ),
    fc.boolean(),
  );

/** The damaged log's text. */
type Damage = typeof damage extends fc.Arbitrary<infer T> ? T : never;

const damagedLog = ([at, change, trailingNewline]: Damage): string => {
  const copy = [...lines];
  switch (change.kind) {
    case "replace":
      copy[at] = change.text.replace(/\n/g, " ");
      break;
    case "drop":
      copy.splice(at, 1);
      break;
    case "repeat":
      copy.splice(at, 0, copy[at]!);
      break;
    case "blank":
      copy.splice(at, 0, "");
      break;
    case "cut":
      copy[at] = copy[at]!.slice(0, change.cut % (copy[at]!.length + 1));
      copy.length = at + 1;
      break;
  }
  return copy.join("\n") + (trailingNewline ? "\n" : "");
};

/** exit 0 or 2 as every case; exit 1 only as replay's divergence report on stdout. */
const expectLogOutcome = (ran: Ran): void => {
  if (ran.code === 1) {
    expect(ran.out, `sdrm3 ${ran.argv.join(" ")}\nstderr: ${ran.err}`).toMatch(/divergence at seq \d+ \(line \d+\)/);
    expect(ran.err).toBe("");
    return;
  }
  expectCleanEnd(ran, [/line \d+/, /seq \d+/, ran.argv[1]!, /no decision found/, /^sdrm3: --[a-z-]+: /]);
};

describe("fuzz: event-log lines", () => {
  it("replay and explain of a damaged log end with 0, a divergence report or exit 2 naming the line", async () => {
    const command = fc.oneof(
      fc.constant(["replay"]),
      fc.constant(["replay", "--allow-truncated"]),
      fc.constantFrom("0", "5", "40ms", "x", "-1").map((at) => ["explain", "--at", at]),
      fc.constantFrom("ES_RITNet:1", "GE_FBNet_C:0", "nope:1", "x").map((job) => ["explain", "--job", job]),
    );
    await fc.assert(
      fc.asyncProperty(damage, command, async (recipe, [name, ...flags]) => {
        const path = files.file("jsonl", damagedLog(recipe));
        const ran = await sdrm3([name!, path, ...flags]);
        const t = tallies.get(name!) ?? new Tally();
        tallies.set(name!, t);
        t.add(ran);
        expectLogOutcome(ran);
      }),
      params(30),
    );
  }, 600_000);
});
