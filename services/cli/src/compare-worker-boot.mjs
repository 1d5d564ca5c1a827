// Worker-thread entry of `sdrm3 compare`. A worker starts as plain Node, whatever loaded the parent
// (the sdrm3 bin, vitest), so it registers tsx itself before importing the TypeScript worker.
import { register } from "tsx/esm/api";

register();
const { serve } = await import("./compare-worker.ts");
serve();
