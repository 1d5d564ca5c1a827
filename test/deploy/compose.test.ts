/**
 * The compose system, checked without a Docker engine: the file validates against the Compose
 * Spec (dclint), its services agree on one run, the image builds every workspace, and the same
 * topology — the compose file's own commands, the NATS config with authentication and per-role
 * permissions scoped to the run — runs as real processes against a real nats-server started from
 * deploy/nats.conf: the live scheduler recording to JetStream, the workload, the accelerator
 * service's command once per replica plus a hot spare, the recorder and the dashboard.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { connectNatsBus } from "@sdrm3/shared/nats";
import { resolveRunSpec } from "@sdrm3/shared/runtime";
import { type CliExit, cliProcesses } from "../support/cli-process";
import { type PrivateNatsServer, startNatsServer } from "../support/nats-server";
import { exitedWithin, sleep } from "../support/processes";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
interface Service {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  tmpfs?: string[];
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[] };
}
const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const appServices = Object.entries(compose.services).filter(([name]) => name !== "nats");
const service = (role: string): Service => {
  const s = appServices.filter(([, x]) => x.command![1] === role);
  expect(s, `services with role ${role}`).toHaveLength(1);
  return s[0]![1];
};

const flag = (cmd: string[], name: string) => (cmd.includes(name) ? cmd[cmd.indexOf(name) + 1] : undefined);
const RUN = flag(service("scheduler").command!, "--run")!;
const conf = readFileSync(join(ROOT, "deploy/nats.conf"), "utf8");
const confUsers = [...conf.matchAll(/user: (\w+)/g)].map((m) => m[1]!);
const confPassVars = [...conf.matchAll(/\$(SDRM3_[A-Z_]+_PASS)/g)].map((m) => m[1]!);

describe("docker-compose.yml", () => {
  it("validates against the Compose Spec (dclint, offline)", () => {
    const r = spawnSync(join(ROOT, "node_modules/.bin/dclint"), ["docker-compose.yml"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("0 errors");
  });

  it("runs NATS with the project's config (auth, healthcheck) and every service on the same run", () => {
    const nats = compose.services.nats!;
    expect(nats.command).toEqual(["-c", "/etc/nats/nats.conf"]);
    expect(nats.volumes).toContain("./deploy/nats.conf:/etc/nats/nats.conf:ro");
    expect(nats.healthcheck!.test!.join(" ")).toContain("/healthz?js-enabled-only=true");
    for (const v of confPassVars) expect(Object.keys((nats.environment ?? {}) as object), v).toContain(v);
    const runs = new Set(appServices.map(([, s]) => flag(s.command!, "--run")));
    expect([...runs]).toEqual(["compose"]);
    // the run is stated once, on the scheduler: the other services take its spec from it (--run only)
    const stating = appServices.filter(([, s]) => ["--scenario", "--hardware", "--policy", "--duration", "--block", "--quantum", "--seed", "--param"].some((f) => s.command!.includes(f)));
    expect(stating.map(([name]) => name)).toEqual(["scheduler"]);
    for (const role of ["scheduler", "workload", "accelerator", "recorder", "dashboard"]) service(role);
    for (const [, s] of appServices) {
      expect(s.environment!.NATS_USER).toBe(s.command![1]);
      expect(confUsers).toContain(s.command![1]);
    }
    expect(compose.services.dashboard!.ports).toEqual(["127.0.0.1:8080:8080"]);
  });

  it("the scheduler runs live and records to JetStream; the recorder writes to a volume", () => {
    const cmd = service("scheduler").command!;
    expect(flag(cmd, "--clock")).toBe("live");
    expect(Number(flag(cmd, "--speed"))).toBeGreaterThan(0);
    expect(cmd).toContain("--record-stream");
    const recorder = service("recorder");
    const out = flag(recorder.command!, "--out")!;
    const [volume, mount] = recorder.volumes![0]!.split(":");
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
    expect(out.startsWith(`${mount}/`)).toBe(true);
  });

  it("one accelerator service holding one slot per container, replicas filling the hardware's slots", () => {
    const accelerators = appServices.filter(([, s]) => s.command![1] === "accelerator");
    expect(accelerators.map(([name]) => name)).toEqual(["accelerator"]);
    const s = accelerators[0]![1];
    expect(flag(s.command!, "--slots")).toBe("1");
    expect(s.command).not.toContain("--slot");
    expect(s.ports).toBeUndefined(); // scaled: no fixed host port
    const cmd = service("scheduler").command!; // the run's hardware is the scheduler's
    const hardware = resolveRunSpec({ scenario: flag(cmd, "--scenario")!, hardware: flag(cmd, "--hardware")!, policy: flag(cmd, "--policy")!, durationMs: 100, seed: 1 }).hardware;
    expect(s.deploy!.replicas).toBe(hardware.accelerators.length);
  });

  it("the image copies every workspace's package.json before npm ci", () => {
    const dockerfile = readFileSync(join(ROOT, "deploy/Dockerfile"), "utf8");
    const workspaces = ["shared", ...readdirSync(join(ROOT, "services")).map((d) => `services/${d}`)].filter((d) => existsSync(join(ROOT, d, "package.json")));
    expect(workspaces).toContain("services/recorder");
    const ci = dockerfile.indexOf("RUN npm ci");
    for (const w of workspaces) {
      const copy = dockerfile.indexOf(`COPY ${w}/package.json ${w}/`);
      expect(copy, `${w}/package.json is not copied`).toBeGreaterThan(0);
      expect(copy).toBeLessThan(ci);
    }
    // the built command (services/cli/dist) is made from the sources, after they are copied
    expect(dockerfile).toContain("--ignore-scripts");
    expect(dockerfile.indexOf("RUN npm run build")).toBeGreaterThan(dockerfile.indexOf("COPY services services"));
  });

  it("deploy/nats.conf validates with nats-server and names no run but the compose run", () => {
    const env = Object.fromEntries(confPassVars.map((v) => [v, "x"]));
    const r = spawnSync("nats-server", ["-c", join(ROOT, "deploy/nats.conf"), "-t"], { encoding: "utf8", env: { ...process.env, ...env } });
    expect(r.status, r.stderr).toBe(0);
    const subjects = [...conf.matchAll(/"([^"]+)"/g)].map((m) => m[1]!).filter((s) => s.startsWith("sdrm3.") || /sdrm3_(leases|sched|run)/.test(s) || s.includes("SDRM3_LOG."));
    expect(subjects.length).toBeGreaterThan(20);
    for (const s of subjects) expect(s, s).toMatch(new RegExp(`sdrm3\\.${RUN}\\.|sdrm3_(leases|sched|run)_${RUN}\\b|SDRM3_LOG(\\.\\*)?$|SDRM3_LOG\\.\\*\\.sdrm3\\.${RUN}\\.log$`));
    expect(conf).not.toMatch(/"sdrm3\.\*|KV_sdrm3_(leases|sched|run)_\*|"\$KV\.\*|"\$JS\.API\.STREAM\.(INFO|CREATE|DELETE|MSG\.GET)\.\*"/);
  });
});

describe("the compose topology as real processes", () => {
  const cli = cliProcesses();
  const dir = mkdtempSync(join(tmpdir(), "sdrm3-compose-"));
  let server: PrivateNatsServer | undefined;
  afterAll(async () => {
    await cli.killAll();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs to the end live with per-role users scoped to the run; every frame accounted once; the recorder's file replays", async () => {
    const passwords: Record<string, string> = { scheduler: "s-pass", accelerator: "a-pass", workload: "w-pass", dashboard: "d-pass", recorder: "r-pass" };
    expect(Object.keys(passwords).sort()).toEqual([...confUsers].sort());
    // the deploy config as it is, on a port the server picks (test/support/nats-server.ts), plus an unrestricted operator user for the checks below
    const testConf = conf
      .replace("port: 4222", "port: -1\nhost: 127.0.0.1")
      .replace("http: 8222", "")
      .replace("store_dir: /data", `store_dir: ${JSON.stringify(join(dir, "js"))}`)
      .replace("users = [\n", "users = [\n    { user: ops, password: ops-pass }\n");
    writeFileSync(join(dir, "nats.conf"), testConf);
    server = await startNatsServer({
      config: join(dir, "nats.conf"),
      dir: join(dir, "server"),
      env: { ...process.env, ...Object.fromEntries(Object.entries(passwords).map(([role, p]) => [`SDRM3_${role.toUpperCase()}_PASS`, p])) },
    });
    const url = server.url;
    const launch = (command: string[], extra: string[] = []) => {
      const cmd = command.map((a) => (a === "nats://nats:4222" ? url : a));
      if (cmd.includes("--duration")) cmd[cmd.indexOf("--duration") + 1] = "400ms"; // keep the test short; same topology
      const role = cmd[1]!;
      return cli.start([...cmd, ...extra], { ...process.env, NATS_USER: role, NATS_PASS: passwords[role] });
    };
    // the dashboard stays up (it does not end with the run): started first, on a free port, read through its JSON endpoint
    const dashboard = launch(service("dashboard").command!.map((a, i, all) => (all[i - 1] === "--port" ? "0" : a)));
    await dashboard.waitErr(/on http:\/\/\S+/, 60_000);
    const dashboardUrl = /on (http:\/\/\S+)/.exec(dashboard.err())![1]!;
    // the recorder first: the log stream does not exist yet on this fresh server, it waits for it
    const out = join(dir, "compose.jsonl");
    const recorder = launch(service("recorder").command!.map((a) => (a.startsWith("/records/") ? out : a)));
    await sleep(1000);
    // the accelerator service's command once per replica, plus one: a hot spare
    const replicas = compose.services.accelerator!.deploy!.replicas!;
    const accelerators = Array.from({ length: replicas + 1 }, (_, i) => launch(service("accelerator").command!, ["--name", `accelerator-${i + 1}`]));
    const workload = launch(service("workload").command!);
    const scheduler = launch(service("scheduler").command!, ["--json"]); // --json: the test reads the result
    const procs = [scheduler, workload, recorder, ...accelerators];
    const codes = await exitedWithin(procs, 120_000);
    const [s, w, r, ...as] = procs.map((p, i) => ({ code: codes[i]!.code, out: p.out(), err: p.err() })) as [CliExit, CliExit, CliExit, ...CliExit[]];
    expect(s.code, s.err).toBe(0);
    for (const p of [w, r, ...as]) expect(p.code, p.err).toBe(0);

    // the run: live, the compose file's speed, every frame accounted once
    const result = JSON.parse(s.out) as {
      scenario: string;
      live?: { speed: number };
      models: Array<{ name: string; released: number; onTime: number; late: number; dropped: number; unfinished: number }>;
    };
    expect(result.scenario).toBe(flag(service("scheduler").command!, "--scenario"));
    expect(result.live?.speed).toBe(Number(flag(service("scheduler").command!, "--speed")));
    for (const m of result.models) {
      expect(m.released, m.name).toBeGreaterThan(0);
      expect(m.onTime + m.late + m.dropped, m.name).toBe(m.released);
    }
    expect(s.err).toMatch(/recorded \d+ entries .* to JetStream stream SDRM3_LOG, subject sdrm3\.compose\.log/);
    // four processes held one slot each; the fifth waited as a spare
    const claimed = as.map((a) => [...a.err.matchAll(/claimed slot (acc\d+)/g)].map((m) => m[1]!));
    expect(claimed.flat().sort(), as.map((a) => a.err).join("\n")).toEqual(["acc0", "acc1", "acc2", "acc3"]);
    expect(claimed.filter((c) => c.length === 1)).toHaveLength(replicas);
    expect(claimed.filter((c) => c.length === 0)).toHaveLength(1);

    // the recorder's file: the bytes `sdrm3 log export` gives, and it replays with identical decisions
    expect(r.err).toMatch(new RegExp(`recorded run ${RUN}: \\d+ lines \\(header \\+ \\d+ entries, \\d+ bytes\\) to ${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    const exported = join(dir, "export.jsonl");
    const ops = { NATS_USER: "ops", NATS_PASS: "ops-pass" };
    const x = await cli.run(["log", "export", "--nats", url, "--run", RUN, "--out", exported], { ...process.env, ...ops }, 60_000);
    expect(x.code, x.err).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(exported, "utf8"));
    const replay = await cli.run(["replay", out], process.env, 60_000);
    expect(replay.code, replay.err).toBe(0);
    expect(replay.out).toMatch(/decisions identical/);

    // the scheduler removed the run's lease bucket (its user may delete only that one)
    const bus = await connectNatsBus({ servers: url, user: "ops", pass: "ops-pass", name: "compose-test-ops" });
    try {
      const { jetstreamManager } = await import("@nats-io/jetstream");
      const jsm = await jetstreamManager(bus.nc);
      expect(await jsm.streams.info(`KV_sdrm3_leases_${RUN}`).then(() => "exists", () => "gone")).toBe("gone");
      // and its spec and run lease
      for (const bucket of ["run", "sched"]) expect(await jsm.streams.info(`KV_sdrm3_${bucket}_${RUN}`).then(() => "exists", () => "gone"), bucket).toBe("gone");
    } finally {
      await bus.close();
    }

    // the dashboard user (read only) saw the whole run: events, registrations, lease owners
    const state = (await (await fetch(`${dashboardUrl}api/state`)).json()) as {
      snapshot: { phase: string; events: number; malformed: number; control: number; accelerators: Array<{ id: string; blocks: number }> };
    };
    expect(state.snapshot.phase).toBe("finished");
    expect(state.snapshot.malformed).toBe(0);
    expect(state.snapshot.control).toBeGreaterThan(0);
    for (const a of state.snapshot.accelerators) expect(a.blocks, a.id).toBeGreaterThan(0);
    expect(dashboard.err()).not.toContain("cannot read the slot leases");
    dashboard.child.kill("SIGTERM");
    expect((await exitedWithin([dashboard], 10_000))[0]!.code).toBe(0);
  }, 180_000);
});
