/** Public surface of the policies package: pure decision functions, one module each, and the catalogue. */
export type * from "./types";
export * from "./common";
export { xrbench, xrbenchPolicy, decideXrbench } from "./xrbench";
export { fcfs } from "./fcfs";
export * from "./sdrm3";
export * from "./catalogue";
