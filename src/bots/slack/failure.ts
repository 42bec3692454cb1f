import { scrubSecrets } from '../../logging.ts';
import { PlatformError, type PlatformFailure } from '../core/errors.ts';

/**
 * A Slack call's failure as the core's PlatformFailure, fit for a log: @slack/web-api's request errors keep the
 * underlying HTTP error, whose config holds the `Authorization: Bearer xoxb-…` header, so the original object never
 * goes further than here. `code` is Slack's own error string (`not_in_channel`, `ratelimited`…) when Slack answered,
 * else the SDK's code (`slack_webapi_request_error`…).
 */
export function slackFailure(error: unknown, secrets: readonly (string | null)[]): PlatformFailure {
  if (error instanceof PlatformError) return error.failure;
  const e = error as { message?: unknown; code?: unknown; statusCode?: unknown; data?: { error?: unknown } } | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const code = typeof e?.data?.error === 'string' ? e.data.error : typeof e?.code === 'string' ? e.code : null;
  return { code, status: typeof e?.statusCode === 'number' ? e.statusCode : null, message: scrubSecrets(message, secrets) };
}

/** The same, as an Error to throw or log. */
export const slackError = (error: unknown, secrets: readonly (string | null)[]): PlatformError => new PlatformError(slackFailure(error, secrets));
