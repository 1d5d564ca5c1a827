/**
 * Public surface of the NATS adapter package: the only package that imports @nats-io/*.
 * (JetStream event log will join the bus here.)
 */

export { connectNatsBus, NatsConnectError } from "./nats-bus";
export type { NatsBus, NatsBusOptions } from "./nats-bus";
export {
  DEFAULT_LEASE_TTL_MS,
  LeaseLostError,
  claimSlot,
  holdSlots,
  leaseBucketName,
  openLeaseBucket,
  readLease,
  releaseLease,
  removeLeaseBucket,
  renewLease,
} from "./leases";
export type { HeldSlot, HoldSlotsOptions, Lease, LeaseBucket, LeaseValue, SlotHolder } from "./leases";
