/**
 * A NATS server for the bus benchmarks: $NATS_URL (+ NATS_USER / NATS_PASS) when set, else a
 * private `nats-server` with JetStream started as the test suite starts its own
 * (test/support/nats-server.ts: a port the server picks, its own directory, killed with us). The
 * server we start is stopped and its directory removed by `stop()`, and killed on process exit.
 */
import { startNatsServer } from "../support/nats-server";

export interface NatsServer {
  readonly url: string;
  readonly user?: string;
  readonly pass?: string;
  /** "env (NATS_URL)" or a server started here. */
  readonly source: string;
  /** The server's pid when started here (its CPU can be read from /proc). */
  readonly pid?: number;
  stop(): Promise<void>;
}

export const startNats = async (): Promise<NatsServer> => {
  const url = process.env.NATS_URL;
  if (url !== undefined && url !== "") {
    return {
      url,
      ...(process.env.NATS_USER === undefined ? {} : { user: process.env.NATS_USER }),
      ...(process.env.NATS_PASS === undefined ? {} : { pass: process.env.NATS_PASS }),
      source: "env (NATS_URL)",
      stop: async () => {},
    };
  }
  // the test suite's own starter: the server picks its port (-p -1) and reports it, dies with us
  const server = await startNatsServer();
  const kill = () => server.killNow();
  process.once("exit", kill);
  return {
    url: server.url,
    source: "nats-server (started here)",
    pid: server.pid,
    stop: async () => {
      process.removeListener("exit", kill);
      await server.stop();
    },
  };
};
