/**
 * Test helpers (test-only: imports vitest). Public surface of @sdrm3/shared/testkit.
 */

export { NO_NATS_MESSAGE, natsTestOptions, natsTestSource, uniqueSubjectPrefix } from "./nats-fixture";
export type { NatsFixtureInfo, NatsSource } from "./nats-fixture";
