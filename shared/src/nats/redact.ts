/**
 * Secrets out of printed text. Pure (no NATS client), so the CLI can redact its error output
 * without loading the client (exported as `@sdrm3/shared/nats/redact`).
 */

/**
 * A server URL fit to print: `nats://user:secret@host` → `nats://user:***@host`,
 * `nats://token@host` → `nats://***@host`; URLs without credentials are returned unchanged.
 */
export const redactNatsUrl = (url: string): string =>
  url.replace(/^([^@/]*\/\/|)([^@/]*)@/, (_, scheme: string, info: string) => (info.includes(":") ? `${scheme}${info.slice(0, info.indexOf(":"))}:***@` : `${scheme}***@`));
