/**
 * The dashboard's HTTP server (node:http): the page, its script (bundled with esbuild's JS API when
 * the server starts: no build step, no checked-in artifact), the state as JSON, and the live
 * updates as Server-Sent Events.
 *
 *   GET /            the page
 *   GET /app.js      the page's script (services/dashboard/src/page/main.ts, bundled)
 *   GET /events      text/event-stream: `init` (run info and everything kept so far), then `update`
 *                    every `pushMs` while something changed
 *   GET /api/state   the current snapshot and run info (for scripts and tests)
 *
 * Every response carries a Content-Security-Policy (only this origin's script, no framing, no
 * forms) and `nosniff`. An SSE client that stops reading is dropped once more than
 * `sseBufferBytes` wait unsent for it (checked before each message, so at most that plus one
 * message is queued): a stalled page cannot make the server queue without bound.
 */
import { readFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { DashboardModel, Update } from "./model";

const PAGE_DIR = fileURLToPath(new URL("./page/", import.meta.url));

/** Bundles the page's script (ES2020, one file, no source map). */
export const bundlePage = async (): Promise<string> => {
  const out = await build({
    entryPoints: [`${PAGE_DIR}main.ts`],
    bundle: true,
    write: false,
    format: "iife",
    target: "es2020",
    platform: "browser",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
  });
  return out.outputFiles[0]!.text;
};

export interface DashboardServer {
  readonly url: string;
  readonly port: number;
  /** SSE clients connected now, and how many were dropped for not reading. */
  sse(): { readonly clients: number; readonly dropped: number };
  close(): Promise<void>;
}

export interface ServeOptions {
  readonly model: DashboardModel;
  readonly port: number;
  readonly host: string;
  /** Push period, wall ms. Default 250. */
  readonly pushMs?: number;
  readonly wall?: () => number;
  /** Bytes that may wait unsent for one SSE client before it is dropped. Default 1 MiB. */
  readonly sseBufferBytes?: number;
}

/** The page's own script and styles only (the page has one inline <style>, no inline script). */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = { "content-security-policy": CONTENT_SECURITY_POLICY, "x-content-type-options": "nosniff" } as const;

export const startServer = async (opts: ServeOptions): Promise<DashboardServer> => {
  const { model } = opts;
  const wall = opts.wall ?? (() => Date.now());
  const script = await bundlePage();
  const html = readFileSync(`${PAGE_DIR}index.html`, "utf8");
  type Client = { res: ServerResponse; pos: { blocks: number; drops: number }; lastSnapshot: string };
  const clients = new Set<Client>();
  const maxBuffered = opts.sseBufferBytes ?? 1024 * 1024;
  let dropped = 0;

  /**
   * Writes an SSE message, unless more than `maxBuffered` bytes of the earlier ones are still
   * unsent: that client stopped reading and is dropped (so at most the bound plus one message waits).
   */
  const send = (client: Client, text: string) => {
    if (client.res.writableLength <= maxBuffered) {
      client.res.write(text);
      return;
    }
    if (clients.delete(client)) dropped++;
    client.res.destroy();
  };
  const message = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

  const onEvents = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write("retry: 1000\n\n");
    const all = model.since({ blocks: 0, drops: 0 });
    const snapshot = model.snapshot(wall());
    const client: Client = { res, pos: all.pos, lastSnapshot: JSON.stringify(snapshot) };
    const init: Update = { blocks: all.blocks, drops: all.drops, snapshot };
    clients.add(client);
    req.on("close", () => clients.delete(client));
    res.write(message("init", { info: model.info, ...init }));
  };

  let beats = 0;
  const push = () => {
    if (clients.size === 0) {
      model.snapshot(wall()); // keeps the UXCost series sampled for a page that connects later
      return;
    }
    const snapshot = model.snapshot(wall());
    const text = JSON.stringify(snapshot);
    beats++;
    for (const c of clients) {
      const fresh = model.since(c.pos);
      if (fresh.blocks.length === 0 && fresh.drops.length === 0 && text === c.lastSnapshot) {
        if (beats % 60 === 0) send(c, ": keep-alive\n\n");
        continue;
      }
      c.pos = fresh.pos;
      c.lastSnapshot = text;
      const update: Update = { blocks: fresh.blocks, drops: fresh.drops, snapshot };
      send(c, message("update", update));
    }
  };
  const timer = setInterval(push, opts.pushMs ?? 250);

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...SECURITY_HEADERS, allow: "GET" }).end();
      return;
    }
    switch (path) {
      case "/":
      case "/index.html":
        res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(html);
        return;
      case "/app.js":
        res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" }).end(script);
        return;
      case "/events":
        onEvents(req, res);
        return;
      case "/api/state":
        res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "application/json" }).end(JSON.stringify({ info: model.info, snapshot: model.snapshot(wall()) }));
        return;
      case "/healthz":
        res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/plain" }).end("ok\n");
        return;
      default:
        res.writeHead(404, { ...SECURITY_HEADERS, "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = opts.host === "0.0.0.0" || opts.host === "::" ? "127.0.0.1" : opts.host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    sse: () => ({ clients: clients.size, dropped }),
    close: async () => {
      clearInterval(timer);
      for (const c of clients) c.res.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
