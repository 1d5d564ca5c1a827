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
import { natsTestOptions } from "@sdrm3/shared/testkit";
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

    // one worker first; it is killed while it runs the second job, which must then be retried on w2
    const w1 = worker(nats.servers, "w1");
    await w1.ready;
    const remote = captureIo();
    const sweep = main([...args, "--nats", nats.servers, "--in-flight", "1", "--run-timeout", "3s", "--out", join(dir, "remote")], remote);
    for (let i = 0; i < 2400 && !remote.stderr.includes("[1/"); i++) await sleep(25);
    expect(remote.stderr).toContain("[1/4]");
    await sleep(150); // w1 has taken the next job (runs of 2 s simulated take far longer than this)
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
  }, 120_000);
});
