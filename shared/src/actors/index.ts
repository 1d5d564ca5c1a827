/** Public surface of the actors package: XState machines and their pure logic. */
export * from "./accelerator";
export * from "./accelerator-logic";
export * from "./model-task";
export * from "./task-logic";
export * from "./scheduler";
export * from "./scheduler-kernel";
