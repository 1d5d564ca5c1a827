/** Where the `nats-server` binary is, for the test fixture (test/global-setup.ts) and the benchmarks. */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

const DEBIAN_BINARY = "/usr/sbin/nats-server";

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** NATS_SERVER_BIN if set (used as is), else `nats-server` on PATH, else the Debian location. */
export const findNatsServerBinary = (): string | undefined => {
  const forced = process.env.NATS_SERVER_BIN;
  if (forced !== undefined && forced !== "") return isExecutable(forced) ? forced : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "nats-server");
    if (isExecutable(candidate)) return candidate;
  }
  return isExecutable(DEBIAN_BINARY) ? DEBIAN_BINARY : undefined;
};
