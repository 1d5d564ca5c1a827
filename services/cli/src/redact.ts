/** Commander's error output without secrets (loaded by every command; no NATS client). */
import { redactNatsUrl } from "@sdrm3/shared/nats/redact";

/**
 * Commander's error text with every `--opt=value` value and URL credentials masked: it echoes an
 * unknown option whole, and a mistyped `--nats-pasword=…` must not print the password.
 */
export const redactArgs = (text: string): string =>
  text
    .replace(/(--[\w-]+=)[^\s'"]+/g, "$1***")
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^@/\s'"]*)@/gi, (_, scheme: string, info: string) => redactNatsUrl(`${scheme}${info}@`));
