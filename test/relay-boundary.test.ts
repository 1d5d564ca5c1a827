/**
 * One relay point, enforced by a test (issue 15, STYLE.md practice 3): bus messages become typed
 * values only in shared/src/runtime/relay.ts. No other product file reads a message's text
 * (`msg.data`), calls the codec's decoder or a Schema decode on what a subscription delivered: hosts,
 * services, the dashboard and the sweep all subscribe and request through the relay.
 *
 * Allowed elsewhere, each for a stated reason: the two bus implementations (they make `data`), the
 * codec (it defines the decoder), and the readers of files and streams of log lines (the event log
 * reader, the JetStream log stream, the run spec in the KV store, data files, the CLI's parameter
 * overrides) — those are file edges with their own error reporting (docs/data.md, docs/event-log.md).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, productDirs, scanLines, sourceFiles } from "./support/source-scan";

/** Files allowed to decode bus messages, and why. */
const ALLOWED = new Map<string, string>([
  ["shared/src/runtime/relay.ts", "the relay"],
  ["shared/src/runtime/codec.ts", "defines the decoder the relay uses"],
  ["shared/src/runtime/memory-bus.ts", "a bus implementation: makes `data`"],
  ["shared/src/nats/nats-bus.ts", "a bus implementation: makes `data`"],
  ["shared/src/nats/event-stream.ts", "JetStream records are event-log lines, read by the log reader"],
]);

const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  [/\b(msg|m|reply|message)\.data\b/, "reads a bus message's text: subscribe through the relay (relaySubscribe / relayCommands)"],
  [/\bdecodeJson\s*\(/, "decodes JSON text itself: the relay decodes bus messages"],
  [/\bdecodeMsg\s*\(/, "decodes a bus message itself: subscribe or request through the relay"],
];

const sources = (dir: string): string[] =>
  sourceFiles(dir, { skipDir: (n) => n === "page" || n === "dist", file: (n) => n.endsWith(".ts") && n !== "testing.ts" && n !== "testkit.ts" });

const violations = (file: string, text: string): string[] =>
  scanLines(file, text, (code) => FORBIDDEN.filter(([p]) => p.test(code)).map(([, why]) => why));

describe("only the relay decodes bus messages", () => {
  const files = productDirs().flatMap(sources).filter((f) => !ALLOWED.has(f) && !f.includes("/testkit"));
  it("covers the product sources", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain("shared/src/runtime/host.ts");
    expect(files).toContain("services/dashboard/src/sources.ts");
  });
  it("no product file outside the relay decodes a bus message", () => {
    expect(files.flatMap((f) => violations(f, readFileSync(join(ROOT, f), "utf8")))).toEqual([]);
  });
  it("would catch a violation (the check itself works)", () => {
    const bad = "bus.subscribe(s, (msg) => { const x = decodeJson(RunControl, msg.data); });";
    expect(violations("x.ts", bad)).toHaveLength(2);
  });
});
