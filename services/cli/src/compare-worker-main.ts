/** Worker-thread entry of `sdrm3 compare` in the built command (dist/compare-worker-boot.mjs). */
import { usePrebuiltDataset } from "./built";
import { serve } from "./compare-worker";

usePrebuiltDataset();
serve();
