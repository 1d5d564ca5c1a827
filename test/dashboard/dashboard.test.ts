/**
 * The dashboard end to end, in a real browser (headless Chromium driven by playwright-core):
 *
 * (a) live: a distributed run as real processes on the test NATS server (scheduler, workload, three
 *     accelerator processes holding Quad_8K's four slots, a hot spare) and `sdrm3 serve dashboard`;
 *     the page shows one lane per slot, the lanes fill with blocks, malformed events are skipped and
 *     counted while the page keeps updating, and after a `kill -9` of an accelerator process its
 *     lane shows the owner gone and the spare taking over (and blocks flowing again). No console
 *     errors. Screenshot: test-results/dashboard-live.png (and docs/img/dashboard.png, the README's,
 *     with SDRM3_UPDATE_SCREENSHOT=1).
 * (b) a dashboard pointed at a run id nobody runs says so on the page.
 * (c) replay: `sdrm3 dashboard run.jsonl` shows the same lanes, and every block of the log.
 *
 * Chromium: Debian's `chromium` (.ci/run installs it). Missing, the tests fail — except locally
 * with SDRM3_SKIP_BROWSER=1 (never in CI), where they are skipped with that reason.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "@sdrm3/cli";
import { Subjects } from "@sdrm3/shared/contracts";
import { connectNatsBus, removeLeaseBucket } from "@sdrm3/shared/nats";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { captureIo, sleep } from "../support/processes";
import { inCi } from "../support/ci";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "services/cli/bin/sdrm3.cjs");
const ARTIFACTS = join(ROOT, "test-results");

/** The run's clock: live, ten times slower than real (docs/live.md). */
const CLOCK: string[] = ["--clock", "live", "--speed", "0.1"];
/** Blocks of 8 layers: every block costs a NATS round trip that the speed does not scale (docs/live.md). */
const SPEC = ["--scenario", "VR_gaming", "--hardware", "Quad_8K/WS_OS_WS_OS", "--policy", "sdrm3", "--seed", "5", "--block", "8", "--duration", "5s"];
const SLOTS = ["acc0", "acc1", "acc2", "acc3"];

const chromiumPath = (): string | undefined => {
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      const p = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (p !== "") return p;
    } catch {
      // not on PATH
    }
  }
  return existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined;
};
const CHROMIUM = chromiumPath();
const skipBrowser = CHROMIUM === undefined && process.env.SDRM3_SKIP_BROWSER === "1" && !inCi();
if (skipBrowser) console.warn("[dashboard] chromium not found and SDRM3_SKIP_BROWSER=1: skipping the browser tests (they never skip in CI)");

const children: ChildProcess[] = [];
const runs: string[] = [];
const dir = mkdtempSync(join(tmpdir(), "sdrm3-dashboard-"));
let browser: Browser | undefined;

interface Proc {
  readonly child: ChildProcess;
  err(): string;
  waitErr(re: RegExp, timeoutMs: number, count?: number): Promise<RegExpMatchArray>;
}

const start = (args: string[], env: NodeJS.ProcessEnv = process.env): Proc => {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let err = "";
  child.stdout!.on("data", () => {});
  child.stderr!.on("data", (d) => (err += d));
  const waitErr = async (re: RegExp, timeoutMs: number, count = 1) => {
    const t0 = Date.now();
    const global = new RegExp(re.source, re.flags.includes("g") ? re.flags : `${re.flags}g`);
    for (;;) {
      const all = [...err.matchAll(global)];
      if (all.length >= count) return all[count - 1]!;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`process exited before ${re}: ${err}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${re} on stderr: ${err}`);
      await sleep(50);
    }
  };
  return { child, err: () => err, waitErr };
};

/** A page with its console errors (and uncaught exceptions) collected. */
const openPage = async (url: string): Promise<{ page: Page; errors: string[] }> => {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  await page.goto(url);
  return { page, errors };
};

const laneBlocks = (page: Page): Promise<Record<string, number>> =>
  page.$$eval(".lane[data-acc]", (lanes) => Object.fromEntries(lanes.map((l) => [(l as HTMLElement).dataset.acc!, Number((l as HTMLElement).dataset.blocks ?? 0)])));

const screenshot = async (page: Page, name: string, readme = false) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  if (readme && process.env.SDRM3_UPDATE_SCREENSHOT === "1") copyFileSync(path, join(ROOT, "docs/img/dashboard.png"));
};

beforeAll(async () => {
  if (skipBrowser) return;
  if (CHROMIUM === undefined) throw new Error("chromium not found: install it (Debian: `apt-get install -y chromium`; .ci/run does), see README.md, Quick start > Prerequisites; or, locally only, set SDRM3_SKIP_BROWSER=1");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  if (runs.length > 0) {
    const bus = await connectNatsBus({ ...natsTestOptions(), name: "dashboard-cleanup" });
    for (const run of runs) await removeLeaseBucket(bus.nc, run).catch(() => false);
    await bus.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skipBrowser)("dashboard in headless Chromium", () => {
  it("follows a live run: lanes fill with blocks, malformed events are counted, a killed accelerator shows gone and its spare taking over", async () => {
    const nats = natsTestOptions();
    const env = { ...process.env, ...(nats.user === undefined ? {} : { NATS_USER: nats.user }), ...(nats.pass === undefined ? {} : { NATS_PASS: nats.pass }) };
    const run = `dash-${randomUUID().slice(0, 8)}`;
    runs.push(run);
    const serve = (role: string, extra: string[] = []) => start(["serve", role, "--nats", nats.servers, "--run", run, ...SPEC, ...extra], env);

    const dashboard = serve("dashboard", ["--port", "0"]);
    const url = (await dashboard.waitErr(/on (http:\/\/\S+)/, 60_000))[1]!;
    const { page, errors } = await openPage(url);
    // the hardware's lanes are there before any traffic, and the page says there is none yet
    await page.waitForFunction((n) => document.querySelectorAll(".lane[data-acc]").length === n, SLOTS.length, { timeout: 30_000 });
    expect(await page.$$eval(".lane[data-acc]", (ls) => ls.map((l) => (l as HTMLElement).dataset.acc))).toEqual(SLOTS);
    expect(await page.textContent("#message")).toMatch(new RegExp(`^(no events for run ${run} yet|run ${run} not found: .*)$`));

    const claimed = /claimed slot (acc\d)/;
    const p1 = serve("accelerator", ["--slots", "2", "--name", "p1"]);
    await p1.waitErr(claimed, 60_000, 2);
    const p2 = serve("accelerator", ["--slots", "1", "--name", "p2"]);
    await p2.waitErr(claimed, 60_000);
    const p3 = serve("accelerator", ["--slots", "1", "--name", "p3"]);
    await p3.waitErr(claimed, 60_000);
    const spare = serve("accelerator", ["--slots", "1", "--name", "spare"]);
    await spare.waitErr(/waiting as a hot spare/, 60_000);
    expect(p2.err()).toContain("claimed slot acc2");
    serve("workload");
    serve("scheduler", CLOCK);

    // every lane fills with blocks within a bounded time
    await page.waitForFunction(
      () => Array.from(document.querySelectorAll<HTMLElement>(".lane[data-acc]")).every((l) => Number(l.dataset.blocks) >= 20),
      undefined,
      { timeout: 90_000, polling: 250 },
    );
    expect(await page.getAttribute('.lane[data-acc="acc2"]', "data-owner")).toBe("p2");
    expect(await page.textContent("#phase")).toBe("running");

    // malformed events are skipped and counted; the page keeps updating
    const bus = await connectNatsBus({ ...nats, name: "dashboard-test-flood" });
    try {
      bus.publish(Subjects.event(run, "sched", "decision"), "{not json");
      bus.publish(Subjects.event(run, "sched", "frame-ended"), JSON.stringify({ _tag: "frame.ended", v: 1, run, at: -1, job: "x", outcome: "maybe" }));
      bus.publish(Subjects.event(run, "sched", "block-dispatched"), JSON.stringify({ _tag: "block.dispatched", v: 99 }));
      await bus.flush();
    } finally {
      await bus.close();
    }
    await page.waitForFunction(() => Number(document.getElementById("malformed")!.dataset.count) === 3, undefined, { timeout: 20_000 });
    const eventsAfterFlood = Number(await page.textContent("#events"));
    await page.waitForFunction((n) => Number(document.getElementById("events")!.textContent) > n, eventsAfterFlood, { timeout: 20_000 });

    // kill -9 the owner of acc2: its lane shows it gone, then the spare taking over, and fills again
    const before = (await laneBlocks(page)).acc2!;
    p2.child.kill("SIGKILL");
    await page.waitForSelector('#ownership div[data-acc="acc2"][data-kind="gone"]', { timeout: 30_000 });
    await page.waitForSelector('#ownership div[data-acc="acc2"][data-kind="takeover"]', { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector<HTMLElement>('.lane[data-acc="acc2"]')!.dataset.owner === "spare", undefined, { timeout: 30_000 });
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('.lane[data-acc="acc2"]')!.dataset.blocks) > n + 20, before, { timeout: 60_000 });
    expect(await page.textContent('#ownership div[data-acc="acc2"][data-kind="takeover"]')).toContain("spare spare took over from p2");
    expect(await page.getAttribute('.lane[data-acc="acc2"]', "data-state")).toBe("up");
    // the other lanes kept their owners
    for (const [acc, owner] of [["acc0", "p1"], ["acc1", "p1"], ["acc3", "p3"]] as const) {
      expect(await page.getAttribute(`.lane[data-acc="${acc}"]`, "data-owner")).toBe(owner);
    }
    // per-model panels and UXCost are filled
    const { resolveRunSpec } = await import("@sdrm3/shared/runtime");
    const models = resolveRunSpec({ scenario: "VR_gaming", hardware: "Quad_8K/WS_OS_WS_OS", policy: "sdrm3" }).scenario.models.map((m) => m.name);
    expect(await page.$$eval(".model[data-model]", (ms) => ms.map((m) => (m as HTMLElement).dataset.model))).toEqual(models);
    await page.waitForFunction(() => /^\d+\.\d{3}$/.test(document.getElementById("ux-now")!.textContent ?? ""), undefined, { timeout: 20_000 });
    await screenshot(page, "dashboard-live.png", true);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);

  it("says so on the page when the run does not exist", async () => {
    const nats = natsTestOptions();
    const env = { ...process.env, ...(nats.user === undefined ? {} : { NATS_USER: nats.user }), ...(nats.pass === undefined ? {} : { NATS_PASS: nats.pass }) };
    const run = `nosuch-${randomUUID().slice(0, 8)}`;
    const dashboard = start(["serve", "dashboard", "--nats", nats.servers, "--run", run, "--port", "0"], env);
    const url = (await dashboard.waitErr(/on (http:\/\/\S+)/, 60_000))[1]!;
    const { page, errors } = await openPage(url);
    await page.waitForFunction(() => /no events for run/.test(document.getElementById("message")!.textContent ?? ""), undefined, { timeout: 20_000 });
    await page.waitForFunction((r) => document.getElementById("message")!.textContent === `run ${r} not found: no events, registrations or slot leases for it yet`, run, { timeout: 30_000 });
    expect(await page.$$eval(".lane[data-acc]", (ls) => ls.length)).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
    dashboard.child.kill("SIGTERM");
  }, 120_000);

  it("replays a recorded log: the same lanes, every block of the log", async () => {
    const log = join(dir, "run.jsonl");
    const io = captureIo();
    expect(await main(["run", ...SPEC.slice(0, -2), "--duration", "300ms", "--record", log], io), io.stderr).toBe(0);
    const dispatched: Record<string, number> = {};
    for (const line of readFileSync(log, "utf8").trim().split("\n").slice(1)) {
      const e = JSON.parse(line) as { type: string; payload: { acc?: string } };
      if (e.type === "block.dispatched") dispatched[e.payload.acc!] = (dispatched[e.payload.acc!] ?? 0) + 1;
    }
    const dashboard = start(["dashboard", log, "--port", "0", "--speed", "0.2"]);
    const url = (await dashboard.waitErr(/on (http:\/\/\S+)/, 60_000))[1]!;
    const { page, errors } = await openPage(url);
    await page.waitForFunction(() => document.querySelectorAll(".lane[data-acc]").length === 4, undefined, { timeout: 30_000 });
    expect(await page.$$eval(".lane[data-acc]", (ls) => ls.map((l) => (l as HTMLElement).dataset.acc))).toEqual(SLOTS);
    await page.waitForFunction(() => document.getElementById("phase")!.textContent === "finished", undefined, { timeout: 60_000 });
    expect(await laneBlocks(page)).toEqual(dispatched);
    expect(await page.textContent("#what")).toContain("replay of");
    expect(Number(await page.getAttribute("#malformed", "data-count"))).toBe(0);
    await screenshot(page, "dashboard-replay.png");
    expect(errors).toEqual([]);
    await page.close();
    dashboard.child.kill("SIGTERM");
  }, 120_000);
});
