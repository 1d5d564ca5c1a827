/**
 * NATS connection options (nats-flags.ts): flags and variables, URL credentials, one way to
 * authenticate, files read and checked, `--require-auth`, and no secret in any message. Pure
 * parsing here (an injected environment, files in a temp dir); the real servers and processes are
 * in test/security/nats-security.test.ts. The last cases go through `main` to check that every
 * command with `--nats` has the options and the check before its action.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nkeys } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { CliInputError } from "./duration";
import { main } from "./main";
import { type NatsConnectionFlags, redactArgs, requireAuthFrom, resolveNatsConnection } from "./nats-flags";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-nats-flags-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const URL_ = "nats://127.0.0.1:4222";
const SECRET = "s3cr3t-Pa55";

/** The CliInputError message of resolving these flags (fails the test when it resolves). */
const refusal = (nats: string, flags: NatsConnectionFlags, env: Record<string, string> = {}): string => {
  let error: unknown;
  try {
    resolveNatsConnection(nats, flags, env);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CliInputError);
  return (error as Error).message;
};

const user = nkeys.createUser();
const seed = new TextDecoder().decode(user.getSeed());
const PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const PEM_KEY = `-----BEGIN PRIVATE KEY-----\n${SECRET}\n-----END PRIVATE KEY-----\n`;
const creds = (s: string) =>
  `-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.sig\n------END NATS USER JWT------\n\n` +
  `************************* IMPORTANT *************************\n\n-----BEGIN USER NKEY SEED-----\n${s}\n------END USER NKEY SEED------\n`;

describe("resolveNatsConnection", () => {
  it("takes no credentials by default, and the URL as is", () => {
    expect(resolveNatsConnection(URL_, {}, {})).toEqual({ options: { servers: URL_ }, display: URL_, auth: "none" });
  });

  it("user and password from flags or variables; a flag wins over its own variable", () => {
    expect(resolveNatsConnection(URL_, { natsUser: "a", natsPass: SECRET }, {}).options).toEqual({ servers: URL_, user: "a", pass: SECRET });
    expect(resolveNatsConnection(URL_, {}, { NATS_USER: "b", NATS_PASS: SECRET }).options).toEqual({ servers: URL_, user: "b", pass: SECRET });
    expect(resolveNatsConnection(URL_, { natsUser: "a" }, { NATS_USER: "b", NATS_PASS: SECRET }).options).toMatchObject({ user: "a", pass: SECRET });
    // an empty variable is unset
    expect(resolveNatsConnection(URL_, {}, { NATS_USER: "", NATS_PASS: "" }).auth).toBe("none");
  });

  it("a user needs a password and a password a user", () => {
    expect(refusal(URL_, { natsUser: "a" })).toBe("--nats-user needs a password: give --nats-pass or set NATS_PASS");
    expect(refusal(URL_, {}, { NATS_PASS: SECRET })).toBe("NATS_PASS needs a user: give --nats-user or set NATS_USER");
  });

  it("takes credentials out of the URL and prints it redacted", () => {
    const c = resolveNatsConnection(`nats://bob:${SECRET}@127.0.0.1:4222`, {}, {});
    expect(c).toEqual({ options: { servers: URL_, user: "bob", pass: SECRET }, display: "nats://bob:***@127.0.0.1:4222", auth: "user" });
    const t = resolveNatsConnection(`nats://${SECRET}@h1:4222,nats://${SECRET}@h2:4222`, {}, {});
    expect(t).toEqual({ options: { servers: ["nats://h1:4222", "nats://h2:4222"], token: SECRET }, display: "nats://***@h1:4222,nats://***@h2:4222", auth: "token" });
    // percent-encoded characters in a password
    expect(resolveNatsConnection("nats://bob:p%40ss@h:1", {}, {}).options).toMatchObject({ user: "bob", pass: "p@ss" });
    expect(refusal(`nats://a:${SECRET}@h1:1,nats://b:${SECRET}@h2:1`, {})).toContain("different credentials (nats://a:***@h1:1, nats://b:***@h2:1)");
  });

  it("refuses more than one way to authenticate, naming each", () => {
    expect(refusal(URL_, { natsToken: SECRET }, { NATS_USER: "a", NATS_PASS: SECRET })).toBe(
      "NATS credentials given more than one way: NATS_USER/NATS_PASS, --nats-token; give exactly one (a flag wins over its own variable only)",
    );
    expect(refusal(`nats://a:${SECRET}@h:1`, {}, { NATS_CREDS: "/x" })).toContain("credentials in the --nats URL (nats://a:***@h:1), NATS_CREDS");
  });

  it("reads an NKey seed file and checks it is a user seed", () => {
    const c = resolveNatsConnection(URL_, { natsNkey: file("user.nk", `${seed}\n`) }, {});
    expect(c.auth).toBe("nkey");
    expect(c.options.nkeySeed).toBe(seed);
    expect(refusal(URL_, { natsNkey: join(dir, "missing.nk") })).toBe(`--nats-nkey: cannot read NKey seed file '${join(dir, "missing.nk")}' (ENOENT)`);
    expect(refusal(URL_, {}, { NATS_NKEY: file("bad.nk", "SUNOTASEED\n") })).toContain("NATS_NKEY: ");
    expect(refusal(URL_, {}, { NATS_NKEY: file("bad.nk", "SUNOTASEED\n") })).toContain("does not hold a valid NKey seed");
    const account = new TextDecoder().decode(nkeys.createAccount().getSeed());
    expect(refusal(URL_, { natsNkey: file("account.nk", account) })).toContain("not a user's");
    expect(refusal(URL_, { natsNkey: file("empty.nk", "\n") })).toContain("is empty");
  });

  it("reads a creds file and checks its blocks", () => {
    const c = resolveNatsConnection(URL_, { natsCreds: file("u.creds", creds(seed)) }, {});
    expect(c.auth).toBe("creds");
    expect(c.options.creds).toBe(creds(seed));
    expect(refusal(URL_, { natsCreds: file("bad.creds", "not a creds file") })).toBe(
      `--nats-creds: '${join(dir, "bad.creds")}' is not a NATS creds file (expected a user JWT block and an NKey seed block)`,
    );
  });

  it("reads TLS files (PEM), cert and key together", () => {
    const ca = file("ca.pem", PEM_CERT);
    const cert = file("cert.pem", PEM_CERT);
    const key = file("key.pem", PEM_KEY);
    expect(resolveNatsConnection(URL_, { tlsCa: ca }, {})).toMatchObject({ options: { tls: { ca: PEM_CERT } }, auth: "none" });
    expect(resolveNatsConnection(URL_, {}, { NATS_CA: ca, NATS_CERT: cert, NATS_KEY: key })).toMatchObject({
      options: { tls: { ca: PEM_CERT, cert: PEM_CERT, key: PEM_KEY } },
      auth: "tls-cert",
    });
    expect(refusal(URL_, { tlsCert: cert })).toBe("--tls-cert needs the client key too: give --tls-key or set NATS_KEY");
    expect(refusal(URL_, { tlsKey: key })).toBe("--tls-key needs the client certificate too: give --tls-cert or set NATS_CERT");
    expect(refusal(URL_, { tlsCa: key })).toBe(`--tls-ca: '${key}' is not a PEM CA certificate (expected a -----BEGIN …----- block)`);
    expect(refusal(URL_, { tlsCa: join(dir, "nope.pem") })).toContain("--tls-ca: cannot read CA certificate");
    // a key file that is not a key: named, its contents never shown
    const message = refusal(URL_, { tlsCert: cert, tlsKey: cert });
    expect(message).toBe(`--tls-key: '${cert}' is not a PEM client key (expected a -----BEGIN …----- block)`);
  });

  it("--require-auth / SDRM3_REQUIRE_AUTH: refused without credentials, accepted with any", () => {
    const message = refusal(URL_, { requireAuth: true });
    expect(message).toMatch(/^--require-auth: no NATS credentials given for nats:\/\/127\.0\.0\.1:4222; give --nats-user\/--nats-pass/);
    expect(refusal(URL_, {}, { SDRM3_REQUIRE_AUTH: "1" })).toBe(message);
    expect(refusal(URL_, { tlsCa: file("ca2.pem", PEM_CERT) }, { SDRM3_REQUIRE_AUTH: "true" })).toContain("--require-auth"); // a CA alone is no credential
    expect(resolveNatsConnection(URL_, { requireAuth: true }, { NATS_TOKEN: SECRET }).auth).toBe("token");
    expect(resolveNatsConnection(`nats://a:${SECRET}@h:1`, { requireAuth: true }, {}).auth).toBe("user");
    expect(resolveNatsConnection(URL_, {}, { SDRM3_REQUIRE_AUTH: "0" }).auth).toBe("none");
    expect(requireAuthFrom({}, { SDRM3_REQUIRE_AUTH: "" })).toBe(false);
    expect(() => requireAuthFrom({}, { SDRM3_REQUIRE_AUTH: "maybe" })).toThrow("SDRM3_REQUIRE_AUTH: expected 1 or 0");
  });

  it("never puts a secret in a message", () => {
    const messages = [
      refusal(`nats://a:${SECRET}@h1:1,nats://b:${SECRET}@h2:1`, {}),
      refusal(`nats://a:${SECRET}@h:1`, { natsToken: SECRET }),
      refusal(URL_, { natsToken: SECRET, natsUser: "a", natsPass: SECRET }),
      refusal(URL_, { natsPass: SECRET }),
      refusal(URL_, { tlsCert: file("c.pem", PEM_CERT), tlsKey: file("k.txt", SECRET) }),
      refusal(`nats://${SECRET}@h:1`, { natsUser: "a", natsPass: "x" }),
    ];
    for (const m of messages) expect(m).not.toContain(SECRET);
  });
});

describe("redactArgs", () => {
  it("masks every --opt=value and URL credentials in commander's error text", () => {
    expect(redactArgs(`error: unknown option '--nats-pasword=${SECRET}'`)).toBe("error: unknown option '--nats-pasword=***'");
    expect(redactArgs(`error: bad nats://u:${SECRET}@h:1 and tls://${SECRET}@h:2`)).toBe("error: bad nats://u:***@h:1 and tls://***@h:2");
  });
});

describe("every command with --nats", () => {
  const sdrm3 = async (...argv: string[]) => {
    let out = "";
    let err = "";
    const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
    return { code, out, err };
  };

  it("has the connection options, and checks them before its action runs (exit 2)", async () => {
    const nats = ["--nats", "nats://127.0.0.1:1", "--require-auth"];
    const commands = [
      ["serve", "scheduler", "--scenario", "VR_gaming", "--hardware", "Dual_4K/WS_OS"],
      ["serve", "worker"],
      ["compare", "--scenarios", "VR_gaming", "--hardware", "Dual_4K/WS_OS", "--policies", "fcfs"],
      ["replay", "--run", "r1"],
      ["explain", "--run", "r1", "--at", "1"],
      ["trace", "--run", "r1"],
      ["log", "export", "--run", "r1"],
    ];
    for (const c of commands) {
      const r = await sdrm3(...c, ...nats);
      expect(r.code, `${c.join(" ")}: ${r.err}`).toBe(2);
      expect(r.err).toContain("sdrm3: --require-auth: no NATS credentials given for nats://127.0.0.1:1");
      expect(r.out).toBe("");
      const help = await sdrm3(...c.slice(0, c[0] === "serve" || c[0] === "log" ? 2 : 1), "--help");
      for (const flag of ["--nats-user", "--nats-pass", "--nats-token", "--nats-nkey", "--nats-creds", "--tls-ca", "--tls-cert", "--tls-key", "--require-auth"]) {
        expect(help.out, `${c[0]} --help`).toContain(flag);
      }
    }
  });

  it("a --nats URL that cannot name a server is bad input, exit 2 before connecting (was exit 1: 'run failed: … Invalid URL')", async () => {
    const cases: Array<[string, string]> = [
      ["nats://127.0.0.1:99999", "port 99999 is not in 1-65535"],
      ["nats://127.0.0.1:0", "port 0 is not in 1-65535"],
      ["nats://", "expected [scheme://]host[:port]"],
      ["nats://h:4222/path", "expected [scheme://]host[:port]"],
    ];
    for (const [url, why] of cases) {
      const r = await sdrm3("replay", "--run", "r1", "--nats", url);
      expect(r).toEqual({ code: 2, out: "", err: `sdrm3: --nats: '${url}' is not a server URL such as nats://127.0.0.1:4222 (${why})\n` });
    }
    // credentials in the URL are still masked in the message
    const masked = await sdrm3("replay", "--run", "r1", "--nats", `nats://a:${SECRET}@h:70000`);
    expect(masked.err).not.toContain(SECRET);
    expect(masked.code).toBe(2);
  });

  it("refuses connection options without --nats", async () => {
    const r = await sdrm3("replay", "some.jsonl", "--nats-token", SECRET);
    expect(r).toEqual({ code: 2, out: "", err: "sdrm3: --nats-token: only with --nats <url>\n" });
  });

  it("masks a mistyped secret option in commander's error", async () => {
    const r = await sdrm3("log", "export", "--nats", URL_, "--run", "r1", `--nats-pasword=${SECRET}`);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--nats-pasword=***'");
    expect(r.err).not.toContain(SECRET);
  });
});
