import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["shared/**/*.test.ts", "services/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "test/bench/**"],
    globalSetup: ["./test/global-setup.ts"],
    hookTimeout: 60_000,
    testTimeout: 60_000,
    // two test files at once even on 2 cores (vitest's default there is one): most process tests
    // wait on leases, live clocks and child processes, so the suite takes ~7.5 min instead of ~11
    // here (docs/bus.md "Testing"); every file still runs alone in its own worker
    maxWorkers: 2,
    minWorkers: 1,
  },
});
