/**
 * NATS implementation of the Bus port (core NATS: at-most-once pub/sub, queue groups,
 * request/reply). This package is the only place that imports @nats-io/*.
 *
 * - Strings in, strings out: payloads are encoded to UTF-8 bytes here and decoded with `msg.string()`.
 * - Subjects are validated with the same rules as the memory bus (../runtime/bus) before reaching
 *   the client, so both buses refuse the same subjects.
 * - Payload limit: min(server `max_payload` from INFO, the optional `maxPayload` option). It is
 *   checked before sending (with the exact UTF-8 size), and the client's own "max_payload size
 *   exceeded" error is mapped to PayloadTooLargeError as a safety net.
 * - Client errors are mapped to the tagged bus errors (timeout, no responders, closed/draining).
 * - Handler exceptions are caught (a throw inside a NATS callback would unwind into the protocol
 *   parser), counted and reported to `onError`, as are asynchronous server errors.
 * - Reconnects forever (`maxReconnectAttempts: -1`). `close()` drains the connection (bounded by
 *   `drainTimeoutMs`, then closes hard).
 * - Authentication: user/password, token, NKey seed or creds file (user JWT + seed), at most one;
 *   TLS with PEM contents (CA, client certificate and key). Connect errors never contain a
 *   password, token, seed or key; credentials in a server URL are masked (`redactNatsUrl`).
 *
 * `nc` exposes the underlying NatsConnection for JetStream / KV users.
 */

import { isIP } from "node:net";
import { connect, createInbox, credsAuthenticator, errors as natsErrors, nkeyAuthenticator, nkeys } from "@nats-io/transport-node";
import type { ConnectionOptions, Msg, NatsConnection, Subscription as NatsSubscription } from "@nats-io/transport-node";
import {
  BusClosedError,
  BusNoRespondersError,
  BusTimeoutError,
  DEFAULT_REQUEST_TIMEOUT_MS,
  PayloadTooLargeError,
  checkPayloadSize,
  checkPublishSubject,
  checkSubscribeSubject,
  consoleBusErrorHandler,
  reportBusError,
  textOf,
  utf8ByteLength,
} from "../runtime/bus";
import { redactNatsUrl } from "./redact";
import type { Bus, BusErrorHandler, BusMsg, Payload, RequestOptions, SubscribeOptions, Subscription } from "../runtime/bus";
import { type FailureKind, Sdrm3Error, errorMessage } from "../contracts/errors";

export { redactNatsUrl };

export interface NatsBusOptions {
  /** `host:port`, `nats://host:port`, or a list of them. */
  readonly servers: string | ReadonlyArray<string>;
  readonly user?: string;
  readonly pass?: string;
  /** Token authentication. */
  readonly token?: string;
  /** NKey authentication: the user's seed (`SU…`); the client signs the server's nonce with it. */
  readonly nkeySeed?: string;
  /** JWT authentication: the contents of a `.creds` file (user JWT and NKey seed). */
  readonly creds?: string;
  /** TLS (PEM contents); when set, the connection must be TLS. `cert` and `key` go together. */
  readonly tls?: NatsTlsOptions;
  /** Connection name shown by the server (monitoring, `nats server report connections`). */
  readonly name?: string;
  /** Optional client-side cap on payload size (bytes); the server's `max_payload` always applies too. */
  readonly maxPayload?: number;
  /** Receives handler exceptions and asynchronous transport errors. Default: {@link consoleBusErrorHandler}. */
  readonly onError?: BusErrorHandler;
  /** How long `close()` waits for the drain before closing hard. Default 5000 ms. */
  readonly drainTimeoutMs?: number;
  /** How long the first connection may take before `connectNatsBus` rejects. Default: the client's (20 s). */
  readonly connectTimeoutMs?: number;
  /** Where replies to this connection's requests arrive (default `_INBOX`); see `Subjects.inboxPrefix`. */
  readonly inboxPrefix?: string;
}

export interface NatsTlsOptions {
  /** CA certificate(s) that sign the server's certificate (default: the system's). */
  readonly ca?: string;
  /** Client certificate, for servers that verify clients. */
  readonly cert?: string;
  readonly key?: string;
}

/**
 * The first connection failed: refused, timed out, or authorization failed (`kind`). The message
 * names the server(s) (credentials in a URL are masked) and never includes a password.
 */
export class NatsConnectError extends Sdrm3Error {
  readonly _tag = "NatsConnectError";
  constructor(
    readonly kind: "refused" | "timeout" | "authorization" | "other",
    readonly servers: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** Refused or timed out: the server may come up; authorization (or another failure) fails again as it is. */
  get failure(): FailureKind {
    return this.kind === "refused" || this.kind === "timeout" ? "retryable" : "terminal";
  }
}

/** The public key of an NKey seed (`SU…` → `U…`); throws when `seed` is not a valid seed. */
export const nkeyPublicKey = (seed: string): string => nkeys.fromSeed(new TextEncoder().encode(seed.trim())).getPublicKey();

/** The user's seed in a `.creds` file (the second armored block); undefined when there is none. */
const credsSeed = (creds: string): string | undefined =>
  [...creds.matchAll(/-{3,}[^\n]*-{3,}\r?\n([^\n]+)\r?\n\s*-{3,}[^\n]*-{3,}/g)].map((m) => m[1]!.trim())[1];

/** The public key of a `.creds` file's user; throws when the file has no valid JWT and seed blocks. */
export const credsPublicKey = (creds: string): string => {
  const seed = credsSeed(creds);
  if (seed === undefined) throw new Error("expected a user JWT block and an NKey seed block (-----BEGIN NATS USER JWT----- …)");
  return nkeyPublicKey(seed);
};

/** What the connection presented, for messages: never the secret itself. */
const presented = (opts: NatsBusOptions): string => {
  const publicKey = (f: () => string): string => {
    try {
      return ` ${f()}`;
    } catch {
      return "";
    }
  };
  if (opts.user !== undefined) return `user '${opts.user}'; check NATS_USER / NATS_PASS (--nats-user / --nats-pass)`;
  if (opts.token !== undefined) return "a token (not shown); check NATS_TOKEN (--nats-token)";
  if (opts.nkeySeed !== undefined) return `NKey${publicKey(() => nkeyPublicKey(opts.nkeySeed!))}; check NATS_NKEY (--nats-nkey)`;
  if (opts.creds !== undefined) return `creds file of user${publicKey(() => credsPublicKey(opts.creds!))}; check NATS_CREDS (--nats-creds)`;
  return "no credentials given; set NATS_USER / NATS_PASS, NATS_TOKEN, NATS_NKEY or NATS_CREDS (or the --nats-* flags)";
};

/** `text` with every secret of `opts` replaced by `***` (a client message should never hold one; this makes sure). */
const scrub = (text: string, opts: NatsBusOptions): string => {
  let out = text;
  for (const secret of [opts.pass, opts.token, opts.nkeySeed, opts.tls?.key]) {
    if (secret !== undefined && secret.trim() !== "") out = out.split(secret.trim()).join("***");
  }
  return out;
};

const connectError = (error: unknown, opts: NatsBusOptions, timeoutMs: number): NatsConnectError => {
  const servers = (typeof opts.servers === "string" ? [opts.servers] : [...opts.servers]).map(redactNatsUrl).join(", ");
  const cause = { cause: error };
  if (error instanceof natsErrors.AuthorizationError || (error instanceof Error && /authoriz/i.test(error.message))) {
    return new NatsConnectError("authorization", servers, `NATS authorization failed at ${servers}: ${presented(opts)}`, cause);
  }
  if (error instanceof natsErrors.TimeoutError) {
    // a TLS server that requires client certificates closes the connection after the handshake: the client only sees silence
    const hint = opts.tls !== undefined && opts.tls.cert === undefined ? "; if the server verifies clients, give a client certificate (--tls-cert / --tls-key)" : "";
    return new NatsConnectError("timeout", servers, `cannot connect to NATS at ${servers}: no answer within ${timeoutMs} ms (connect timeout)${hint}`, cause);
  }
  const reason = scrub(errorMessage(error), opts);
  const kind = /refused/i.test(reason) ? "refused" : "other";
  const hint = /certificate|self.signed|altname/i.test(reason) ? " (TLS: give the CA that signed the server's certificate with --tls-ca / NATS_CA; the certificate must name the host or IP address dialled)" : "";
  return new NatsConnectError(kind, servers, `cannot connect to NATS at ${servers}: ${reason}${hint}`, cause);
};

export interface NatsBus extends Bus {
  readonly kind: "nats";
  /** The underlying connection, for JetStream / KV. Do not close it directly: use `close()`. */
  readonly nc: NatsConnection;
  /** Effective payload limit right now: min(server max_payload, `maxPayload` option). */
  readonly maxPayload: number;
  /** Number of handler exceptions caught so far. */
  readonly handlerErrors: number;
}

const isMaxPayloadError = (error: unknown): boolean =>
  error instanceof Error && /max_payload/i.test(error.message);

const isClosedError = (error: unknown): boolean =>
  error instanceof natsErrors.ClosedConnectionError || error instanceof natsErrors.DrainingConnectionError;

/**
 * The client's TLS options. The client verifies the server's certificate against the name it
 * dialled, except for an IP address, where it checks the name `localhost` instead; with a single
 * server given by IP address, its address is verified (the certificate needs it as an IP SAN).
 */
const tlsOptions = (opts: NatsBusOptions): NonNullable<ConnectionOptions["tls"]> => {
  const servers = typeof opts.servers === "string" ? [opts.servers] : opts.servers;
  const host = servers.length === 1 ? /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/i.exec(servers[0]!.trim())?.[1] : undefined;
  const ip = host === undefined ? undefined : host.replace(/^\[(.*)\]$/, "$1");
  // `host` is passed through to tls.connect, which then checks the certificate against it
  return { ...opts.tls, ...(ip !== undefined && isIP(ip) !== 0 ? ({ host: ip } as object) : {}) };
};

const authenticator = (opts: NatsBusOptions): Pick<ConnectionOptions, "authenticator"> => {
  if (opts.nkeySeed !== undefined) return { authenticator: nkeyAuthenticator(new TextEncoder().encode(opts.nkeySeed.trim())) };
  if (opts.creds !== undefined) return { authenticator: credsAuthenticator(new TextEncoder().encode(opts.creds)) };
  return {};
};

/** How long `publishSoon` may hold a message (ms). */
export const HOLD_MS = 5;

export const connectNatsBus = async (opts: NatsBusOptions): Promise<NatsBus> => {
  const onError = opts.onError ?? consoleBusErrorHandler;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 5_000;
  const connectOpts: ConnectionOptions = {
    servers: typeof opts.servers === "string" ? opts.servers : [...opts.servers],
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // no stack-trace Error per request (6.4% of a NATS scheduler's CPU, docs/performance.md); errors keep their message
    noAsyncTraces: true,
    ...(opts.inboxPrefix === undefined ? {} : { inboxPrefix: opts.inboxPrefix }),
    ...(opts.user === undefined ? {} : { user: opts.user }),
    ...(opts.pass === undefined ? {} : { pass: opts.pass }),
    ...(opts.token === undefined ? {} : { token: opts.token }),
    ...authenticator(opts),
    ...(opts.tls === undefined ? {} : { tls: tlsOptions(opts) }),
    ...(opts.name === undefined ? {} : { name: opts.name }),
    ...(opts.connectTimeoutMs === undefined ? {} : { timeout: opts.connectTimeoutMs }),
  };
  let nc: NatsConnection;
  try {
    nc = await connect(connectOpts);
  } catch (error) {
    throw connectError(error, opts, opts.connectTimeoutMs ?? 20_000);
  }

  let handlerErrors = 0;
  let closing = false;
  let closePromise: Promise<void> | undefined;

  void (async (): Promise<void> => {
    for await (const s of nc.status()) {
      if (s.type === "error") reportBusError(onError, s.error, { kind: "transport", subject: undefined });
      else if (s.type === "slowConsumer") {
        reportBusError(onError, new Error(`slow consumer: ${s.pending} messages pending`), {
          kind: "transport",
          subject: s.sub.getSubject(),
        });
      }
    }
  })().catch(() => {
    // the status iterator ends when the connection closes
  });

  const limit = (): number => {
    const server = nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
    return Math.min(server, opts.maxPayload ?? Number.POSITIVE_INFINITY);
  };

  /** Maps a client error raised while sending to `subject` with `data`. */
  const mapSendError = (error: unknown, subject: string, data: string): unknown => {
    if (isClosedError(error)) return new BusClosedError();
    if (isMaxPayloadError(error)) {
      return new PayloadTooLargeError({ subject, bytes: utf8ByteLength(data), limit: limit() });
    }
    return error;
  };

  const ensureOpen = (): void => {
    if (closing || nc.isClosed()) throw new BusClosedError();
  };

  // Subjects this bus already checked (the run's subjects, used again and again); reply inboxes are
  // checked each time (each is new). Cleared when it grows past a bound.
  const checked = new Set<string>();
  const checkSubject = (subject: string): void => {
    if (checked.has(subject)) return;
    checkPublishSubject(subject);
    if (checked.size >= 4096) checked.clear();
    checked.add(subject);
  };

  // Messages published with `publishSoon` (observers' events), held until this bus next sends
  // anything, `flush`es or closes, or HOLD_MS pass: a step's events leave in the same socket write
  // as the next dispatch, in order with it.
  const held: Array<readonly [string, string]> = [];
  let heldTimer: ReturnType<typeof setTimeout> | undefined;
  const releaseHeld = (): void => {
    clearTimeout(heldTimer);
    heldTimer = undefined;
    for (const [subject, data] of held.splice(0)) {
      try {
        nc.publish(subject, data);
      } catch (error) {
        reportBusError(onError, mapSendError(error, subject, data), { kind: "transport", subject });
      }
    }
  };

  /**
   * A message's text once it may go out: allowed while `close()` drains (handlers may answer),
   * refused once closed; subject and size checked (`inbox`: a reply subject, new each time, not kept).
   */
  const outgoing = (subject: string, payload: Payload, inbox = false): string => {
    if (nc.isClosed()) throw new BusClosedError();
    const data = textOf(payload);
    if (inbox) checkPublishSubject(subject);
    else checkSubject(subject);
    checkPayloadSize(subject, data, limit());
    return data;
  };

  /** Publishes (after what `publishSoon` holds). */
  const send = (subject: string, payload: Payload, inbox = false): void => {
    const data = outgoing(subject, payload, inbox);
    if (held.length > 0) releaseHeld();
    try {
      nc.publish(subject, data);
    } catch (error) {
      throw mapSendError(error, subject, data);
    }
  };

  const publishSoon = (subject: string, payload: Payload): void => {
    held.push([subject, outgoing(subject, payload)]);
    heldTimer ??= setTimeout(releaseHeld, HOLD_MS);
  };

  const toBusMsg = (m: Msg): BusMsg => {
    const reply = m.reply === undefined || m.reply === "" ? undefined : m.reply;
    return {
      subject: m.subject,
      data: m.string(),
      reply,
      respond: (response: Payload): boolean => {
        if (reply === undefined) return false;
        send(reply, response, true);
        return true;
      },
    };
  };

  const subscribe = (
    subject: string,
    handler: (msg: BusMsg) => void,
    subOpts: SubscribeOptions = {},
  ): Subscription => {
    ensureOpen();
    checkSubscribeSubject(subject);
    let sub: NatsSubscription;
    try {
      sub = nc.subscribe(subject, {
        ...(subOpts.queue === undefined ? {} : { queue: subOpts.queue }),
        callback: (err, m) => {
          if (err !== null) {
            reportBusError(onError, err, { kind: "transport", subject });
            return;
          }
          try {
            handler(toBusMsg(m));
          } catch (error) {
            handlerErrors++;
            reportBusError(onError, error, { kind: "handler", subject: m.subject });
          }
        },
      });
    } catch (error) {
      throw isClosedError(error) ? new BusClosedError() : error;
    }
    return {
      subject,
      unsubscribe: (): void => {
        if (!sub.isClosed()) sub.unsubscribe();
      },
    };
  };

  // Requests share one reply subscription and settle by token (`<inbox>.<n>`): the client's own
  // request builds a random token, a timeout promise and, when it ends, an Error per request (≈ 5 %
  // of a NATS scheduler's CPU, docs/performance.md). A reply after the timeout finds no one waiting.
  type Waiting = { readonly subject: string; readonly onReply: (m: BusMsg) => void; readonly onError: (e: unknown) => void; readonly timer: ReturnType<typeof setTimeout> };
  const waiting = new Map<string, Waiting>();
  let inbox: string | undefined;
  let nextToken = 0;
  const replyInbox = (): string => {
    if (inbox !== undefined) return inbox;
    const prefix = createInbox(opts.inboxPrefix);
    nc.subscribe(`${prefix}.*`, {
      callback: (err, m) => {
        if (err !== null) return reportBusError(onError, err, { kind: "transport", subject: prefix });
        const token = m.subject.slice(prefix.length + 1);
        const w = waiting.get(token);
        if (w === undefined) return;
        waiting.delete(token);
        clearTimeout(w.timer);
        // the server's "no responders" status: an empty message with code 503
        try {
          if (m.data.length === 0 && m.headers?.code === 503) w.onError(new BusNoRespondersError({ subject: w.subject }));
          else w.onReply(toBusMsg(m));
        } catch (error) {
          handlerErrors++;
          reportBusError(onError, error, { kind: "handler", subject: w.subject });
        }
      },
    });
    return (inbox = prefix);
  };
  void nc.closed().then(() => {
    for (const [token, w] of waiting) {
      waiting.delete(token);
      clearTimeout(w.timer);
      w.onError(new BusClosedError());
    }
  });

  const requestWith = (subject: string, payload: Payload, reqOpts: RequestOptions, onReply: (m: BusMsg) => void, onFail: (e: unknown) => void): void => {
    const data = textOf(payload);
    const timeoutMs = reqOpts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    try {
      ensureOpen();
      checkSubject(subject);
      checkPayloadSize(subject, data, limit());
    } catch (error) {
      onFail(error);
      return;
    }
    const token = (nextToken++).toString(36);
    const reply = `${replyInbox()}.${token}`;
    const timer = setTimeout(() => {
      if (waiting.delete(token)) onFail(new BusTimeoutError({ subject, timeoutMs }));
    }, timeoutMs);
    waiting.set(token, { subject, onReply, onError: onFail, timer });
    if (held.length > 0) releaseHeld();
    try {
      nc.publish(subject, data, { reply });
    } catch (error) {
      waiting.delete(token);
      clearTimeout(timer);
      onFail(mapSendError(error, subject, data));
    }
  };

  const request = (subject: string, payload: Payload, reqOpts: RequestOptions = {}): Promise<BusMsg> =>
    new Promise((resolve, reject) => requestWith(subject, payload, reqOpts, resolve, reject));

  const flush = async (): Promise<void> => {
    releaseHeld();
    try {
      await nc.flush();
    } catch (error) {
      throw isClosedError(error) ? new BusClosedError() : error;
    }
  };

  const close = (): Promise<void> => {
    if (closePromise !== undefined) return closePromise;
    closing = true;
    releaseHeld();
    closePromise = (async (): Promise<void> => {
      if (nc.isClosed()) return;
      // Drain, but never fail or hang: a drain needs the server, and we reconnect forever.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gaveUp = new Promise<Error>((resolve) => {
        timer = setTimeout(() => resolve(new Error(`drain did not finish within ${drainTimeoutMs} ms`)), drainTimeoutMs);
      });
      const drained = nc.drain().then(
        () => undefined,
        (error: unknown) => (isClosedError(error) ? undefined : error),
      );
      const problem = await Promise.race([drained, gaveUp]);
      clearTimeout(timer);
      if (problem !== undefined && !nc.isClosed()) {
        reportBusError(onError, problem, { kind: "transport", subject: undefined });
        await nc.close().catch(() => undefined);
      }
    })();
    return closePromise;
  };

  return {
    kind: "nats",
    nc,
    get maxPayload() {
      return limit();
    },
    get handlerErrors() {
      return handlerErrors;
    },
    publish: (subject, payload) => send(subject, payload),
    publishSoon,
    subscribe,
    request,
    requestWith,
    flush,
    close,
  };
};
