/**
 * The compose system, checked without a Docker engine: the file validates against the Compose
 * Spec (dclint), its services agree on one run, and the same topology — the compose commands, the
 * NATS config with authentication and per-role permissions — runs as real processes against a real
 * nats-server started from deploy/nats.conf.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { freePort, waitForPort } from "../support/processes";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")) as {
  services: Record<string, { command?: string[]; environment?: Record<string, string>; ports?: string[] }>;
};
const appServices = Object.entries(compose.services).filter(([name]) => name !== "nats");

const flag = (cmd: string[], name: string) => cmd[cmd.indexOf(name) + 1];

describe("docker-compose.yml", () => {
  it("validates against the Compose Spec (dclint, offline)", () => {
    const r = spawnSync(join(ROOT, "node_modules/.bin/dclint"), ["docker-compose.yml"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("0 errors");
  });

  it("runs NATS with the project's config and every service on the same run", () => {
    expect(compose.services.nats!.command).toEqual(["-c", "/etc/nats/nats.conf"]);
    const runs = new Set(appServices.map(([, s]) => ["--run", "--scenario", "--hardware", "--policy", "--duration"].map((f) => flag(s.command!, f)).join(" ")));
    expect(runs.size).toBe(1);
    const roles = appServices.map(([, s]) => s.command![1]);
    expect(roles.filter((r) => r === "scheduler")).toHaveLength(1);
    expect(roles.filter((r) => r === "dashboard")).toHaveLength(1);
    expect(compose.services.dashboard!.ports).toEqual(["127.0.0.1:8080:8080"]);
    expect(roles.filter((r) => r === "workload")).toHaveLength(1);
    for (const [, s] of appServices) expect(s.environment!.NATS_USER).toBe(s.command![1]);
    const slots = appServices.filter(([, s]) => s.command![1] === "accelerator").flatMap(([, s]) => flag(s.command!, "--slot")!.split(","));
    expect(slots.sort()).toEqual(["acc0", "acc1", "acc2", "acc3"]);
  });

  it("validates deploy/nats.conf with nats-server", () => {
    const r = spawnSync("nats-server", ["-c", join(ROOT, "deploy/nats.conf"), "-t"], {
      encoding: "utf8",
      env: { ...process.env, SDRM3_SCHEDULER_PASS: "s", SDRM3_ACCELERATOR_PASS: "a", SDRM3_WORKLOAD_PASS: "w", SDRM3_DASHBOARD_PASS: "d" },
    });
    expect(r.status, r.stderr).toBe(0);
  });
});

describe("the compose topology as real processes", () => {
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), "sdrm3-compose-"));
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const exit = (child: ChildProcess) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      let out = "";
      let err = "";
      child.stdout?.on("data", (d) => (out += d));
      child.stderr?.on("data", (d) => (err += d));
      child.on("exit", (code) => resolve({ code, out, err }));
    });

  it("runs to the end with per-role users and permissions, and prints the result", async () => {
    const port = await freePort();
    const conf = readFileSync(join(ROOT, "deploy/nats.conf"), "utf8")
      .replace("port: 4222", `port: ${port}\nhost: 127.0.0.1`)
      .replace("http: 8222", "")
      .replace("store_dir: /data", `store_dir: ${JSON.stringify(join(dir, "js"))}`);
    writeFileSync(join(dir, "nats.conf"), conf);
    const passwords = { scheduler: "s-pass", accelerator: "a-pass", workload: "w-pass", dashboard: "d-pass" } as const;
    const nats = spawn("nats-server", ["-c", join(dir, "nats.conf")], {
      env: {
        ...process.env,
        SDRM3_SCHEDULER_PASS: passwords.scheduler,
        SDRM3_ACCELERATOR_PASS: passwords.accelerator,
        SDRM3_WORKLOAD_PASS: passwords.workload,
        SDRM3_DASHBOARD_PASS: passwords.dashboard,
      },
      stdio: "ignore",
    });
    children.push(nats);
    await waitForPort(port);
    const launch = (command: string[]) => {
      const cmd = command.map((a) => (a === "nats://nats:4222" ? `nats://127.0.0.1:${port}` : a));
      cmd[cmd.indexOf("--duration") + 1] = "300ms"; // keep the test short; same topology
      const role = cmd[1] as keyof typeof passwords;
      const child = spawn(process.execPath, [join(ROOT, "services/cli/bin/sdrm3.mjs"), ...cmd], {
        cwd: ROOT,
        env: { ...process.env, NATS_USER: role, NATS_PASS: passwords[role] },
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      return child;
    };
    // the dashboard stays up (it does not end with the run): started first, on a free port, read through its JSON endpoint
    const dashboardCmd = compose.services.dashboard!.command!.map((a, i, all) => (all[i - 1] === "--port" ? "0" : a));
    const dashboard = launch(dashboardCmd);
    const dashboardExit = exit(dashboard);
    let dashboardErr = "";
    dashboard.stderr!.on("data", (d) => (dashboardErr += d));
    for (let i = 0; !/on http:\/\/\S+/.test(dashboardErr); i++) {
      if (i > 600 || dashboard.exitCode !== null) throw new Error(`the dashboard did not start: ${dashboardErr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const dashboardUrl = /on (http:\/\/\S+)/.exec(dashboardErr)![1]!;
    const runners = appServices.filter(([name]) => name !== "dashboard");
    const results = runners.map(([, s]) => exit(launch(s.command!)));
    const done = await Promise.all(results);
    for (const r of done) expect(r.code, r.err).toBe(0);
    const scheduler = done[runners.findIndex(([, s]) => s.command![1] === "scheduler")]!;
    expect(scheduler.out).toContain("UXCost");
    expect(scheduler.out).toContain("AR_Assistant");
    // the dashboard user (read only) saw the whole run: events, registrations, lease owners
    const state = (await (await fetch(`${dashboardUrl}api/state`)).json()) as {
      snapshot: { phase: string; events: number; malformed: number; control: number; accelerators: Array<{ id: string; blocks: number }> };
    };
    expect(state.snapshot.phase).toBe("finished");
    expect(state.snapshot.malformed).toBe(0);
    expect(state.snapshot.control).toBeGreaterThan(0);
    for (const a of state.snapshot.accelerators) expect(a.blocks, a.id).toBeGreaterThan(0);
    expect(dashboardErr).not.toContain("cannot read the slot leases");
    dashboard.kill("SIGTERM");
    expect((await dashboardExit).code).toBe(0);
  }, 120_000);
});
