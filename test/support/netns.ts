/**
 * Test "hosts" as Linux network namespaces (iproute2; needs root): a bridge in the root namespace
 * with one address (where a private nats-server listens), and per host a namespace joined to the
 * bridge by a veth pair. Processes run on a host through `ip netns exec <ns>` (`lab.wrap(i)`);
 * `cut(i)` takes the host's cable out (the root end of its veth goes down: every packet between
 * the host and the rest is dropped, TCP connections stay open and retransmit), `restore(i)` puts it
 * back.
 *
 * Names are unique per lab (`s3<6 hex>…`, within the 15-character limit of interface names) and
 * the /24 is one that no local interface uses. `destroy()` removes everything and never throws.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

const ip = (...args: string[]): string => execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const describeError = (e: unknown): string => {
  const err = e as { code?: string; stderr?: Buffer | string; message?: string };
  if (err.code === "ENOENT") return "the `ip` command (iproute2) is not installed";
  const stderr = err.stderr === undefined ? "" : String(err.stderr).trim();
  return stderr !== "" ? stderr : (err.message ?? String(e));
};

/** Whether this process can create network namespaces here; if not, why (for a skip message). */
export const probeNetns = (): { ok: true } | { ok: false; reason: string } => {
  const name = `s3probe${randomBytes(3).toString("hex")}`;
  try {
    ip("netns", "add", name);
  } catch (e) {
    return { ok: false, reason: `cannot create a network namespace (ip netns add): ${describeError(e)}` };
  }
  try {
    ip("netns", "del", name);
  } catch {
    // best effort
  }
  return { ok: true };
};

export interface NetnsHost {
  readonly ns: string;
  /** Root-namespace end of the host's veth pair (its "cable"). */
  readonly cable: string;
  readonly address: string;
}

export interface NetnsLab {
  /** The root namespace's address on the bridge (listen here). */
  readonly serverAddress: string;
  readonly hosts: ReadonlyArray<NetnsHost>;
  /** Command prefix that runs a command on host `i`. */
  wrap(i: number): string[];
  cut(i: number): void;
  restore(i: number): void;
  destroy(): void;
}

const unusedSubnet = (): string => {
  const used = ip("-4", "-o", "addr", "show");
  for (let tries = 0; tries < 50; tries++) {
    const [a, b] = randomBytes(2);
    const subnet = `10.${100 + (a! % 100)}.${b!}`;
    if (!used.includes(` ${subnet}.`)) return subnet;
  }
  throw new Error("no unused 10.x.y.0/24 found");
};

/** Creates the bridge and `count` hosts; on any failure removes what it made and throws. */
export const createNetnsLab = (count: number): NetnsLab => {
  const id = randomBytes(3).toString("hex");
  const bridge = `s3${id}br`;
  const subnet = unusedSubnet();
  const serverAddress = `${subnet}.1`;
  const hosts: NetnsHost[] = Array.from({ length: count }, (_, i) => ({ ns: `s3${id}h${i}`, cable: `s3${id}r${i}`, address: `${subnet}.${10 + i}` }));
  const made: Array<() => void> = [];
  const destroy = () => {
    for (const undo of made.reverse()) {
      try {
        undo();
      } catch {
        // already gone
      }
    }
    made.length = 0;
  };
  try {
    ip("link", "add", bridge, "type", "bridge");
    made.push(() => ip("link", "del", bridge));
    ip("addr", "add", `${serverAddress}/24`, "dev", bridge);
    ip("link", "set", bridge, "up");
    hosts.forEach((h, i) => {
      const inner = `s3${id}n${i}`;
      ip("netns", "add", h.ns);
      made.push(() => ip("netns", "del", h.ns));
      ip("link", "add", h.cable, "type", "veth", "peer", "name", inner);
      made.push(() => ip("link", "del", h.cable));
      ip("link", "set", inner, "netns", h.ns);
      ip("link", "set", h.cable, "master", bridge);
      ip("link", "set", h.cable, "up");
      ip("-n", h.ns, "addr", "add", `${h.address}/24`, "dev", inner);
      ip("-n", h.ns, "link", "set", inner, "up");
      ip("-n", h.ns, "link", "set", "lo", "up");
    });
  } catch (e) {
    destroy();
    throw new Error(`setting up network namespaces failed: ${describeError(e)}`);
  }
  return {
    serverAddress,
    hosts,
    wrap: (i) => ["ip", "netns", "exec", hosts[i]!.ns],
    cut: (i) => void ip("link", "set", hosts[i]!.cable, "down"),
    restore: (i) => void ip("link", "set", hosts[i]!.cable, "up"),
    destroy,
  };
};
