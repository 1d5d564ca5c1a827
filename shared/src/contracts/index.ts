/** Public surface of the contracts package: message schemas, subject builders and the event log's schemas. No I/O. */
export * from "./errors";
export * from "./job-id";
export * from "./messages";
export * from "./subjects";
export * from "./log";
