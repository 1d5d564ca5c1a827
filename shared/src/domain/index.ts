/** Public surface of the domain package: vocabulary types, seeded PRNG, metrics, analytical cost model. Pure. */
export type * from "./types";
export { DATAFLOWS } from "./types";
export * from "./prng";
export * from "./metrics";
export * from "./cost-model";
