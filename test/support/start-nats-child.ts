/**
 * For test/support/isolation.test.ts: a process that starts a nats-server the way the tests do
 * (startNatsServer), prints `{"pid","port","dir"}` on one line, then waits until it is killed.
 */
import { startNatsServer } from "./nats-server";

const server = await startNatsServer();
process.stdout.write(`${JSON.stringify({ pid: server.pid, port: server.port, dir: server.dir })}\n`);
setInterval(() => undefined, 60_000);
