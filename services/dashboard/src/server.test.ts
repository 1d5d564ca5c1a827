/**
 * The dashboard's server and its replay source without a browser (issue 17, item 7): every
 * response carries a Content-Security-Policy; /api/state names the replayed file, not where it is;
 * a truncated or gapped log is shown as damaged (not "replaying" forever, not "finished"); an SSE
 * client that stops reading is dropped once its unsent bytes pass the bound, while a reading one
 * stays.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { RunEvent } from "@sdrm3/shared/contracts";
import { openLogFile } from "@sdrm3/shared/runtime";
import { replayDashboard } from "./main";
import { DashboardModel, type Snapshot } from "./model";
import { runInfoOfHeader } from "./run-info";
import { CONTENT_SECURITY_POLICY, type DashboardServer, startServer } from "./server";

const FIXTURE = fileURLToPath(new URL("../../../test/fixtures/logs/social_interactionA-sdrm3-100ms.jsonl", import.meta.url));
const lines = readFileSync(FIXTURE, "utf8").split("\n").slice(0, -1);
const dir = mkdtempSync(join(tmpdir(), "sdrm3-dashboard-server-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tick = () => new Promise((r) => setTimeout(r, 20));

/** Replays `path` on a dashboard until its snapshot satisfies `done` (polled, at most `polls` times); returns it and the state's JSON. */
const replayUntil = async (path: string, done: (s: Snapshot) => boolean, polls = 1500): Promise<{ snapshot: Snapshot; state: string; headers: Headers }> => {
  const stop = new AbortController();
  let server: DashboardServer | undefined;
  const running = replayDashboard({ path, speed: 1000, port: 0, signal: stop.signal, onListening: (s) => (server = s) });
  try {
    for (let i = 0; i < polls; i++) {
      await tick();
      if (server === undefined) continue;
      const res = await fetch(`${server.url}api/state`);
      const state = await res.text();
      const snapshot = (JSON.parse(state) as { snapshot: Snapshot }).snapshot;
      if (done(snapshot)) return { snapshot, state, headers: res.headers };
    }
    throw new Error(`the replay of ${path} never reached the expected state`);
  } finally {
    stop.abort();
    await running;
  }
};

const copy = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("replayed logs", () => {
  it("a whole log: finished; /api/state names the file, not its directory", async () => {
    const path = copy("whole.jsonl", `${lines.join("\n")}\n`);
    const { snapshot, state } = await replayUntil(path, (s) => s.phase === "finished");
    expect(snapshot.message).toMatch(/finished at/);
    expect(state).not.toContain(dir);
    expect((JSON.parse(state) as { info: { source: string } }).info.source).toBe("whole.jsonl");
  });

  it("a truncated log (no run.finished): damaged, naming where it ends", async () => {
    const path = copy("truncated.jsonl", `${lines.slice(0, 300).join("\n")}\n`);
    const { snapshot } = await replayUntil(path, (s) => s.phase !== "waiting" && s.phase !== "running");
    expect(snapshot.phase).toBe("damaged");
    expect(snapshot.message).toContain("it ends after line 300 before the run finished (no run.finished entry): it is truncated");
  });

  it("a log with a missing line: damaged, naming the line, even though it ends with run.finished", async () => {
    const gapped = [...lines.slice(0, 100), ...lines.slice(101)];
    const path = copy("gapped.jsonl", `${gapped.join("\n")}\n`);
    const { snapshot } = await replayUntil(path, (s) => s.events > 0 && s.phase !== "running");
    expect(snapshot.phase).toBe("damaged");
    expect(snapshot.message).toContain("line 101: expected seq 100, got 101 (a line is missing, repeated or out of order)");
  });

  it("a log whose last line is cut: damaged", async () => {
    const path = copy("cut.jsonl", `${lines.join("\n")}`);
    const { snapshot } = await replayUntil(path, (s) => s.events > 0 && s.phase !== "running");
    expect(snapshot.phase).toBe("damaged");
    expect(snapshot.message).toContain(`line ${lines.length} is cut`);
  });
});

describe("the HTTP server", () => {
  const model = async () => {
    const log = await openLogFile(FIXTURE);
    const events: RunEvent[] = [];
    for await (const e of log.entries) if (e.type !== "input") events.push(e.payload);
    return { model: new DashboardModel(runInfoOfHeader(log.header, "fixture.jsonl", 1), 0), events };
  };

  it("every response carries the Content-Security-Policy and nosniff", async () => {
    const { model: m } = await model();
    const server = await startServer({ model: m, port: 0, host: "127.0.0.1" });
    try {
      for (const path of ["", "app.js", "api/state", "healthz", "nosuch"]) {
        const res = await fetch(`${server.url}${path}`);
        await res.text();
        expect(res.headers.get("content-security-policy"), path).toBe(CONTENT_SECURITY_POLICY);
        expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      }
      const sse = await new Promise<Record<string, unknown>>((resolve) => {
        const req = get(`${server.url}events`, (res) => {
          resolve(res.headers);
          req.destroy();
        });
      });
      expect(sse["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
      expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    } finally {
      await server.close();
    }
  });

  it("an SSE client that stops reading is dropped after the bound; a reading one stays", async () => {
    const { model: m, events } = await model();
    const server = await startServer({ model: m, port: 0, host: "127.0.0.1", pushMs: 10, sseBufferBytes: 64 * 1024 });
    const url = new URL(server.url);
    let read = 0;
    const reader = get(`${server.url}events`, (res) => res.on("data", (d: Buffer) => (read += d.length)));
    // a client that sends its request and never reads a byte of the answer
    const stalled = connect(Number(url.port), url.hostname);
    stalled.on("error", () => {});
    stalled.write(`GET /events HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    stalled.pause();
    try {
      for (let i = 0; i < 200 && server.sse().dropped === 0; i++) {
        for (let k = 0; k < 20; k++) for (const e of events) m.event(e);
        await tick();
      }
      expect(server.sse().dropped).toBe(1);
      expect(server.sse().clients).toBe(1);
      const before = read;
      for (let i = 0; i < 200 && read === before; i++) {
        for (const e of events) m.event(e);
        await tick();
      }
      expect(read).toBeGreaterThan(before);
    } finally {
      reader.destroy();
      stalled.destroy();
      await server.close();
    }
  });
});
