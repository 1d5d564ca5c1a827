/**
 * Public surface of the NATS adapter package: the only package that imports @nats-io/*.
 * (JetStream event log and KV leases will join the bus here.)
 */

export { connectNatsBus } from "./nats-bus";
export type { NatsBus, NatsBusOptions } from "./nats-bus";
