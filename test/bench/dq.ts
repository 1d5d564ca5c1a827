import { runDistributed } from "./distributed";
import { startNats } from "./nats-server";
const runs = Number(process.argv[2] ?? 1);
const dur = Number(process.argv[3] ?? 10000);
const nats = await startNats();
try {
  const r = await runDistributed(nats, { runs, durationMs: dur, scenario: "AR_Assistant", hardware: "Quad_8K/WS_OS_WS_OS", dispatch: process.env.DQB1 ? ["--block", "1"] : ["--quantum", "4ms"], scheduler: process.env.XSPEC ? ["--speculate", process.env.XSPEC] : [] });
  console.log(r.runs.map((x) => `${x.speed.toFixed(3)}x ${x.runMs.toFixed(0)}ms dec ${x.decisions}`).join("\n"));
} finally { await nats.stop(); }
