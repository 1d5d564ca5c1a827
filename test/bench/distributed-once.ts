/**
 * One or more runs of figure 3c's topology (test/bench/distributed.ts: scheduler, workload and 4
 * accelerator processes over NATS, AR_Assistant on Quad_8K/WS_OS_WS_OS, virtual time), printed one
 * line each: for interleaved A/B measurements, where figures taken minutes apart on this machine
 * cannot be compared (docs/performance.md §3).
 *
 *   node --import tsx test/bench/distributed-once.ts [runs] [simulated ms] [scheduler flags…]
 *   node --import tsx test/bench/distributed-once.ts 1 10000 --speculate 0
 *
 * Dispatch flags: `--quantum 4ms` (the live defaults' quantum), or `--block 1` with BLOCK1=1.
 */
import { runDistributed } from "./distributed";
import { startNats } from "./nats-server";

const [runs = "1", durationMs = "10000", ...scheduler] = process.argv.slice(2);
const nats = await startNats();
try {
  const r = await runDistributed(nats, {
    runs: Number(runs),
    durationMs: Number(durationMs),
    scenario: "AR_Assistant",
    hardware: "Quad_8K/WS_OS_WS_OS",
    dispatch: process.env.BLOCK1 === "1" ? ["--block", "1"] : ["--quantum", "4ms"],
    scheduler,
  });
  for (const x of r.runs) console.log(`${x.speed.toFixed(3)}x real time (${x.runMs.toFixed(0)} ms for ${durationMs} ms simulated, ${x.decisions} decisions)`);
} finally {
  await nats.stop();
}
