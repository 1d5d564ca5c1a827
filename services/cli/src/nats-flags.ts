/**
 * NATS connection options, in one place for every command that connects (`serve <role>`,
 * `compare --nats`, `replay|explain|trace --nats`, `log export`): credentials, TLS and
 * `--require-auth`, from flags or the environment (a flag wins over its variable).
 *
 *   --nats-user / --nats-pass   NATS_USER / NATS_PASS   user and password
 *   --nats-token                NATS_TOKEN              token
 *   --nats-nkey <file>          NATS_NKEY               file holding an NKey user seed (SU…)
 *   --nats-creds <file>         NATS_CREDS              .creds file (user JWT + seed)
 *   --tls-ca / --tls-cert / --tls-key <file>   NATS_CA / NATS_CERT / NATS_KEY   TLS (PEM)
 *   --require-auth              SDRM3_REQUIRE_AUTH=1    refuse to connect without credentials
 *
 * Credentials in the URL (`nats://user:pass@host`, `nats://token@host`) are taken out of it and
 * used like the flags; the URL is only ever printed redacted. At most one way to authenticate;
 * bad combinations, unreadable or malformed files and a missing credential under
 * `--require-auth` are CliInputErrors (exit 2) naming the flag. No message here contains a
 * secret (a password, token, seed, creds file or key). docs/distributed.md, "Security".
 */
import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { type NatsBusOptions, credsPublicKey, nkeyPublicKey, redactNatsUrl } from "@sdrm3/shared/nats";
import { redactArgs } from "./redact";
import { CliInputError } from "./duration";

/** The connection flags as commander hands them to an action. */
export interface NatsConnectionFlags {
  natsUser?: string;
  natsPass?: string;
  natsToken?: string;
  natsNkey?: string;
  natsCreds?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  requireAuth?: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Each connection setting: its flag, its variable, the commander attribute. */
const SETTINGS = [
  { key: "natsUser", flag: "--nats-user", arg: "<name>", env: "NATS_USER", help: "NATS user (with --nats-pass)" },
  { key: "natsPass", flag: "--nats-pass", arg: "<password>", env: "NATS_PASS", help: "NATS password (prefer the variable: arguments are visible to other local users)" },
  { key: "natsToken", flag: "--nats-token", arg: "<token>", env: "NATS_TOKEN", help: "NATS token (prefer the variable)" },
  { key: "natsNkey", flag: "--nats-nkey", arg: "<file>", env: "NATS_NKEY", help: "file holding the NKey seed of a NATS user (SU…)" },
  { key: "natsCreds", flag: "--nats-creds", arg: "<file>", env: "NATS_CREDS", help: "NATS .creds file (user JWT and NKey seed)" },
  { key: "tlsCa", flag: "--tls-ca", arg: "<file>", env: "NATS_CA", help: "TLS: CA certificate (PEM) that signed the server's" },
  { key: "tlsCert", flag: "--tls-cert", arg: "<file>", env: "NATS_CERT", help: "TLS: client certificate (PEM), with --tls-key" },
  { key: "tlsKey", flag: "--tls-key", arg: "<file>", env: "NATS_KEY", help: "TLS: client private key (PEM), with --tls-cert" },
] as const;

type Key = (typeof SETTINGS)[number]["key"];

/** Where a setting's value came from, for messages: `--nats-pass` or `NATS_PASS`. */
interface Setting {
  readonly value: string;
  readonly from: string;
}

const setting = (key: Key, flags: NatsConnectionFlags, env: Env): Setting | undefined => {
  const s = SETTINGS.find((x) => x.key === key)!;
  const fromFlag = flags[key];
  if (fromFlag !== undefined) return { value: fromFlag, from: s.flag };
  const fromEnv = env[s.env];
  // an empty variable (compose `NATS_PASS: ${X:-}`) counts as unset
  return fromEnv === undefined || fromEnv === "" ? undefined : { value: fromEnv, from: s.env };
};

const REQUIRE_AUTH_ON = new Set(["1", "true", "yes", "on"]);
const REQUIRE_AUTH_OFF = new Set(["", "0", "false", "no", "off"]);

/** `--require-auth`, or SDRM3_REQUIRE_AUTH=1|true|yes|on (0|false|no|off or empty: off). */
export const requireAuthFrom = (flags: NatsConnectionFlags, env: Env = process.env): boolean => {
  if (flags.requireAuth === true) return true;
  const v = env.SDRM3_REQUIRE_AUTH;
  if (v === undefined) return false;
  const t = v.trim().toLowerCase();
  if (REQUIRE_AUTH_ON.has(t)) return true;
  if (REQUIRE_AUTH_OFF.has(t)) return false;
  throw new CliInputError(`SDRM3_REQUIRE_AUTH: expected 1 or 0 (true/false, yes/no, on/off), got '${v}'`);
};

const readFile = (s: Setting, what: string): string => {
  let text: string;
  try {
    text = readFileSync(s.value, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliInputError(`${s.from}: cannot read ${what} '${s.value}'${code === undefined ? "" : ` (${code})`}`);
  }
  if (text.trim() === "") throw new CliInputError(`${s.from}: ${what} '${s.value}' is empty`);
  return text;
};

/** A PEM file's contents; refused when it holds no PEM block of the expected kind. */
const readPem = (s: Setting, what: string, kind: RegExp): string => {
  const text = readFile(s, what);
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text) || !kind.test(text)) {
    throw new CliInputError(`${s.from}: '${s.value}' is not a PEM ${what} (expected a -----BEGIN …----- block)`);
  }
  return text;
};

/** Credentials in a server URL: `scheme://user:pass@host` or `scheme://token@host`. */
interface UrlCredentials {
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
}

const decode = (part: string, url: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new CliInputError(`--nats: bad percent-encoding in the credentials of ${redactNatsUrl(url)}`);
  }
};

/**
 * Refuses a server URL that cannot name a server (a bad port, no host, a path) as bad input: it
 * failed only in the client, as "run failed: … Invalid URL" with exit 1. The scheme is not
 * checked: the client drops whatever is given.
 */
const checkServerUrl = (server: string): void => {
  const hostPort = server.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const port = /:(\d+)$/.exec(hostPort)?.[1];
  let url: URL | undefined;
  try {
    url = new URL(`http://${hostPort}`);
  } catch {
    url = undefined;
  }
  const bad =
    port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535) ? `port ${port} is not in 1-65535`
    : url === undefined || url.hostname === "" || /[/?#]/.test(hostPort) ? "expected [scheme://]host[:port]"
    : undefined;
  if (bad !== undefined) throw new CliInputError(`--nats: '${redactNatsUrl(server)}' is not a server URL such as nats://127.0.0.1:4222 (${bad})`);
};

/** Splits `--nats` (one URL or a comma-separated list) into servers without credentials and the credentials they carried. */
const parseServers = (nats: string): { servers: string[]; credentials: UrlCredentials | undefined } => {
  const servers: string[] = [];
  const found: Array<{ url: string; key: string; creds: UrlCredentials }> = [];
  for (const raw of nats.split(",")) {
    const url = raw.trim();
    if (url === "") continue;
    const m = /^([a-z][a-z0-9+.-]*:\/\/|)([^@/]*)@(.*)$/i.exec(url);
    if (m === null) {
      servers.push(url);
      continue;
    }
    const [, scheme, info, rest] = m as unknown as [string, string, string, string];
    if (rest === "") throw new CliInputError(`--nats: no host after the credentials in ${redactNatsUrl(url)}`);
    servers.push(`${scheme}${rest}`);
    const colon = info.indexOf(":");
    const creds: UrlCredentials =
      colon < 0 ? { token: decode(info, url) } : { user: decode(info.slice(0, colon), url), pass: decode(info.slice(colon + 1), url) };
    found.push({ url, key: info, creds });
  }
  if (servers.length === 0) throw new CliInputError("--nats: expected a server URL such as nats://127.0.0.1:4222");
  for (const server of servers) checkServerUrl(server);
  if (new Set(found.map((f) => f.key)).size > 1) {
    throw new CliInputError(`--nats: the server URLs carry different credentials (${found.map((f) => redactNatsUrl(f.url)).join(", ")}); give one set`);
  }
  const first = found[0]?.creds;
  if (first !== undefined && first.user !== undefined && (first.user === "" || first.pass === "")) {
    throw new CliInputError(`--nats: ${redactNatsUrl(found[0]!.url)}: expected user:password@ before the host`);
  }
  return { servers, credentials: first };
};

/** The resolved connection: what to hand to `connectNatsBus`, and how to name it in messages. */
export interface NatsConnection {
  /** `connectNatsBus` options: servers (without credentials), credentials and TLS. */
  readonly options: Pick<NatsBusOptions, "servers" | "user" | "pass" | "token" | "nkeySeed" | "creds" | "tls">;
  /** The `--nats` value with any credentials masked, fit to print. */
  readonly display: string;
  /** How the connection authenticates (`none`: no credentials given). */
  readonly auth: "user" | "token" | "nkey" | "creds" | "tls-cert" | "none";
}

/**
 * Resolves `--nats <url>` and the connection flags (flags first, then `env`): reads and checks the
 * files, refuses bad combinations and, under `--require-auth`, a connection without credentials.
 */
export const resolveNatsConnection = (nats: string, flags: NatsConnectionFlags, env: Env = process.env): NatsConnection => {
  const { servers, credentials: inUrl } = parseServers(nats);
  const display = nats
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "")
    .map(redactNatsUrl)
    .join(",");
  const get = (key: Key) => setting(key, flags, env);
  const user = get("natsUser");
  const pass = get("natsPass");
  const token = get("natsToken");
  const nkey = get("natsNkey");
  const creds = get("natsCreds");
  const ca = get("tlsCa");
  const cert = get("tlsCert");
  const key = get("tlsKey");

  if (user !== undefined && pass === undefined) throw new CliInputError(`${user.from} needs a password: give --nats-pass or set NATS_PASS`);
  if (pass !== undefined && user === undefined) throw new CliInputError(`${pass.from} needs a user: give --nats-user or set NATS_USER`);
  const methods = [
    ...(inUrl === undefined ? [] : [`credentials in the --nats URL (${display})`]),
    ...(user === undefined ? [] : [`${user.from}/${pass!.from}`]),
    ...(token === undefined ? [] : [token.from]),
    ...(nkey === undefined ? [] : [nkey.from]),
    ...(creds === undefined ? [] : [creds.from]),
  ];
  if (methods.length > 1) {
    throw new CliInputError(`NATS credentials given more than one way: ${methods.join(", ")}; give exactly one (a flag wins over its own variable only)`);
  }
  if (cert !== undefined && key === undefined) throw new CliInputError(`${cert.from} needs the client key too: give --tls-key or set NATS_KEY`);
  if (key !== undefined && cert === undefined) throw new CliInputError(`${key.from} needs the client certificate too: give --tls-cert or set NATS_CERT`);

  const tls = {
    ...(ca === undefined ? {} : { ca: readPem(ca, "CA certificate", /CERTIFICATE/) }),
    ...(cert === undefined ? {} : { cert: readPem(cert, "client certificate", /CERTIFICATE/) }),
    ...(key === undefined ? {} : { key: readPem(key, "client key", /PRIVATE KEY/) }),
  };
  const useTls = ca !== undefined || cert !== undefined;

  let auth: NatsConnection["auth"] = "none";
  let credentialOptions: Pick<NatsBusOptions, "user" | "pass" | "token" | "nkeySeed" | "creds"> = {};
  if (inUrl !== undefined) {
    auth = inUrl.token === undefined ? "user" : "token";
    credentialOptions = inUrl.token === undefined ? { user: inUrl.user!, pass: inUrl.pass! } : { token: inUrl.token };
  } else if (user !== undefined) {
    auth = "user";
    credentialOptions = { user: user.value, pass: pass!.value };
  } else if (token !== undefined) {
    auth = "token";
    credentialOptions = { token: token.value };
  } else if (nkey !== undefined) {
    auth = "nkey";
    const seed = readFile(nkey, "NKey seed file").trim();
    try {
      nkeyPublicKey(seed);
    } catch {
      throw new CliInputError(`${nkey.from}: '${nkey.value}' does not hold a valid NKey seed (expected one line starting with 'SU')`);
    }
    if (!seed.startsWith("SU")) throw new CliInputError(`${nkey.from}: '${nkey.value}' holds an NKey seed that is not a user's (expected one starting with 'SU')`);
    credentialOptions = { nkeySeed: seed };
  } else if (creds !== undefined) {
    auth = "creds";
    const text = readFile(creds, "creds file");
    try {
      credsPublicKey(text);
    } catch {
      throw new CliInputError(`${creds.from}: '${creds.value}' is not a NATS creds file (expected a user JWT block and an NKey seed block)`);
    }
    credentialOptions = { creds: text };
  } else if (cert !== undefined) {
    auth = "tls-cert";
  }

  if (auth === "none" && requireAuthFrom(flags, env)) {
    throw new CliInputError(
      `--require-auth: no NATS credentials given for ${display}; give --nats-user/--nats-pass (NATS_USER/NATS_PASS), --nats-token (NATS_TOKEN), --nats-nkey (NATS_NKEY), --nats-creds (NATS_CREDS) or a TLS client certificate (--tls-cert/--tls-key)`,
    );
  }
  return {
    options: { servers: servers.length === 1 ? servers[0]! : servers, ...credentialOptions, ...(useTls ? { tls } : {}) },
    display,
    auth,
  };
};

/** The connection options of a command (new Option objects each call: commander keeps per-command state). */
const connectionOptions = (): Option[] => [
  ...SETTINGS.map((s) => new Option(`${s.flag} ${s.arg}`, `${s.help} [env ${s.env}]`)),
  new Option("--require-auth", "refuse to connect without NATS credentials [env SDRM3_REQUIRE_AUTH=1]"),
];

export { redactArgs } from "./redact";

/**
 * Adds the connection options to every command of `program` that has a `--nats` option, with a
 * check before its action: the options only with `--nats`, and the connection resolvable (files
 * readable, one way to authenticate, `--require-auth` satisfied) before anything runs. Commander's
 * own error output is passed through `redactArgs`.
 */
export const addNatsConnectionOptions = (program: Command): void => {
  const visit = (cmd: Command): void => {
    const out = cmd.configureOutput();
    const writeErr = out.writeErr;
    if (writeErr !== undefined) cmd.configureOutput({ ...out, writeErr: (s: string) => writeErr(redactArgs(s)) });
    if (cmd.options.some((o) => o.long === "--nats")) {
      for (const o of connectionOptions()) cmd.addOption(o);
      cmd.hook("preAction", (_self, action) => {
        const flags = action.opts<NatsConnectionFlags & { nats?: string }>();
        if (flags.nats === undefined) {
          const given = SETTINGS.filter((s) => flags[s.key] !== undefined).map((s) => s.flag);
          if (given.length > 0) throw new CliInputError(`${given.join(", ")}: only with --nats <url>`);
          return;
        }
        resolveNatsConnection(flags.nats, flags);
      });
    }
    for (const c of cmd.commands) visit(c);
  };
  visit(program);
};
