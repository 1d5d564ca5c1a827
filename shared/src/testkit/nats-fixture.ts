/**
 * NATS test fixture, the test side: reads what test/global-setup.ts provided (via vitest's
 * provide/inject) and hands tests the connection options of a real NATS server — from NATS_URL,
 * a testcontainers container, or a private `nats-server` process, in that order.
 *
 * There is no skip path: when setup found no server, `natsTestOptions()` throws, so NATS tests fail
 * loudly instead of passing vacuously.
 */

import { randomUUID } from "node:crypto";
import { inject } from "vitest";

/** Connection options for the fixture's server (same shape as connectNatsBus's options). */
export interface NatsFixtureInfo {
  readonly servers: string;
  readonly user?: string;
  readonly pass?: string;
}

export type NatsSource = "env" | "testcontainers" | "nats-server binary" | "none";

declare module "vitest" {
  export interface ProvidedContext {
    /** `null` when no server could be found or started (see `natsError`). */
    nats: NatsFixtureInfo | null;
    natsSource: NatsSource;
    /** Why no server is available (each attempt's failure); `null` when `nats` is set. */
    natsError: string | null;
  }
}

export const NO_NATS_MESSAGE =
  "No NATS server available: set NATS_URL, install nats-server (apt-get install nats-server), or provide a Docker engine for testcontainers";

/** Options to connect to the test NATS server. Throws when global setup found none. */
export const natsTestOptions = (): NatsFixtureInfo => {
  const nats = inject("nats");
  if (nats === null || nats === undefined) {
    const details = inject("natsError");
    throw new Error(NO_NATS_MESSAGE, details === null || details === undefined ? undefined : { cause: details });
  }
  return nats;
};

/** Where the fixture's server came from (for diagnostics). */
export const natsTestSource = (): NatsSource => inject("natsSource");

/**
 * A fresh subject prefix, e.g. `t.3f2b….`: every test run gets its own subject space, so runs that
 * share a server (NATS_URL) never see each other's messages.
 */
export const uniqueSubjectPrefix = (label = "t"): string => `${label}.${randomUUID()}.`;
