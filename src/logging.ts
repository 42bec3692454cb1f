import { pino, type Logger } from 'pino';

export type { Logger };

/** Keys whose values never reach a log, wherever they appear. */
const SECRET_KEYS = ['token', 'botToken', 'appToken', 'signingSecret', 'authorization', 'password', 'secret'];

/**
 * The process logger. JSON lines (for log collectors) unless `pretty`, which a person at a terminal gets: the same
 * records, readable. Redaction applies to both.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, pretty = false): Logger {
  const paths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `headers["${k}"]`]);
  const options = { level, redact: { paths, censor: '[redacted]' }, base: { app: 'zimage-bot' } };
  if (pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname,app', translateTime: 'HH:MM:ss' } } });
  }
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

/** Replaces every occurrence of the given secret values in a string (error messages can quote URLs or headers). */
export function scrubSecrets(text: string, secrets: readonly (string | null | undefined)[]): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 6) out = out.split(secret).join('[redacted]');
  return out;
}
