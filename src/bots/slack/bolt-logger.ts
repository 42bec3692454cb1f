import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import { scrubSecrets, type Logger } from '../../logging.ts';

/**
 * Bolt's and the Web API client's log lines, through the runtime's pino logger. Their arguments are flattened to
 * one scrubbed string: the SDK's errors can carry request headers, so no object of theirs reaches pino as is.
 */
export function boltLogger(log: Logger, secrets: readonly (string | null)[]): BoltLogger {
  const line = (parts: unknown[]): string =>
    scrubSecrets(parts.map((p) => (p instanceof Error ? `${p.name}: ${p.message}` : typeof p === 'string' ? p : safeJson(p))).join(' '), secrets);
  return {
    debug: (...msg: unknown[]) => log.debug(line(msg)),
    info: (...msg: unknown[]) => log.info(line(msg)),
    warn: (...msg: unknown[]) => log.warn(line(msg)),
    error: (...msg: unknown[]) => log.error(line(msg)),
    // The runtime's LOG_LEVEL decides what is written; bolt only asks.
    setLevel: () => undefined,
    getLevel: () => (log.isLevelEnabled('debug') ? LogLevel.DEBUG : log.isLevelEnabled('info') ? LogLevel.INFO : log.isLevelEnabled('warn') ? LogLevel.WARN : LogLevel.ERROR),
    setName: () => undefined,
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
