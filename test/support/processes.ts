/**
 * Helpers shared by the tests that start real processes (nats-server, `sdrm3 serve …`): free ports,
 * waiting for a server to accept connections, capturing the CLI's output, and the decision lines
 * of an event file.
 */
import net from "node:net";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });

/** Resolves once 127.0.0.1:port accepts a connection (or after `tries` attempts `delayMs` apart). */
export const waitForPort = async (port: number, tries = 50, delayMs = 100): Promise<boolean> => {
  for (let i = 0; i < tries; i++) {
    const up = await new Promise<boolean>((r) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => (s.end(), r(true)));
      s.on("error", () => r(false));
    });
    if (up) return true;
    await sleep(delayMs);
  }
  return false;
};

/** An Io for `main(argv, io)` that keeps what the CLI wrote. */
export const captureIo = () => {
  const io = { stdout: "", stderr: "", out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
};

/** Decision events of a JSONL event file without the run id, one JSON string per decision. */
export const decisionLines = (jsonl: string) =>
  jsonl
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { _tag: string; run?: string })
    .filter((e) => e._tag === "decision")
    .map(({ run: _run, ...rest }) => JSON.stringify(rest));
