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
  close(): Promise<void>;
}

export interface ServeOptions {
  readonly model: DashboardModel;
  readonly port: number;
  readonly host: string;
  /** Push period, wall ms. Default 250. */
  readonly pushMs?: number;
  readonly wall?: () => number;
}

export const startServer = async (opts: ServeOptions): Promise<DashboardServer> => {
  const { model } = opts;
  const wall = opts.wall ?? (() => Date.now());
  const script = await bundlePage();
  const html = readFileSync(`${PAGE_DIR}index.html`, "utf8");
  const clients = new Set<{ res: ServerResponse; pos: { blocks: number; drops: number }; lastSnapshot: string }>();

  const send = (res: ServerResponse, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  const onEvents = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write("retry: 1000\n\n");
    const all = model.since({ blocks: 0, drops: 0 });
    const snapshot = model.snapshot(wall());
    const client = { res, pos: all.pos, lastSnapshot: JSON.stringify(snapshot) };
    const init: Update = { blocks: all.blocks, drops: all.drops, snapshot };
    send(res, "init", { info: model.info, ...init });
    clients.add(client);
    req.on("close", () => clients.delete(client));
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
        if (beats % 60 === 0) c.res.write(": keep-alive\n\n");
        continue;
      }
      c.pos = fresh.pos;
      c.lastSnapshot = text;
      const update: Update = { blocks: fresh.blocks, drops: fresh.drops, snapshot };
      send(c.res, "update", update);
    }
  };
  const timer = setInterval(push, opts.pushMs ?? 250);

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET" }).end();
      return;
    }
    switch (path) {
      case "/":
      case "/index.html":
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(html);
        return;
      case "/app.js":
        res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" }).end(script);
        return;
      case "/events":
        onEvents(req, res);
        return;
      case "/api/state":
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ info: model.info, snapshot: model.snapshot(wall()) }));
        return;
      case "/healthz":
        res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
        return;
      default:
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
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
    close: async () => {
      clearInterval(timer);
      for (const c of clients) c.res.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
