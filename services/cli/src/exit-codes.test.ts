/**
 * Exit codes follow the errors' own classification (contracts/errors): an input error exits 2 with
 * its message, anything else (terminal, retryable, a bug) exits 1 as "run failed". Each error class
 * says its kind; the CLI lists no classes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { InvalidJobIdError, InvalidSubjectTokenError, RunConfigError, errorMessage, failureKind, isInputError, isRetryable } from "@sdrm3/shared/contracts";
import { DataError, UnknownNameError } from "@sdrm3/shared/data";
import { LeaseLostError, NatsConnectError, RunTakenError } from "@sdrm3/shared/nats";
import { PolicyInputError } from "@sdrm3/shared/policies";
import { AccountingError, BusClosedError, BusNoRespondersError, BusTimeoutError, LogFileError, LogFormatError, MAX_LOG_LINE_BYTES, PayloadTooLargeError, RunFailedError } from "@sdrm3/shared/runtime";
import { CliInputError } from "./duration";
import { sdrm3 } from "./testing";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-exit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("error classification", () => {
  const cases: ReadonlyArray<readonly [string, unknown, "input" | "terminal" | "retryable"]> = [
    ["CliInputError", new CliInputError("x"), "input"],
    ["PolicyInputError", new PolicyInputError("x"), "input"],
    ["InvalidSubjectTokenError", new InvalidSubjectTokenError("run id", "a.b"), "input"],
    ["RunConfigError", new RunConfigError("x"), "input"],
    ["DataError", new DataError({ file: "f", path: "p", expected: "e", actual: "a", more: [] }), "input"],
    ["UnknownNameError", new UnknownNameError({ kind: "scenario", name: "n", valid: [] }), "input"],
    ["LogFormatError", new LogFormatError(3, "x"), "input"],
    ["LogFileError", new LogFileError("x"), "input"],
    ["BusTimeoutError", new BusTimeoutError({ subject: "s", timeoutMs: 1 }), "retryable"],
    ["BusNoRespondersError", new BusNoRespondersError({ subject: "s" }), "retryable"],
    ["NatsConnectError refused", new NatsConnectError("refused", "nats://h", "x"), "retryable"],
    ["NatsConnectError authorization", new NatsConnectError("authorization", "nats://h", "x"), "terminal"],
    ["RunTakenError", new RunTakenError("x"), "terminal"],
    ["BusClosedError", new BusClosedError(), "terminal"],
    ["PayloadTooLargeError", new PayloadTooLargeError({ subject: "s", bytes: 2, limit: 1 }), "terminal"],
    ["LeaseLostError", new LeaseLostError("acc0", "x"), "terminal"],
    ["AccountingError", new AccountingError("x"), "terminal"],
    ["RunFailedError", new RunFailedError("x"), "terminal"],
    ["InvalidJobIdError", new InvalidJobIdError("x", "y"), "terminal"],
    ["a plain Error (a bug)", new Error("x"), "terminal"],
    ["a thrown string", "x", "terminal"],
  ];

  it.each(cases)("%s is %s", (_name, error, kind) => {
    expect(failureKind(error)).toBe(kind);
    expect(isInputError(error)).toBe(kind === "input");
    expect(isRetryable(error)).toBe(kind === "retryable");
  });

  it("errors carry their class name and message", () => {
    const e = new RunConfigError("bad");
    expect([e.name, e._tag, e.message, e instanceof Error]).toEqual(["RunConfigError", "RunConfigError", "bad", true]);
    expect(errorMessage(e)).toBe("bad");
    expect(errorMessage(42)).toBe("42");
  });
});

describe("exit codes", () => {
  it("a cascade with more than one parent is a configuration error: exit 2 naming the model (was exit 1)", async () => {
    const file = join(dir, "two-parents.json");
    writeFileSync(
      file,
      JSON.stringify({
        name: "two_parents",
        models: [
          { name: "ES_RITNet", fps: 60 },
          { name: "HT_hand_graph_cnn_half", fps: 30 },
          { name: "GE_FBNet_C", fps: 60, dependency: ["ES_RITNet", "HT_hand_graph_cnn_half"] },
        ],
      }),
    );
    const r = await sdrm3("run", "--scenario-file", file, "--scenario", "two_parents", "--hardware", "Single_4K/WS", "--policy", "edf", "--duration", "100ms");
    expect(r.err).toBe("sdrm3: model GE_FBNet_C: a cascade with more than one parent is not supported\n");
    expect(r.code).toBe(2);
  });

  it("a dynamic scenario under the xrbench policy is a configuration error: exit 2", async () => {
    const file = join(dir, "dynamic.json");
    writeFileSync(file, JSON.stringify({ name: "dyn", models: [{ name: "ES_RITNet", fps: 60, exits: [{ after_layer: 2, probability: 0.5 }] }] }));
    const r = await sdrm3("run", "--scenario-file", file, "--scenario", "dyn", "--hardware", "Single_4K/WS", "--policy", "xrbench", "--duration", "100ms");
    expect(r.err).toMatch(/^sdrm3: scenario dyn is dynamic \(model ES_RITNet\); the xrbench runtime supports static scenarios only\n$/);
    expect(r.code).toBe(2);
  });

  const FIXTURE = fileURLToPath(new URL("../../../test/fixtures/logs/social_interactionA-sdrm3-100ms.jsonl", import.meta.url));

  it("a log line over the stated limit: exit 2 naming the file, the line and the limit", async () => {
    const lines = readFileSync(FIXTURE, "utf8").split("\n");
    const file = join(dir, "long-line.jsonl");
    writeFileSync(file, [lines[0], `{"pad":"${"x".repeat(MAX_LOG_LINE_BYTES)}"}`, ...lines.slice(2)].join("\n"));
    const r = await sdrm3("replay", file);
    expect(r.err).toBe(`sdrm3: ${file}: line 2: the line is longer than the limit of ${MAX_LOG_LINE_BYTES} bytes (the longest line a log may hold; docs/event-log.md, Limits)\n`);
    expect(r.code).toBe(2);
  });

  it("a log of a behaviour version this sdrm3 does not implement: replay exits 2 saying so", async () => {
    const lines = readFileSync(FIXTURE, "utf8").split("\n");
    const file = join(dir, "behaviour-4.jsonl");
    writeFileSync(file, [lines[0]!.replace('"sdrm3Version":"0.1.0"', '"sdrm3Version":"0.1.0","behaviourVersion":4'), ...lines.slice(1)].join("\n"));
    const r = await sdrm3("replay", file);
    expect(r.err).toMatch(/line 1: the log was recorded with scheduling behaviour version 4 \(by sdrm3 0\.1\.0\); this sdrm3 0\.1\.0 implements behaviour 1, 2, 3, so a replay would not reproduce its decisions/);
    expect(r.code).toBe(2);
  });
});

describe("log commands exit by the error's classification, not its class", () => {
  const FIXTURE = fileURLToPath(new URL("../../../test/fixtures/logs/social_interactionA-sdrm3-100ms.jsonl", import.meta.url));
  const missing = join(dir, "nosuch.jsonl");

  it.each([
    ["a missing log (LogFileError)", ["replay", missing], `sdrm3: cannot read ${missing}: no such file\n`],
    ["a missing log, dashboard (LogFileError)", ["dashboard", missing, "--port", "0"], `sdrm3: cannot read ${missing}: no such file\n`],
    ["an unknown --policy (PolicyInputError)", ["replay", FIXTURE, "--policy", "nosuch"], /^sdrm3: unknown policy 'nosuch'; valid: /],
    ["an unknown --param (PolicyInputError)", ["replay", FIXTURE, "--param", "nosuch=1"], /^sdrm3: policy 'sdrm3' has no parameter 'nosuch'; valid: /],
    ["a bad --until-seq (CliInputError)", ["replay", FIXTURE, "--until-seq", "x"], "sdrm3: --until-seq: expected a non-negative integer, got 'x'\n"],
    ["a bad --at (CliInputError)", ["explain", FIXTURE, "--at", "soon"], "sdrm3: --at: expected a time such as 35ms or 1.5s, got 'soon'\n"],
    ...["999.1.1.1", "::g", "local host", "-x", ""].map(
      (bind) => [`a bad --bind '${bind}', dashboard (CliInputError)`, ["dashboard", FIXTURE, "--port", "0", "--bind", bind], `sdrm3: --bind: expected an IP address or a host name to listen on, such as 127.0.0.1, 0.0.0.0 or ::, got '${bind}'\n`] as const,
    ),
  ] as const)("%s: exit 2 with its message", async (_name, argv, err) => {
    const r = await sdrm3(...argv);
    expect(r.code).toBe(2);
    if (typeof err === "string") expect(r.err).toBe(err);
    else expect(r.err).toMatch(err);
  });
});
