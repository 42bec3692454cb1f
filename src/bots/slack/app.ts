import { App, HTTPReceiver, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { SlackSettings } from './settings.ts';

export type SlackReceiver = { readonly mode: 'http'; readonly receiver: HTTPReceiver } | { readonly mode: 'socket'; readonly receiver: SocketModeReceiver };

/**
 * Builds the bolt App over the receiver the settings call for: HTTP with signature verification, or Socket Mode when
 * an app token is set. SLACK_API_URL points every Web API client (the bot's, and Socket Mode's
 * apps.connections.open) at Slack or at a proxy.
 */
export function buildSlackApp(settings: SlackSettings, logger: BoltLogger): { app: App; receiver: SlackReceiver } {
  const clientOptions = { slackApiUrl: settings.apiUrl, retryConfig: { retries: settings.apiRetries } };
  const receiver: SlackReceiver =
    settings.mode === 'socket'
      ? { mode: 'socket', receiver: new SocketModeReceiver({ appToken: settings.appToken!, logger, installerOptions: { clientOptions } }) }
      : { mode: 'http', receiver: new HTTPReceiver({ signingSecret: settings.signingSecret!, endpoints: '/slack/events', logger, processBeforeResponse: false }) };
  const app = new App({
    token: settings.botToken,
    receiver: receiver.receiver,
    logger,
    clientOptions,
    // The job journal is the bot's state; bolt's conversation store would only grow.
    convoStore: false,
    ignoreSelf: true,
  });
  return { app, receiver };
}
