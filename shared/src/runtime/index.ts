/** Public surface of the runtime package: the Bus port and its in-memory layer, the actor host, runs. */
export * from "./bus";
export * from "./memory-bus";
export * from "./codec";
export * from "./relay";
export * from "./host";
export * from "./run";
export * from "./spec";
export * from "./event-log";
export * from "./replay";
export * from "./explain";
export * from "./trace";
export * from "./direct";
export * from "./grid";
export * from "./tuner";
export * from "./live-clock";
export * from "./resume";
export * from "./warm-up";
