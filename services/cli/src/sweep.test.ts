/**
 * The sweep client (`compare --nats`) decides by the errors' classification (contracts/errors):
 * a retryable failure (no reply in time, no worker listening) is tried again, anything else — a
 * worker's refusal, a malformed reply, a closed bus — fails the run at once; a failed run is a
 * terminal SweepRunError (exit 1, "run failed: <the run>: …"). Against a scripted bus, and once
 * end to end on a nats-server with no worker.
 */
import { describe, expect, it } from "vitest";
import { errorReply, failureKind } from "@sdrm3/shared/contracts";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { BusClosedError, BusNoRespondersError, BusTimeoutError, type Bus, type BusMsg } from "@sdrm3/shared/runtime";
import type { RunJob, RunRecord } from "./compare-worker";
import { SweepRunError, runRemote } from "./sweep";
import { sdrm3 } from "./testing";

const JOB: RunJob = {
  index: 0,
  scenario: "VR_gaming",
  hardware: "Dual_4K/WS_OS",
  policy: "edf",
  label: "edf",
  overrides: {},
  seed: 1,
  durationMs: 100,
  blockSize: 1,
  engine: "direct",
};
const RECORD = { params: {}, scenario: "VR_gaming" } as unknown as RunRecord;

/** A bus whose request answers are scripted, one per call: a reply text or an error to throw. */
const scripted = (answers: ReadonlyArray<string | Error>) => {
  let calls = 0;
  const bus = {
    kind: "memory",
    request: async (subject: string): Promise<BusMsg> => {
      const answer = answers[calls++];
      if (answer === undefined) throw new Error("no more scripted answers");
      if (answer instanceof Error) throw answer;
      return { subject, data: answer, reply: undefined, respond: () => false };
    },
  } as unknown as Bus;
  return { bus, calls: () => calls };
};

const run = async (answers: ReadonlyArray<string | Error>, attempts = 3) => {
  const { bus, calls } = scripted(answers);
  const retries: string[] = [];
  const outcome = await runRemote([JOB], { bus, inFlight: 1, runTimeoutMs: 1000, attempts, onRetry: (_job, attempt, reason) => retries.push(`${attempt}: ${reason}`) }).then(
    (records) => ({ records, error: undefined }),
    (error: unknown) => ({ records: undefined, error }),
  );
  return { ...outcome, calls: calls(), retries };
};

const ok = JSON.stringify({ ok: RECORD });
const timeout = new BusTimeoutError({ subject: "sdrm3.sweep", timeoutMs: 1000 });
const noResponders = new BusNoRespondersError({ subject: "sdrm3.sweep" });

describe("runRemote retries by classification", () => {
  it("retryable failures are tried again, each with its reason", async () => {
    const r = await run([timeout, noResponders, ok]);
    expect(r.error).toBeUndefined();
    expect(r.records).toEqual([RECORD]);
    expect(r.calls).toBe(3);
    expect(r.retries).toEqual(["1: no reply in time (worker lost?)", "2: no worker listening"]);
  });

  it("a retryable failure on every attempt fails the run, terminal, naming the run and the attempts", async () => {
    const r = await run([timeout, timeout, timeout]);
    expect(r.calls).toBe(3);
    expect(r.error).toBeInstanceOf(SweepRunError);
    expect(failureKind(r.error)).toBe("terminal");
    expect((r.error as Error).message).toBe("VR_gaming Dual_4K/WS_OS edf seed 1: request to 'sdrm3.sweep' timed out after 1000 ms (3 attempts)");
  });

  it.each([
    ["a worker's refusal", JSON.stringify(errorReply("rejected", "unknown scenario: nosuch")), "VR_gaming Dual_4K/WS_OS edf seed 1: unknown scenario: nosuch"],
    ["a malformed reply", JSON.stringify({ nonsense: true }), /^VR_gaming Dual_4K\/WS_OS edf seed 1: malformed reply from a worker: /],
    ["a reply without a record", JSON.stringify({ ok: null }), /^VR_gaming Dual_4K\/WS_OS edf seed 1: malformed reply from a worker: /],
    ["a closed bus (terminal)", new BusClosedError(), /^VR_gaming Dual_4K\/WS_OS edf seed 1: /],
  ] as const)("%s is not retried: the run fails at the first attempt", async (_name, answer, message) => {
    const r = await run([answer, ok]);
    expect(r.calls).toBe(1);
    expect(r.retries).toEqual([]);
    expect(failureKind(r.error)).toBe("terminal");
    expect((r.error as Error).message).toMatch(message);
  });
});

describe("compare --nats exit codes", () => {
  it("no worker listening on any attempt: exit 1, run failed naming the run, after the retries", async () => {
    const nats = natsTestOptions();
    const r = await sdrm3("compare", "--scenarios", "VR_gaming", "--hardware", "Dual_4K/WS_OS", "--policies", "edf", "--duration", "50ms", "--nats", nats.servers);
    expect(r.code).toBe(1);
    expect(r.err).toContain("(attempt 2): no worker listening");
    expect(r.err).toMatch(/sdrm3: run failed: VR_gaming Dual_4K\/WS_OS edf seed 1: no responders for '[^']+' \(5 attempts\)\n$/);
  }, 60_000);

  it("bad input is refused before connecting: exit 2", async () => {
    const r = await sdrm3("compare", "--scenarios", "VR_gaming", "--hardware", "Dual_4K/WS_OS", "--policies", "nosuch", "--duration", "50ms", "--nats", "nats://127.0.0.1:1");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^sdrm3: .*nosuch/);
  });

  it("--in-flight and --run-timeout: refused without --nats (they were ignored), checked before connecting with it", async () => {
    const base = ["compare", "--scenarios", "VR_gaming", "--hardware", "Dual_4K/WS_OS", "--policies", "edf", "--duration", "50ms", "--jobs", "1"];
    for (const [flag, value] of [["--in-flight", "4"], ["--run-timeout", "1m"]]) {
      const r = await sdrm3(...base, flag!, value!);
      expect([r.code, r.out, r.err]).toEqual([2, "", `sdrm3: ${flag}: only with --nats (it sets how runs are fanned out to NATS workers)\n`]);
    }
    // nothing listens on port 1: a connection attempt would fail with exit 1, not 2
    const r = await sdrm3(...base, "--nats", "nats://127.0.0.1:1", "--in-flight", "abc");
    expect([r.code, r.err]).toEqual([2, "sdrm3: --in-flight: expected a positive integer, got 'abc'\n"]);
    const t = await sdrm3(...base, "--nats", "nats://127.0.0.1:1", "--run-timeout", "5");
    expect([t.code, t.err]).toEqual([2, "sdrm3: --run-timeout: expected a duration such as 700ms, 10s or 1.5m, got '5'\n"]);
  });
});
