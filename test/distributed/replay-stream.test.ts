/**
 * Record → replay from JetStream gives identical decisions for every policy on every shipped
 * scenario (issue 6): each run (in process, 100 ms, block 8) records its event log to the
 * SDRM3_LOG stream of a real nats-server; a fresh scheduler replays it from the stream.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBuiltinDataset } from "@sdrm3/shared/data";
import { type NatsBus, connectNatsBus, purgeRunLog } from "@sdrm3/shared/nats";
import { POLICIES } from "@sdrm3/shared/policies";
import { replayLog, resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { openLogSource, startStreamRecording } from "../../services/cli/src/log-stream";

let bus: NatsBus;
let url: string;
const runs: string[] = [];

beforeAll(async () => {
  const nats = natsTestOptions();
  url = nats.servers;
  bus = await connectNatsBus({ ...nats, name: "replay-stream-test" });
});
afterAll(async () => {
  for (const run of runs) await purgeRunLog(bus.nc, run).catch(() => false);
  await bus.close();
});

describe("record to JetStream → replay from JetStream, every policy × every shipped scenario", () => {
  const scenarios = [...loadBuiltinDataset().scenarios.values()];
  for (const scenario of scenarios) {
    it(`${scenario.name}: every policy`, async () => {
      for (const policy of POLICIES.keys()) {
        if (policy === "xrbench" && scenario.phases !== undefined) continue; // refused by the XRBench runtime
        const run = `rs-${randomUUID().slice(0, 8)}`;
        runs.push(run);
        const opts = { ...resolveRunSpec({ scenario: scenario.name, hardware: "Dual_4K/WS_OS", policy, durationMs: 100, seed: 2, blockSize: 8 }), run };
        const recording = await startStreamRecording(bus, opts);
        const result = await runScenario({ ...opts, observer: recording.recorder });
        await recording.finish();
        const log = await openLogSource(undefined, { nats: url, run });
        const replay = await replayLog(log);
        expect(replay.divergence, `${policy} on ${scenario.name}`).toBeUndefined();
        expect(replay.decisions, `${policy} on ${scenario.name}`).toBe(result.decisions);
      }
    }, 120_000);
  }
});
