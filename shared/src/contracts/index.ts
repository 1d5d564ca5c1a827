/** Public surface of the contracts package: message schemas and subject builders. No I/O. */
export * from "./messages";
export * from "./subjects";
