/**
 * How many events each XState machine of an in-process run receives, by machine and event type
 * (the unit the machines' per-event cost is paid in; docs/performance.md §1):
 *
 *   D=10000 [Q=4] [SPEC=32] node --import tsx test/bench/count-sends.ts
 *
 * D: simulated ms (default 2000); Q: quantum ms (default B = 1); SPEC: speculation depth (default: the run's).
 */
import * as X from "xstate";
import { resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";

const counts = new Map<string, number>();
const proto = (X as unknown as { Actor: { prototype: { _send: (ev: { type: string }) => void } } }).Actor.prototype;
const send = proto._send;
proto._send = function (this: { logic?: { id?: string } }, ev: { type: string }) {
  const key = `${this.logic?.id ?? "?"}: ${ev?.type}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  return send.call(this, ev);
};
const spec = resolveRunSpec({
  scenario: "AR_Assistant",
  hardware: "Quad_8K/WS_OS_WS_OS",
  policy: "sdrm3",
  durationMs: Number(process.env.D ?? 2000),
  ...(process.env.Q ? { quantumMs: Number(process.env.Q) } : {}),
});
const result = await runScenario({ ...spec, ...(process.env.SPEC ? { speculate: Number(process.env.SPEC) } : {}) });
for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(String(n).padStart(8), key);
console.log(String(result.decisions).padStart(8), "decisions");
