/**
 * Public surface of the NATS adapter package: the only package that imports @nats-io/*.
 * The bus, slot leases (JetStream KV) and the event log in JetStream (event-stream.ts).
 */

export { NatsConnectError, connectNatsBus, credsPublicKey, nkeyPublicKey, redactNatsUrl } from "./nats-bus";
export type { NatsBus, NatsBusOptions, NatsTlsOptions } from "./nats-bus";
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
  awaitLeasesReleased,
  heldSlots,
  openExistingKv,
  renewLease,
} from "./leases";
export type { HeldSlot, HoldSlotsOptions, Lease, LeaseBucket, LeaseValue, SlotHolder } from "./leases";
export {
  JetStreamLogSink,
  JetStreamRecordError,
  LOG_DUPLICATE_WINDOW_MS,
  LOG_STREAM,
  LOG_STREAM_SUBJECTS,
  LogFollowError,
  LogSourceMissingError,
  ensureLogStream,
  followLogLines,
  logMsgId,
  logSubject,
  publishLogLine,
  purgeRunLog,
  findRunLog,
  streamLogInfo,
  streamLogLines,
} from "./event-stream";
export type { FollowLogOptions, JetStreamLogSinkOptions, JetStreamRecordStats, StreamLogInfo } from "./event-stream";
export {
  RunSpecError,
  RunTakenError,
  awaitRunSpec,
  claimRun,
  publishRunSpec,
  readRunSpec,
  removeRunSpec,
  runLeaseBucketName,
  runSpecBucketName,
} from "./run-spec";
export type { ClaimRunOptions, RunLease } from "./run-spec";
