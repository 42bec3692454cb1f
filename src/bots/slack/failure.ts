import { scrubSecrets } from '../../logging.ts';

/**
 * A Slack call's failure, fit for a log: @slack/web-api's request errors keep the underlying HTTP error, whose config
 * holds the `Authorization: Bearer xoxb-…` header, so the original object never reaches the logger.
 */
export class SlackCallError extends Error {
  override readonly name = 'SlackCallError';
  constructor(
    message: string,
    /** The SDK's error code (`slack_webapi_platform_error`, …). */
    readonly code: string | undefined,
    /** Slack's own error string (`not_in_channel`, `ratelimited`, …) when Slack answered. */
    readonly slackError: string | undefined,
  ) {
    super(message);
  }
}

export function safeError(error: unknown, secrets: readonly (string | null)[]): SlackCallError {
  if (error instanceof SlackCallError) return error;
  const e = error as { message?: unknown; code?: unknown; data?: { error?: unknown } } | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const slackError = typeof e?.data?.error === 'string' ? e.data.error : undefined;
  return new SlackCallError(scrubSecrets(message, secrets), code, slackError);
}
