import { pino, type Logger } from 'pino';

export type { Logger };

/** Keys whose values never reach a log, wherever they appear. */
const SECRET_KEYS = ['token', 'botToken', 'appToken', 'signingSecret', 'authorization', 'Authorization', 'password', 'secret'];

/**
 * Errors are logged by their own words only. HTTP clients' errors carry the failed request inside them (axios keeps
 * `config.headers.Authorization` under `original`), deeper and in other spellings than any redaction path reaches.
 */
function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) {
    const message = typeof error === 'object' && error !== null && 'message' in error ? (error as { message: unknown }).message : error;
    return { message: String(message) };
  }
  const { code, status, statusCode } = error as Error & { code?: unknown; status?: unknown; statusCode?: unknown };
  const fields: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  for (const [key, value] of Object.entries({ code, status, statusCode })) {
    if (typeof value === 'string' || typeof value === 'number') fields[key] = value;
  }
  if (error.cause !== undefined) fields.cause = serializeError(error.cause);
  return fields;
}

/**
 * The process logger. JSON lines (for log collectors) unless `pretty`, which a person at a terminal gets: the same
 * records, readable. Redaction applies to both.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, pretty = false): Logger {
  const paths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `headers["${k}"]`]);
  const options = {
    level,
    redact: { paths, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
    base: { app: 'zimage-bot' },
  };
  if (pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname,app', translateTime: 'HH:MM:ss' } } });
  }
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

/**
 * Webhook and interaction URLs carry their token in the path (`/webhooks/<id>/<token>`, `/interactions/<id>/<token>`):
 * per-request secrets nobody can list in advance.
 */
const TOKEN_IN_PATH = /\/(webhooks|interactions)\/(\d+)\/[^/\s?]+/g;

/**
 * The one scrubber for free text that may reach a log or a user (an SDK's error message quoting a URL or a header):
 * every given secret value, and every token carried in a webhook or interaction URL.
 */
export function scrubSecrets(text: string, secrets: readonly (string | null | undefined)[] = []): string {
  let out = text.replace(TOKEN_IN_PATH, '/$1/$2/[token]');
  for (const secret of secrets) if (secret && secret.length >= 6) out = out.split(secret).join('[redacted]');
  return out;
}
