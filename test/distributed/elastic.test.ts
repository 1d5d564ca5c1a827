/**
 * `serve scheduler --elastic` (docs/distributed.md): real processes on a real nats-server. Only two
 * of Quad_8K's four slots get an accelerator process; when the register timeout passes, the
 * scheduler runs on those two instead of failing, and its metrics JSON equals the in-process run
 * on the same two accelerators (restrictToAccelerators). Refused with --record-stream (exit 2).
 */
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { runToJson } from "@sdrm3/cli";
import { resolveRunSpec, restrictToAccelerators, runScenario } from "@sdrm3/shared/runtime";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { cliProcesses } from "../support/cli-process";
import { natsEnv, removeLeaseBuckets } from "../support/faults";

const { start, killAll } = cliProcesses();
const runs: string[] = [];
afterAll(async () => {
  await killAll();
  await removeLeaseBuckets(runs, "elastic-cleanup");
});

describe("serve scheduler --elastic", () => {
  it("runs on the slots that registered when the register timeout passes, as the in-process run on them", async () => {
    const nats = natsTestOptions();
    const env = natsEnv(nats);
    const run = `elastic-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const common = ["--scenario", "AR_gaming", "--hardware", "Quad_8K/WS_OS_WS_OS", "--policy", "sdrm3", "--seed", "4", "--duration", "500ms"];
    const serve = (role: string, extra: string[] = []) => start(["serve", role, "--nats", nats.servers, "--run", run, ...common, ...extra], env);
    const a0 = serve("accelerator", ["--slot", "acc0", "--name", "a0"]);
    await a0.waitErr(/claimed slot acc0/, 60_000);
    const a2 = serve("accelerator", ["--slot", "acc2", "--name", "a2"]);
    await a2.waitErr(/claimed slot acc2/, 60_000);
    const workload = serve("workload");
    const scheduler = serve("scheduler", ["--elastic", "--register-timeout", "3s", "--json"]);
    const [s, w, r0, r2] = await Promise.all([scheduler.exited, workload.exited, a0.exited, a2.exited]);
    expect(s.code, scheduler.err()).toBe(0);
    for (const [p, r] of [[workload, w], [a0, r0], [a2, r2]] as const) expect(r.code, p.err()).toBe(0);
    expect(scheduler.err()).toContain("elastic start: running on 2 of 4 accelerator slots (acc0, acc2); left out: acc1, acc3");
    const result = JSON.parse(scheduler.out()) as { hardware: string; models: Array<{ released: number; onTime: number; late: number; dropped: number }> };
    expect(result.hardware).toBe("Quad_8K/WS_OS_WS_OS[acc0,acc2]");
    for (const m of result.models) expect(m.onTime + m.late + m.dropped).toBe(m.released);
    const local = await runScenario(
      restrictToAccelerators(resolveRunSpec({ scenario: "AR_gaming", hardware: "Quad_8K/WS_OS_WS_OS", policy: "sdrm3", durationMs: 500, seed: 4 }), ["acc0", "acc2"]),
    );
    expect(scheduler.out()).toBe(`${JSON.stringify(runToJson(local))}\n`);
  }, 120_000);

  it("is refused with --record-stream (exit 2)", async () => {
    const nats = natsTestOptions();
    const p = start(["serve", "scheduler", "--nats", nats.servers, "--run", `elastic-bad-${randomUUID().slice(0, 6)}`, "--scenario", "AR_gaming", "--hardware", "Quad_8K/WS_OS_WS_OS", "--elastic", "--record-stream"], natsEnv(nats));
    const r = await p.exited;
    expect(r.code, p.err()).toBe(2);
    expect(p.err()).toContain("--elastic: not with --record-stream or --resume");
  }, 60_000);
});
