/** Public surface of the domain package: vocabulary types, seeded PRNG, metrics, analytical cost model, its fidelity and its fit. Pure. */
export type * from "./types";
export { DATAFLOWS } from "./types";
export * from "./prng";
export * from "./metrics";
export * from "./cost-model";
export * from "./cost-fidelity";
export * from "./cost-fit";
export * from "./remaining-work";
