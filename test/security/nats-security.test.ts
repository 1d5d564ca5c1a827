/**
 * Security of the bus (issue 5 item 7, issue 7 item 6), with real `sdrm3` processes against real,
 * private nats-servers started by this file:
 *
 * - deploy/nats.conf (per-role users and permissions): the distributed topology with passwords
 *   given in the URL, as flags and in the environment, under `--require-auth`; a wrong password;
 *   an accelerator's credentials cannot publish the scheduler's run control nor read the model
 *   tasks' or the recorded events' subjects; the config is scoped to one run (`compose`, here
 *   replaced by this file's run id as docs/distributed.md says): an accelerator's or the
 *   recorder's credentials cannot read another run's subjects or event log;
 * - token authentication (`nats-server --auth`): a run recorded to JetStream, exported and
 *   replayed from the stream, a distributed compare with a worker, a wrong token;
 * - NKey authentication (a seed file) and TLS with client certificates (`verify: true`);
 * - an unreachable server with credentials in its URL;
 * - `SDRM3_REQUIRE_AUTH=1` without credentials: exit 2 before connecting.
 *
 * In every case, no password, token, seed or key appears on stdout, stderr, in the `--json`
 * output, the event file or the exported event log; URLs are printed with credentials masked.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { nkeys } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Subjects } from "@sdrm3/shared/contracts";
import { type NatsBus, connectNatsBus } from "@sdrm3/shared/nats";
import { sleep } from "../support/processes";
import { type PrivateNatsServer, findNatsServerBinary, portOutsideEphemeralRange, startNatsServer } from "../support/nats-server";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "services/cli/bin/sdrm3.cjs");
const NATS_SERVER = findNatsServerBinary();
const dir = mkdtempSync(join(tmpdir(), "sdrm3-security-"));
const children: ChildProcess[] = [];

const servers: PrivateNatsServer[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Secrets of this file: each one must never be printed. Long and distinct, so a hit is a leak. */
const secret = (label: string) => `${label}-${randomUUID()}`;
const PASS = { scheduler: secret("sched-pw"), accelerator: secret("accel-pw"), workload: secret("work-pw"), recorder: secret("rec-pw") } as const;
/** deploy/nats.conf names one run (`compose`); this file deploys it for its own run id, as docs/distributed.md says. */
const DEPLOY_RUN = `sec-${randomUUID().slice(0, 8)}`;
const forRun = (conf: string, run: string) =>
  conf.replace(/sdrm3\.compose\./g, `sdrm3.${run}.`).replace(/_INBOX\.compose\./g, `_INBOX.${run}.`).replace(/sdrm3_(leases|sched|run)_compose/g, `sdrm3_$1_${run}`);
const WRONG_PASS = secret("wrong-pw");
const TOKEN = secret("token");
const WRONG_TOKEN = secret("wrong-token");
const NKEY_USER = nkeys.createUser();
const NKEY_SEED = new TextDecoder().decode(NKEY_USER.getSeed());
const OTHER_SEED = new TextDecoder().decode(nkeys.createUser().getSeed());
/** Passwords of the config's other users (e.g. the dashboard's), so that every `$SDRM3_<ROLE>_PASS` it names is set. */
const OTHER_PASS: Record<string, string> = {};
const ALL_SECRETS = () => [...Object.values(PASS), ...Object.values(OTHER_PASS), WRONG_PASS, TOKEN, WRONG_TOKEN, NKEY_SEED, OTHER_SEED, ...tlsKeys];
const tlsKeys: string[] = [];

/** Fails when any secret of this file occurs in `text` (names the secret's label and where). */
const expectNoSecret = (where: string, text: string) => {
  for (const s of ALL_SECRETS()) {
    // a key file: its base64 body lines; a password or token: the whole string
    const needles = s.includes("-----BEGIN") ? s.split("\n").filter((l) => l.length > 40 && !l.startsWith("-----")) : [s];
    for (const n of needles) expect(text.includes(n), `${where} contains a secret (${s.slice(0, 12)}…)`).toBe(false);
  }
};

/** The environment of a child: this one's without any NATS credential or require-auth setting. */
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const k of ["NATS_USER", "NATS_PASS", "NATS_TOKEN", "NATS_NKEY", "NATS_CREDS", "NATS_CA", "NATS_CERT", "NATS_KEY", "SDRM3_REQUIRE_AUTH", "NATS_URL"]) delete env[k];
  return { ...env, ...extra };
};

interface Exit {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

const sdrm3 = (args: string[], env: NodeJS.ProcessEnv = cleanEnv()): { child: ChildProcess; exited: Promise<Exit> } => {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<Exit>((resolve) => child.on("exit", (code) => resolve({ code, out, err })));
  return { child, exited };
};
const run = (args: string[], env?: NodeJS.ProcessEnv) => sdrm3(args, env).exited;

/**
 * Starts a private nats-server from a config text (given `port` -1: the server picks its port and
 * reports it, test/support/nats-server.ts; `store` its JetStream directory); resolves with its URL.
 */
const startServer = async (name: string, conf: (port: number, store: string) => string, env: Record<string, string> = {}): Promise<string> => {
  if (NATS_SERVER === undefined) throw new Error("nats-server not found: install it (apt-get install nats-server)");
  const serverDir = join(dir, `${name}-server`);
  mkdirSync(serverDir);
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf(-1, join(serverDir, "js")));
  const check = spawnSync(NATS_SERVER, ["-c", file, "-t"], { encoding: "utf8", env: { ...process.env, ...env } });
  if (check.status !== 0) throw new Error(`${name}: bad nats-server config: ${check.stderr}`);
  const server = await startNatsServer({ config: file, env: { ...process.env, ...env }, dir: serverDir });
  servers.push(server);
  return server.url;
};

const hostPort = (url: string) => url.replace("nats://", "");
const RUN_FLAGS = ["--scenario", "social_interactionA", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "150ms", "--seed", "3", "--block", "8"];

/** A PEM key pair and certificate signed by the test CA (EC P-256, one day), with these x509 extensions. */
const openssl = (args: string[]) => {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
};
const issue = (name: string, cn: string, ext: string) => {
  openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`]);
  tlsKeys.push(readFileSync(join(dir, `${name}.key`), "utf8"));
};

let deployUrl = "";
let tokenUrl = "";
let nkeyUrl = "";
let tlsUrl = "";

beforeAll(async () => {
  const deployConf = readFileSync(join(ROOT, "deploy/nats.conf"), "utf8");
  for (const [, variable] of deployConf.matchAll(/\$(SDRM3_[A-Z_]+_PASS)/g)) OTHER_PASS[variable!] ??= secret(variable!.toLowerCase());
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=sdrm3-test-ca"]);
  issue("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  issue("client", "sdrm3-client", "extendedKeyUsage=clientAuth\n");
  writeFileSync(join(dir, "user.nk"), `${NKEY_SEED}\n`);
  writeFileSync(join(dir, "other.nk"), `${OTHER_SEED}\n`);
  [deployUrl, tokenUrl, nkeyUrl, tlsUrl] = await Promise.all([
    startServer(
      "deploy",
      (port, store) =>
        forRun(deployConf, DEPLOY_RUN)
          .replace("port: 4222", `port: ${port}\nhost: 127.0.0.1`)
          .replace("http: 8222", "")
          .replace("store_dir: /data", `store_dir: ${JSON.stringify(store)}`),
      { ...OTHER_PASS, SDRM3_SCHEDULER_PASS: PASS.scheduler, SDRM3_ACCELERATOR_PASS: PASS.accelerator, SDRM3_WORKLOAD_PASS: PASS.workload, SDRM3_RECORDER_PASS: PASS.recorder },
    ),
    startServer("token", (port, store) => `host: 127.0.0.1\nport: ${port}\njetstream { store_dir: ${JSON.stringify(store)} }\nauthorization { token: $SDRM3_TEST_TOKEN }\n`, {
      SDRM3_TEST_TOKEN: TOKEN,
    }),
    startServer(
      "nkey",
      (port, store) => `host: 127.0.0.1\nport: ${port}\njetstream { store_dir: ${JSON.stringify(store)} }\nauthorization { users = [ { nkey: ${NKEY_USER.getPublicKey()} } ] }\n`,
    ),
    startServer(
      "tls",
      (port, store) =>
        `host: 127.0.0.1\nport: ${port}\njetstream { store_dir: ${JSON.stringify(store)} }\n` +
        `tls { cert_file: ${JSON.stringify(join(dir, "server.pem"))}, key_file: ${JSON.stringify(join(dir, "server.key"))}, ca_file: ${JSON.stringify(join(dir, "ca.pem"))}, verify: true }\n`,
    ),
  ]);
}, 180_000);

describe("deploy/nats.conf: per-role passwords", () => {
  it("runs the topology with passwords in the URL, as flags and in the environment, under --require-auth, and prints none of them", async () => {
    const r = DEPLOY_RUN;
    const events = join(dir, `${r}.jsonl`);
    const serve = (role: string, nats: string, extra: string[], env: NodeJS.ProcessEnv) =>
      run(["serve", role, "--nats", nats, "--run", r, ...RUN_FLAGS, "--require-auth", ...extra], env);
    const [s, w, a] = await Promise.all([
      // the scheduler: user and password in the URL
      serve("scheduler", `nats://scheduler:${encodeURIComponent(PASS.scheduler)}@${hostPort(deployUrl)}`, ["--json", "--events", events], cleanEnv()),
      // the workload: from the environment (as docker-compose.yml does)
      serve("workload", deployUrl, [], cleanEnv({ NATS_USER: "workload", NATS_PASS: PASS.workload })),
      // an accelerator: as flags
      serve("accelerator", deployUrl, ["--nats-user", "accelerator", "--nats-pass", PASS.accelerator], cleanEnv()),
    ]);
    expect(s.code, s.err).toBe(0);
    expect(w.code, w.err).toBe(0);
    expect(a.code, a.err).toBe(0);
    const json = JSON.parse(s.out) as { scenario: string; models: unknown[] };
    expect(json.scenario).toBe("social_interactionA");
    expect(json.models.length).toBeGreaterThan(0);
    const eventFile = readFileSync(events, "utf8");
    expect(eventFile.split("\n").length).toBeGreaterThan(100);
    for (const [where, text] of [
      ["scheduler stdout (--json)", s.out],
      ["scheduler stderr", s.err],
      ["workload output", w.out + w.err],
      ["accelerator output", a.out + a.err],
      ["event file", eventFile],
    ] as const) {
      expectNoSecret(where, text);
    }
  }, 300_000);

  it("a wrong password: authorization failed, exit 1, neither password printed, the URL masked", async () => {
    const inUrl = `nats://accelerator:${WRONG_PASS}@${hostPort(deployUrl)}`;
    const [viaUrl, viaEnv] = await Promise.all([
      run(["serve", "accelerator", "--nats", inUrl, "--run", "r1", ...RUN_FLAGS]),
      run(["serve", "accelerator", "--nats", deployUrl, "--run", "r1", ...RUN_FLAGS], cleanEnv({ NATS_USER: "accelerator", NATS_PASS: WRONG_PASS })),
    ]);
    expect(viaUrl.code, viaUrl.err).toBe(1);
    expect(viaUrl.err).toBe(
      `sdrm3: run failed: NATS authorization failed at nats://127.0.0.1:${deployUrl.split(":")[2]}: user 'accelerator'; check NATS_USER / NATS_PASS (--nats-user / --nats-pass)\n`,
    );
    expect(viaEnv.code, viaEnv.err).toBe(1);
    expect(viaEnv.err).toBe(viaUrl.err);
    // it gave up at the server's first refusal: the one stderr line above is the authorization error
    // (not a connect timeout, and no reconnect attempt was reported), and it exited by itself
    for (const p of [viaUrl, viaEnv]) expectNoSecret("wrong-password output", p.out + p.err);
  }, 180_000);

  it("an accelerator's credentials cannot publish the scheduler's run control nor read the tasks' or events' subjects", async () => {
    const r = DEPLOY_RUN;
    const errors: string[] = [];
    const onError = (e: unknown) => void errors.push(e instanceof Error ? e.message : String(e));
    const as = (user: keyof typeof PASS) =>
      connectNatsBus({ servers: deployUrl, user, pass: PASS[user], name: `perm-${user}`, inboxPrefix: Subjects.inboxPrefix(r, user), onError });
    const [accel, workload, scheduler] = await Promise.all([as("accelerator"), as("workload"), as("scheduler")]);
    const buses: NatsBus[] = [accel, workload, scheduler];
    try {
      const control: string[] = [];
      const tasks: string[] = [];
      const events: string[] = [];
      // the workload may read run control; the accelerator tries to read what is not its own
      workload.subscribe(`sdrm3.${r}.ctl.control`, (m) => void control.push(m.data));
      accel.subscribe(`sdrm3.${r}.task.*.cmd`, (m) => void tasks.push(m.data));
      accel.subscribe(`sdrm3.${r}.evt.>`, (m) => void events.push(m.data));
      await Promise.all(buses.map((b) => b.flush()));
      accel.publish(`sdrm3.${r}.ctl.control`, '{"forged":true}');
      scheduler.publish(`sdrm3.${r}.ctl.control`, '{"genuine":true}');
      scheduler.publish(`sdrm3.${r}.task.m1.cmd`, '{"task":true}');
      scheduler.publish(`sdrm3.${r}.evt.sched.decision`, '{"event":true}');
      await Promise.all(buses.map((b) => b.flush()));
      const t0 = Date.now();
      while (control.length < 1 || errors.length < 3) {
        if (Date.now() - t0 > 10_000) break;
        await sleep(50);
      }
      expect(control).toEqual(['{"genuine":true}']); // the scheduler's went through, the accelerator's did not
      expect(tasks).toEqual([]);
      expect(events).toEqual([]);
      const violations = errors.join("\n");
      expect(violations).toMatch(new RegExp(`Permissions Violation for Publish to "?sdrm3\\.${r}\\.ctl\\.control`));
      expect(violations).toMatch(new RegExp(`Permissions Violation for Subscription to "?sdrm3\\.${r}\\.task\\.\\*\\.cmd`));
      expect(violations).toMatch(new RegExp(`Permissions Violation for Subscription to "?sdrm3\\.${r}\\.evt\\.>`));
    } finally {
      await Promise.all(buses.map((b) => b.close()));
    }
  }, 180_000);
});

describe("deploy/nats.conf: users scoped to one run", () => {
  it("an accelerator's credentials cannot subscribe to another run's subjects, the recorder's cannot read another run's log", async () => {
    const other = `other-${randomUUID().slice(0, 8)}`;
    const errors: string[] = [];
    const onError = (e: unknown) => void errors.push(e instanceof Error ? e.message : String(e));
    const as = (user: keyof typeof PASS) =>
      connectNatsBus({ servers: deployUrl, user, pass: PASS[user], name: `scope-${user}`, inboxPrefix: Subjects.inboxPrefix(DEPLOY_RUN, user), onError });
    const [accel, recorder, scheduler] = await Promise.all([as("accelerator"), as("recorder"), as("scheduler")]);
    try {
      const got: string[] = [];
      // its own run's accelerator commands: allowed; another run's, or all of another run's subjects: refused
      accel.subscribe(`sdrm3.${DEPLOY_RUN}.accel.*.cmd`, (m) => void got.push(`own:${m.data}`));
      accel.subscribe(`sdrm3.${other}.accel.*.cmd`, (m) => void got.push(`other:${m.data}`));
      accel.subscribe(`sdrm3.${other}.>`, (m) => void got.push(`other-all:${m.data}`));
      accel.subscribe(`sdrm3.*.accel.*.cmd`, (m) => void got.push(`any:${m.data}`));
      // the recorder subscribes to nothing but its inboxes
      recorder.subscribe(`sdrm3.${DEPLOY_RUN}.evt.>`, (m) => void got.push(`recorder:${m.data}`));
      await Promise.all([accel.flush(), recorder.flush()]);
      const t0 = Date.now();
      while (errors.length < 4 && Date.now() - t0 < 10_000) await sleep(50);
      const violations = errors.join("\n");
      expect(violations).toMatch(new RegExp(`Permissions Violation for Subscription to "?sdrm3\\.${other}\\.accel\\.\\*\\.cmd`));
      expect(violations).toMatch(new RegExp(`Permissions Violation for Subscription to "?sdrm3\\.${other}\\.>`));
      expect(violations).toMatch(/Permissions Violation for Subscription to "?sdrm3\.\*\.accel\.\*\.cmd/);
      expect(violations).toMatch(new RegExp(`Permissions Violation for Subscription to "?sdrm3\\.${DEPLOY_RUN}\\.evt\\.>`));
      expect(violations).not.toMatch(new RegExp(`Subscription to "?sdrm3\\.${DEPLOY_RUN}\\.accel`));
      expect(got).toEqual([]);
      // the recorder may follow its run's log, not another run's: a consumer filtered on another
      // run's subject is refused by the server (the filter is a token of the create subject)
      const { ensureLogStream, followLogLines, publishLogLine } = await import("@sdrm3/shared/nats");
      await ensureLogStream(scheduler.nc); // the scheduler's user creates the log stream (--record-stream)
      await publishLogLine(scheduler.nc, DEPLOY_RUN, 1, '{"type":"header"}');
      await publishLogLine(scheduler.nc, DEPLOY_RUN, 2, '{"type":"run.finished"}');
      const follow = async (run: string, waitMs: number) => {
        const lines: string[] = [];
        for await (const l of followLogLines(recorder.nc, run, { waitMs, idleMs: waitMs })) lines.push(l.text);
        return lines;
      };
      expect(await follow(DEPLOY_RUN, 10_000)).toEqual(['{"type":"header"}', '{"type":"run.finished"}']);
      const refused = await follow(other, 2_000).then(
        () => "followed",
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      );
      expect(refused).not.toBe("followed");
      expect(errors.join("\n")).toMatch(new RegExp(`Permissions Violation for Publish to "?\\$JS\\.API\\.CONSUMER\\.CREATE\\.SDRM3_LOG\\.\\w+\\.sdrm3\\.${other}\\.log`));
      expect(errors.join("\n")).not.toMatch(new RegExp(`Publish to "?\\$JS\\.API\\.CONSUMER\\.CREATE\\.SDRM3_LOG\\.\\w+\\.sdrm3\\.${DEPLOY_RUN}\\.log`));
    } finally {
      await Promise.all([accel.close(), recorder.close(), scheduler.close()]);
    }
  }, 180_000);
});

describe("deploy/nats.conf: per-role inboxes", () => {
  it("an accelerator cannot read the scheduler's replies, all inboxes, or another run's; it gets the replies to its own requests", async () => {
    const other = `other-${randomUUID().slice(0, 8)}`;
    const errors: string[] = [];
    const onError = (e: unknown) => void errors.push(e instanceof Error ? e.message : String(e));
    const as = (user: keyof typeof PASS, inboxRun = DEPLOY_RUN) =>
      connectNatsBus({ servers: deployUrl, user, pass: PASS[user], name: `inbox-${user}`, inboxPrefix: Subjects.inboxPrefix(inboxRun, user), onError });
    const [accel, scheduler, workload] = await Promise.all([as("accelerator"), as("scheduler"), as("workload")]);
    try {
      const snooped: string[] = [];
      for (const subject of ["_INBOX.>", `_INBOX.${DEPLOY_RUN}.scheduler.>`, `_INBOX.${DEPLOY_RUN}.>`, `_INBOX.${other}.accelerator.>`]) {
        accel.subscribe(subject, (m) => void snooped.push(`${subject}: ${m.data}`));
      }
      // the workload answers a task command; the scheduler asks (its reply comes to _INBOX.<run>.scheduler.…)
      workload.subscribe(`sdrm3.${DEPLOY_RUN}.task.m1.cmd`, (m) => void m.respond(`{"reply":"${m.data}"}`));
      await Promise.all([accel.flush(), workload.flush()]);
      const reply = await scheduler.request(`sdrm3.${DEPLOY_RUN}.task.m1.cmd`, "tick", { timeoutMs: 5_000 });
      expect(reply.data).toBe('{"reply":"tick"}');
      // and the accelerator's own requests are answered on its own inbox (a JetStream API call it may make)
      const own = await accel.request("$JS.API.INFO", "", { timeoutMs: 5_000 });
      expect(own.subject.startsWith(`_INBOX.${DEPLOY_RUN}.accelerator.`)).toBe(true);
      expect(JSON.parse(own.data) as { type?: string }).toMatchObject({ type: "io.nats.jetstream.api.v1.account_info_response" });
      const t0 = Date.now();
      while (errors.length < 4 && Date.now() - t0 < 10_000) await sleep(50);
      const violations = errors.join("\n");
      for (const subject of ["_INBOX.>", `_INBOX.${DEPLOY_RUN}.scheduler.>`, `_INBOX.${DEPLOY_RUN}.>`, `_INBOX.${other}.accelerator.>`]) {
        expect(violations).toContain(`Permissions Violation for Subscription to "${subject}"`);
      }
      expect(snooped).toEqual([]);
      // a client connecting with another run's inbox prefix gets no replies at all (its inbox subscription is refused)
      const stray = await as("accelerator", other);
      try {
        const answered = await stray.request("$JS.API.INFO", "", { timeoutMs: 2_000 }).then(
          () => "answered",
          () => "no reply",
        );
        expect(answered).toBe("no reply");
        const t1 = Date.now();
        while (!errors.join("\n").includes(`_INBOX.${other}.accelerator.`) && Date.now() - t1 < 10_000) await sleep(50);
        expect(errors.join("\n")).toMatch(new RegExp(`Permissions Violation for Subscription to "?_INBOX\\.${other}\\.accelerator\\.`));
      } finally {
        await stray.close();
      }
    } finally {
      await Promise.all([accel.close(), scheduler.close(), workload.close()]);
    }
  }, 180_000);
});

describe("token authentication", () => {
  it("records a run to JetStream, exports and replays it, and prints the token nowhere", async () => {
    const r = `tok-${randomUUID().slice(0, 8)}`;
    const inUrl = `nats://${TOKEN}@${hostPort(tokenUrl)}`;
    const env = cleanEnv({ NATS_TOKEN: TOKEN, SDRM3_REQUIRE_AUTH: "1" });
    const serve = (role: string, extra: string[] = []) => run(["serve", role, "--nats", tokenUrl, "--run", r, ...RUN_FLAGS, ...extra], env);
    const [s, a, w] = await Promise.all([serve("scheduler", ["--json", "--record-stream"]), serve("accelerator"), serve("workload")]);
    expect(s.code, s.err).toBe(0);
    for (const p of [a, w]) expect(p.code, p.err).toBe(0);
    expect(s.err).toMatch(/recorded \d+ entries .* to JetStream stream SDRM3_LOG/);
    const exported = join(dir, `${r}.jsonl`);
    const [x, rep] = await Promise.all([
      run(["log", "export", "--nats", inUrl, "--run", r, "--out", exported, "--require-auth"]),
      run(["replay", "--nats", tokenUrl, "--nats-token", TOKEN, "--run", r]),
    ]);
    expect(x.code, x.err).toBe(0);
    expect(x.err).toMatch(new RegExp(`^exported run ${r}: \\d+ lines`));
    expect(rep.code, rep.err).toBe(0);
    expect(rep.out).toMatch(/decisions identical/);
    const log = readFileSync(exported, "utf8");
    expect(log.split("\n").length).toBeGreaterThan(100);
    for (const [where, text] of [
      ["scheduler output", s.out + s.err],
      ["accelerator output", a.out + a.err],
      ["workload output", w.out + w.err],
      ["log export output", x.out + x.err],
      ["exported event log", log],
      ["replay output", rep.out + rep.err],
    ] as const) {
      expectNoSecret(where, text);
    }
  }, 300_000);

  it("compare --nats with a worker prints the server masked, and a wrong token fails without showing it", async () => {
    const worker = sdrm3(["serve", "worker", "--nats", tokenUrl, "--name", "sec-worker"], cleanEnv({ NATS_TOKEN: TOKEN }));
    try {
      const args = ["compare", "--scenarios", "social_interactionA", "--hardware", "Dual_4K/WS_OS", "--policies", "fcfs", "--duration", "100ms", "--json"];
      const [c, wrong] = await Promise.all([
        run([...args, "--nats", `nats://${TOKEN}@${hostPort(tokenUrl)}`]),
        run([...args, "--nats", tokenUrl, "--nats-token", WRONG_TOKEN]),
      ]);
      expect(c.code, c.err).toBe(0);
      expect(JSON.parse(c.out)).toHaveLength(1);
      expect(c.err).toContain(`compare: 1 runs in`);
      expect(c.err).toContain(`on the NATS workers at nats://***@${hostPort(tokenUrl)}`);
      expect(wrong.code, wrong.err).toBe(1);
      expect(wrong.err).toContain(`NATS authorization failed at ${tokenUrl}: a token (not shown); check NATS_TOKEN (--nats-token)`);
      expectNoSecret("compare output", c.out + c.err);
      expectNoSecret("wrong-token compare output", wrong.out + wrong.err);
    } finally {
      worker.child.kill("SIGTERM");
    }
    const w = await worker.exited;
    expect(w.code, w.err).toBe(0);
    expectNoSecret("worker output", w.out + w.err);
  }, 300_000);
});

describe("NKey and TLS", () => {
  it("NKey seed file: connects (then finds no such run); another user's seed is refused by its public key only", async () => {
    const [ok, wrong] = await Promise.all([
      run(["log", "export", "--nats", nkeyUrl, "--run", "no-such-run", "--nats-nkey", join(dir, "user.nk"), "--require-auth"]),
      run(["log", "export", "--nats", nkeyUrl, "--run", "no-such-run"], cleanEnv({ NATS_NKEY: join(dir, "other.nk") })),
    ]);
    // authenticated: JetStream answered that the run has no log
    expect(ok.code, ok.err).toBe(2);
    expect(ok.err).toContain("run no-such-run: no event log in JetStream");
    expect(wrong.code).toBe(2);
    const otherPublic = nkeys.fromSeed(new TextEncoder().encode(OTHER_SEED)).getPublicKey();
    expect(wrong.err).toContain(`NATS authorization failed at ${nkeyUrl}: NKey ${otherPublic}; check NATS_NKEY (--nats-nkey)`);
    expectNoSecret("nkey output", ok.out + ok.err + wrong.out + wrong.err);
  }, 180_000);

  it("TLS with a client certificate connects; without one the handshake is refused; the key is never printed", async () => {
    const tlsFlags = ["--tls-ca", join(dir, "ca.pem"), "--tls-cert", join(dir, "client.pem"), "--tls-key", join(dir, "client.key")];
    const [ok, noCert, noCa, badKey] = await Promise.all([
      run(["log", "export", "--nats", tlsUrl, "--run", "no-such-run", ...tlsFlags, "--require-auth"]),
      run(["log", "export", "--nats", tlsUrl, "--run", "no-such-run"], cleanEnv({ NATS_CA: join(dir, "ca.pem") })),
      run(["log", "export", "--nats", tlsUrl, "--run", "no-such-run"]),
      run(["log", "export", "--nats", tlsUrl, "--run", "no-such-run", "--tls-cert", join(dir, "client.pem"), "--tls-key", join(dir, "client.pem")]),
    ]);
    expect(ok.code, ok.err).toBe(2);
    expect(ok.err).toContain("run no-such-run: no event log in JetStream");
    expect(noCert.code).toBe(2);
    // the server closes the connection after the handshake: the client sees silence until its connect timeout
    expect(noCert.err).toBe(
      `sdrm3: cannot connect to NATS at ${tlsUrl}: no answer within 5000 ms (connect timeout); if the server verifies clients, give a client certificate (--tls-cert / --tls-key)\n`,
    );
    expect(noCa.code).toBe(2);
    expect(noCa.err).toBe(
      `sdrm3: cannot connect to NATS at ${tlsUrl}: unable to verify the first certificate (TLS: give the CA that signed the server's certificate with --tls-ca / NATS_CA; the certificate must name the host or IP address dialled)\n`,
    );
    expect(badKey.code).toBe(2);
    expect(badKey.err).toBe(`sdrm3: --tls-key: '${join(dir, "client.pem")}' is not a PEM client key (expected a -----BEGIN …----- block)\n`);
    expectNoSecret("tls output", [ok, noCert, noCa, badKey].map((p) => p.out + p.err).join("\n"));
  }, 180_000);
});

describe("no server, no credentials", () => {
  it("an unreachable server: the URL's credentials are masked in the error", async () => {
    const port = await portOutsideEphemeralRange(); // free, and no other process is handed it by the kernel meanwhile
    const [u, t] = await Promise.all([
      run(["serve", "workload", "--nats", `nats://workload:${PASS.workload}@127.0.0.1:${port}`, "--run", "r1", ...RUN_FLAGS]),
      run(["compare", "--scenarios", "social_interactionA", "--hardware", "Dual_4K/WS_OS", "--policies", "fcfs", "--nats", `nats://${TOKEN}@127.0.0.1:${port}`]),
    ]);
    expect(u.code).toBe(1);
    expect(u.err).toBe(`sdrm3: run failed: cannot connect to NATS at nats://127.0.0.1:${port}: connection refused\n`);
    expect(t.code).toBe(1);
    expect(t.err).toContain(`cannot connect to NATS at nats://127.0.0.1:${port}: connection refused`);
    expectNoSecret("unreachable-server output", u.out + u.err + t.out + t.err);
  }, 180_000);

  it("SDRM3_REQUIRE_AUTH=1 without credentials: exit 2 at once, before connecting", async () => {
    const [s, flag] = await Promise.all([
      run(["serve", "scheduler", "--nats", deployUrl, "--run", "r1", ...RUN_FLAGS], cleanEnv({ SDRM3_REQUIRE_AUTH: "1" })),
      run(["log", "export", "--nats", tokenUrl, "--run", "r1", "--require-auth"]),
    ]);
    for (const [p, url] of [[s, deployUrl], [flag, tokenUrl]] as const) {
      expect(p.code).toBe(2);
      expect(p.out).toBe("");
      expect(p.err).toBe(
        `sdrm3: --require-auth: no NATS credentials given for ${url}; give --nats-user/--nats-pass (NATS_USER/NATS_PASS), --nats-token (NATS_TOKEN), --nats-nkey (NATS_NKEY), --nats-creds (NATS_CREDS) or a TLS client certificate (--tls-cert/--tls-key)\n`,
      );
    }
  }, 180_000);
});
