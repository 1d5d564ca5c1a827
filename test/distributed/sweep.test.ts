/**
 * Distributed sweeps (issue 5 item 5): `sdrm3 compare --nats` fans its runs out to `sdrm3 serve
 * worker` processes through a NATS queue group and writes the same CSV/JSON as the in-process
 * compare; a worker killed mid-sweep has its run retried elsewhere.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "@sdrm3/cli";
import { connectNatsBus } from "@sdrm3/shared/nats";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { SWEEP_SUBJECT } from "@sdrm3/worker";
import { cliProcesses } from "../support/cli-process";
import { captureIo, sleep } from "../support/processes";

const cli = cliProcesses();
const dir = mkdtempSync(join(tmpdir(), "sdrm3-sweep-"));
afterAll(async () => {
  await cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

const worker = (servers: string, name: string) => {
  const p = cli.start(["serve", "worker", "--nats", servers, "--name", name]);
  return { child: p.child, ready: p.waitErr(/worker ready/, 60_000), log: () => p.err() };
};

describe("compare over NATS workers", () => {
  it("writes the in-process compare's CSV and JSON, and retries the run of a worker killed mid-sweep", async () => {
    const nats = natsTestOptions();
    const args = ["compare", "--scenarios", "VR_gaming", "--hardware", "Dual_4K/WS_OS", "--policies", "sdrm3,edf", "--seeds", "2", "--duration", "2s"];
    const local = captureIo();
    expect(await main([...args, "--jobs", "1", "--out", join(dir, "local")], local)).toBe(0);

    // the sweep's run requests as the server delivers them (to the queue group, and to this observer)
    const observer = await connectNatsBus({ servers: nats.servers, name: "sweep-test-observer" });
    const requested: number[] = [];
    observer.subscribe(SWEEP_SUBJECT, (m) => {
      const job = JSON.parse(m.data) as { index: number; scenario: string; durationMs?: number };
      if (job.scenario === "VR_gaming") requested.push(job.index);
    });
    await observer.flush();

    // one worker first; it is killed once it has been sent the second job, which must then be retried on w2
    const w1 = worker(nats.servers, "w1");
    await w1.ready;
    const remote = captureIo();
    const sweep = main([...args, "--nats", nats.servers, "--in-flight", "1", "--run-timeout", "20s", "--out", join(dir, "remote")], remote);
    // the second request went out after the first result, and w1 is the only worker of the group: it got it
    for (const t0 = Date.now(); requested.length < 2; await sleep(20)) {
      if (Date.now() - t0 > 120_000) throw new Error(`the sweep did not send its second run; stderr: ${remote.stderr}`);
    }
    expect(remote.stderr).toContain("[1/4]");
    expect(requested).toEqual([0, 1]);
    // the observer leaves before the kill: a request with no worker gets "no responders", as without it
    await observer.close();
    // w2 starts only now, so the second run cannot go to it first; its start-up (seconds on a loaded
    // machine) is covered by the run timeout: the second run is asked again 20 s after it was sent to w1,
    // long after w2 is ready, and a run takes about 2 s even when the machine is busy
    w1.child.kill("SIGKILL");
    const w2 = worker(nats.servers, "w2");
    await w2.ready;
    expect(await sweep, remote.stderr).toBe(0);
    for (const f of ["results.csv", "results.json"]) {
      expect(readFileSync(join(dir, "remote", f), "utf8")).toBe(readFileSync(join(dir, "local", f), "utf8"));
    }
    expect(remote.stderr).toMatch(/retrying VR_gaming Dual_4K\/WS_OS \S+ seed \d \(attempt 2\)/);

    expect(remote.stderr).toContain(`on the NATS workers at ${nats.servers}`);
    w2.child.kill("SIGTERM");
  }, 300_000);
});
