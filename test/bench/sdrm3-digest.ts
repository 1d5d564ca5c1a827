/**
 * Decision identity check for sdrm3 changes meant to keep every decision: a digest of every event
 * of direct-engine runs (9 scenarios × 2 hardware, several parameter sets, supernets, blocks,
 * quanta, queues) and of decide() on synthetic views. Run before and after a change and diff:
 *   node --import tsx test/bench/sdrm3-digest.ts [--quick] > digest.txt
 */
import { createHash } from "node:crypto";
import { resolveRunSpec, simulateDirect } from "@sdrm3/shared/runtime";
import { resolvePolicy } from "@sdrm3/shared/policies";
import { syntheticViews } from "./views";
const quick = process.argv.includes("--quick");
const scen = ["AR_gaming", "AR_Assistant", "VR_gaming", "social_interactionA", "outdoor_activity_A", "social_interactionB", "outdoor_activity_B", "AR_gaming_ramp", "social_dynamic"];
const hw = ["Dual_4K/WS_OS", "Quad_8K/WS_OS_WS_OS"];
const pols: Array<[string, Record<string, number>, Record<string, unknown>]> = [["sdrm3", {}, {}], ["sdrm3", { overload: 1 }, {}], ["sdrm3", { contend: 0, affordable: 0, overload: 0, critical: 0 }, {}], ["sdrm3", { cascade: 2, margin: 0.05 }, {}], ["sdrm3", { cascade: 1, pmin: 0 }, { blockSize: 3 }], ["sdrm3", {}, { supernet: true }], ["sdrm3", { drop: 0 }, { queueDepth: 2 }], ["sdrm3", {}, { quantumMs: 0.5 }]];
const lines: string[] = [];
const total = createHash("sha256");
for (const [pn, params, extra] of pols) for (const scenario of scen) for (const hardware of hw) for (const seed of quick ? [1] : [1, 2]) {
  const policy = pn + JSON.stringify(params) + JSON.stringify(extra);
  if (policy !== "sdrm3{}{}" && seed > 1) continue;
  let opts;
  try { opts = resolveRunSpec({ scenario, hardware, policy: pn, params, ...extra, durationMs: quick ? 1000 : 3000, seed }); } catch (e) { lines.push(`${policy} ${scenario} ${hardware}: ${(e as Error).message}`); continue; }
  const h = createHash("sha256");
  let n = 0;
  const r = simulateDirect({ ...opts, run: "x", onEvent: (e) => { h.update(JSON.stringify(e)); n++; } });
  h.update(JSON.stringify({ models: r.models, summary: r.summary }));
  const d = h.digest("hex").slice(0, 16);
  total.update(d);
  lines.push(`${policy} ${scenario} ${hardware} s${seed}: ${n} events ${d}`);
}
for (const [j, a] of [[16, 8], [64, 16], [5, 2]] as const) {
  const set = syntheticViews(j, a, 32, 3);
  for (const [pn, params] of pols) {
    const spec = pn + JSON.stringify(params);
    const p = resolvePolicy(pn, params);
    const h = createHash("sha256");
    for (const v of set.views) h.update(JSON.stringify(p.decide(v)));
    const d = h.digest("hex").slice(0, 16);
    total.update(d);
    lines.push(`views ${j}x${a} ${spec}: ${d}`);
  }
}
console.log(lines.join("\n"));
console.log("TOTAL", total.digest("hex"));
