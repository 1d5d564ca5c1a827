/** Public surface of the policies package: pure decision functions, one module each, and the catalogue. */
export type * from "./types";
export * from "./common";
export * from "./capabilities";
export { xrbench, xrbenchPolicy, decideXrbench } from "./xrbench";
export { fcfs } from "./fcfs";
export { rr } from "./rr";
export { edf } from "./edf";
export { llf } from "./llf";
export { sjf } from "./sjf";
export { prema } from "./prema";
export { planaria } from "./planaria";
export { veltair } from "./veltair";
export { herald } from "./herald";
export { idle } from "./idle";
export { shed } from "./shed";
export * from "./sdrm3";
export * from "./supernet";
export * from "./catalogue";
