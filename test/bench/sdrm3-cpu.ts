/**
 * CPU time per sdrm3 decide() on the synthetic views of bench 2 (J ready jobs × A idle accelerators,
 * env J, A; N calls per batch, 7 batches; min and median µs): steadier than wall-clock percentiles
 * on a shared machine. Arguments: parameter sets as JSON, e.g. {} {"contend":0}.
 *   J=16 A=8 node --import tsx test/bench/sdrm3-cpu.ts {}
 * DETACH=1: first detach an ArrayBuffer, as the bench figures' processes do when tsx loads a
 * CommonJS module (its WebAssembly lexer's memory grows) — V8 then checks every optimized
 * typed-array access for a detached buffer (docs/performance.md §2, behaviour 3).
 */
import { resolvePolicy } from "@sdrm3/shared/policies";
import { syntheticViews } from "./views";
if (process.env.DETACH === "1") {
  const b = new ArrayBuffer(8);
  structuredClone(b, { transfer: [b] });
}
const set = syntheticViews(Number(process.env.J ?? 16), Number(process.env.A ?? 8), 32);
const configs = process.argv.slice(2).length ? process.argv.slice(2) : ["{}"];
let sink = 0;
const res: string[] = [];
for (const c of configs) {
  const policy = resolvePolicy("sdrm3", JSON.parse(c));
  for (let i = 0; i < 30000; i++) sink += policy.decide(set.views[i % 32]!).dispatches.length;
  const r: number[] = [];
  for (let round = 0; round < 7; round++) {
    const u0 = process.cpuUsage();
    for (let i = 0; i < Number(process.env.N ?? 50000); i++) sink += policy.decide(set.views[i % 32]!).dispatches.length;
    const u = process.cpuUsage(u0);
    r.push((u.user + u.system) / Number(process.env.N ?? 50000));
  }
  r.sort((a, b) => a - b);
  res.push(`${c}: min ${r[0]!.toFixed(2)} med ${r[3]!.toFixed(2)}`);
}
console.log(process.cwd().split("/").pop(), process.env.DETACH === "1" ? "detached" : "", res.join(" | "), sink > 0 ? "" : "!");
