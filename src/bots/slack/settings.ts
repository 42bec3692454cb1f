import type { Config } from '../../config/schema.ts';
import type { FetchPolicy } from '../core/attachments.ts';

/** The Slack adapter's settings, checked once: which mode, and that the secrets that mode needs are there. */
export interface SlackSettings {
  readonly mode: 'http' | 'socket';
  readonly botToken: string;
  /** HTTP mode only (Socket Mode messages are not signed). */
  readonly signingSecret: string | null;
  readonly appToken: string | null;
  readonly apiUrl: string;
  readonly port: number;
  readonly host: string | null;
  readonly apiRetries: number;
  readonly fileHosts: readonly string[];
  readonly maxInputBytes: number;
}

export type SlackConfigErrorCode = 'missing-bot-token' | 'missing-signing-secret' | 'bad-app-token';

export class SlackConfigError extends Error {
  override readonly name = 'SlackConfigError';
  constructor(
    readonly code: SlackConfigErrorCode,
    /** The setting to fix. */
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

export function slackSettings(config: Readonly<Config>): SlackSettings {
  const slack = config.slack;
  if (!slack.botToken) throw new SlackConfigError('missing-bot-token', 'slack.botToken', 'Set SLACK_BOT_TOKEN (slack.botToken) to the bot token (xoxb-…) to run the Slack adapter.');
  const mode = slack.appToken ? 'socket' : 'http';
  if (slack.appToken && !slack.appToken.startsWith('xapp-')) {
    throw new SlackConfigError('bad-app-token', 'slack.appToken', 'SLACK_APP_TOKEN (slack.appToken) must be an app-level token (xapp-…) with the connections:write scope.');
  }
  if (mode === 'http' && !slack.signingSecret) {
    throw new SlackConfigError('missing-signing-secret', 'slack.signingSecret', 'HTTP mode needs SLACK_SIGNING_SECRET (slack.signingSecret); or set SLACK_APP_TOKEN for Socket Mode.');
  }
  return {
    mode,
    botToken: slack.botToken,
    signingSecret: slack.signingSecret,
    appToken: slack.appToken,
    apiUrl: slack.apiUrl.endsWith('/') ? slack.apiUrl : `${slack.apiUrl}/`,
    port: slack.port,
    host: slack.host,
    apiRetries: slack.apiRetries,
    fileHosts: slack.fileHosts,
    maxInputBytes: config.limits.maxInputBytes,
  };
}

/** Where users' images may be downloaded from: Slack's file hosts plus SLACK_API_URL's host, the bot token as a bearer. */
export function downloadPolicy(settings: SlackSettings): FetchPolicy {
  const api = new URL(settings.apiUrl);
  return {
    allowedHosts: [...settings.fileHosts, api.hostname],
    insecureHosts: api.protocol === 'http:' ? [api.hostname] : [],
    maxBytes: settings.maxInputBytes,
    headers: { Authorization: `Bearer ${settings.botToken}` },
  };
}
