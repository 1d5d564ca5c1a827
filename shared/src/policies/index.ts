/** Public surface of the policies package: pure decision functions, one module each. */
export type * from "./types";
export { xrbenchPolicy, decideXrbench } from "./xrbench";
import type { Policy } from "./types";
import { xrbenchPolicy } from "./xrbench";

/** Every policy the runtime offers, by name. */
export const POLICIES: ReadonlyMap<string, Policy> = new Map([[xrbenchPolicy.name, xrbenchPolicy]]);
