/**
 * Determinism across transports (DESIGN.md §4, contract 1): the same scenario, hardware, policy,
 * seed and duration give identical metrics JSON and an identical decision sequence whether run in
 * one process on the in-memory bus or as separate processes over a real nats-server — here a
 * scheduler, a workload and three accelerator processes (slots acc0+acc1, acc2, acc3), started in
 * an order where an accelerator comes up after the scheduler — and a recorder process that
 * follows the scheduler's JetStream log (`--record-stream`) into a file, which equals
 * `sdrm3 log export` byte for byte and replays with identical decisions.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "@sdrm3/cli";
import { Subjects } from "@sdrm3/shared/contracts";
import { connectNatsBus, purgeRunLog } from "@sdrm3/shared/nats";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { cliProcesses } from "../support/cli-process";
import { captureIo, decisionLines } from "../support/processes";


const cli = cliProcesses();
const dir = mkdtempSync(join(tmpdir(), "sdrm3-dist-"));
afterAll(async () => {
  await cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

const start = cli.run;

const capture = captureIo;

const decisions = decisionLines;

describe("a run as separate processes over NATS", () => {
  it("gives the same metrics JSON and decisions as the in-process run", async () => {
    const nats = natsTestOptions();
    const run = `dist-${randomUUID().slice(0, 8)}`;
    const common = ["--scenario", "VR_gaming", "--hardware", "Quad_8K/WS_OS_WS_OS", "--policy", "sdrm3", "--duration", "400ms", "--seed", "5"];
    const serve = (role: string, extra: string[] = []) => start(["serve", role, "--nats", nats.servers, "--run", run, ...common, ...extra]);
    const distEvents = join(dir, "dist.jsonl");
    const recorded = join(dir, "recorded.jsonl");

    // the run's control and registration messages, in the order the server delivered them
    const observer = await connectNatsBus({ servers: nats.servers, name: "processes-test-observer" });
    const seen: string[] = [];
    for (const topic of ["control", "register"]) {
      observer.subscribe(Subjects.control(run, topic), (m) => {
        const msg = JSON.parse(m.data) as { op?: string; _tag?: string; acc?: string };
        seen.push(msg.op ?? (msg._tag === "accel.register" ? `register ${msg.acc}` : String(msg._tag)));
      });
    }
    await observer.flush();

    // the recorder first: it waits for the run's log to appear
    const recorder = start(["serve", "recorder", "--nats", nats.servers, "--run", run, "--out", recorded, "--wait-timeout", "60s"]);
    const acc01 = serve("accelerator", ["--slot", "acc0,acc1", "--name", "acc-proc-1"]);
    const acc2 = serve("accelerator", ["--slot", "acc2", "--name", "acc-proc-2"]);
    const workload = serve("workload");
    const scheduler = serve("scheduler", ["--json", "--events", distEvents, "--record-stream"]);
    // the last accelerator comes up after the scheduler: once the scheduler has asked who is there (discover)
    for (const t0 = Date.now(); !seen.includes("discover"); await new Promise((r) => setTimeout(r, 20))) {
      if (Date.now() - t0 > 120_000) throw new Error(`the scheduler did not send discover; seen on the bus: ${seen.join(", ")}`);
    }
    const acc3 = serve("accelerator", ["--slot", "acc3", "--name", "acc-proc-3"]);
    const [s, a1, a2, a3, w, rec] = await Promise.all([scheduler, acc01, acc2, acc3, workload, recorder]);
    await observer.close();
    expect(s.code, s.err).toBe(0);
    for (const p of [a1, a2, a3, w, rec]) expect(p.code, p.err).toBe(0);
    // acc3 registered only after the scheduler was up and waiting for it (and the run still went ahead)
    expect(seen.indexOf("register acc3")).toBeGreaterThan(seen.indexOf("discover"));
    expect(seen.filter((x) => x === "register acc3")).toHaveLength(1);

    const local = capture();
    const localEvents: string[] = [];
    expect(await main(["run", ...common, "--json"], local)).toBe(0);
    expect(JSON.parse(s.out)).toEqual(JSON.parse(local.stdout));
    expect(s.out).toBe(local.stdout);

    // the decision sequence: recorded by the distributed scheduler vs an in-process run's events
    const { runScenario, resolveRunSpec } = await import("@sdrm3/shared/runtime");
    await runScenario({
      ...resolveRunSpec({ scenario: "VR_gaming", hardware: "Quad_8K/WS_OS_WS_OS", policy: "sdrm3", durationMs: 400, seed: 5 }),
      onEvent: (e) => localEvents.push(JSON.stringify(e)),
    });
    const dist = decisions(readFileSync(distEvents, "utf8"));
    expect(dist.length).toBeGreaterThan(500);
    expect(dist).toEqual(decisions(localEvents.join("\n")));

    // the recorder's file: byte-identical to the export of the run's log, and it replays with identical decisions
    expect(rec.err).toMatch(new RegExp(`recorded run ${run}: \\d+ lines \\(header \\+ \\d+ entries, \\d+ bytes\\)`));
    const exported = join(dir, "exported.jsonl");
    const x = await start(["log", "export", "--nats", nats.servers, "--run", run, "--out", exported]);
    expect(x.code, x.err).toBe(0);
    expect(readFileSync(recorded, "utf8")).toBe(readFileSync(exported, "utf8"));
    const replay = capture();
    expect(await main(["replay", recorded], replay)).toBe(0);
    expect(replay.stdout).toMatch(new RegExp(`${dist.length} decisions identical`));
    const bus = await connectNatsBus({ servers: nats.servers, name: "processes-test-cleanup" });
    await purgeRunLog(bus.nc, run).finally(() => bus.close());
  }, 180_000);
});
