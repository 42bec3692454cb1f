import type { AddressInfo } from 'node:net';
import type { JobRecord } from '../../engine/history.ts';
import type { ResumeDecision } from '../../engine/recovery.ts';
import type { Runtime } from '../../runtime.ts';
import type { Adapter } from '../adapter.ts';
import * as actions from './actions/index.ts';
import { buildSlackApp } from './app.ts';
import { boltLogger } from './bolt-logger.ts';
import * as commands from './commands/index.ts';
import * as events from './events/index.ts';
import { slackError } from './failure.ts';
import { postBoard } from './board.ts';
import { JobCards } from './job-cards.ts';
import type { ListenerDeps } from './listener-deps.ts';
import { guard, PLATFORM, requester, whileAccepting } from './middleware.ts';
import { Permalinks } from './permalinks.ts';
import { downloadPolicy, slackSettings } from './settings.ts';
import * as shortcuts from './shortcuts/index.ts';
import { SlackBot } from './slack-bot.ts';
import { UserDirectory } from './users.ts';
import * as views from './views/index.ts';

export { SlackConfigError } from './settings.ts';

export interface SlackAdapter extends Adapter {
  readonly mode: 'http' | 'socket';
  /** HTTP mode: the port the events endpoint (`/slack/events`) listens on (SLACK_PORT, or the one 0 picked). */
  readonly port: number | null;
}

/**
 * Starts the Slack adapter over the shared runtime: checks the token (auth.test), installs the middleware (guard,
 * requester) and the listeners, and starts receiving (HTTP on SLACK_PORT, or Socket Mode when SLACK_APP_TOKEN is
 * set). Throws SlackConfigError for missing settings and a PlatformError when Slack refuses the token.
 */
export async function startSlackAdapter(runtime: Runtime): Promise<SlackAdapter> {
  const settings = slackSettings(runtime.config);
  const log = runtime.log.child({ platform: PLATFORM });
  const secrets = [settings.botToken, settings.signingSecret, settings.appToken];
  const { app, receiver } = buildSlackApp(settings, boltLogger(log, secrets));

  let botUserId: string;
  try {
    const auth = await app.client.auth.test();
    if (!auth.user_id) throw new Error('auth.test returned no user_id');
    botUserId = auth.user_id;
  } catch (error) {
    throw slackError(error, secrets);
  }

  const { core } = runtime;
  const cards = new JobCards({
    client: app.client,
    log,
    secrets,
    botUserId,
    history: core.history,
    linkMessage: (key, jobId) => core.team.linkMessage(PLATFORM, key, jobId),
    permalinks: new Permalinks(app.client, log, secrets),
  });
  const boardDeps = { client: app.client, log, secrets, upload: cards.upload.bind(cards) };
  const bot = new SlackBot({
    core,
    cards,
    log,
    secrets,
    download: downloadPolicy(settings),
    botUserId,
    postBoard: (channel, board) => postBoard(boardDeps, channel, board),
  });
  app.use(guard(log, secrets));
  app.use(requester(new UserDirectory(app.client, log, { secrets }), app.client));
  const deps: ListenerDeps = { bot, log, accepting: whileAccepting(runtime.core, log, secrets) };
  for (const listeners of [commands, actions, events, shortcuts, views]) listeners.register(app, deps);
  app.error(async (error) => {
    log.error({ err: slackError(error, secrets) }, 'unhandled error in a Slack listener');
  });

  let port: number | null = null;
  try {
    if (receiver.mode === 'http') {
      const server = await app.start(settings.host ? { port: settings.port, host: settings.host } : { port: settings.port });
      port = (server.address() as AddressInfo).port;
    } else {
      await app.start();
    }
  } catch (error) {
    // Socket Mode's failure carries the request it made, app token included: only its scrubbed words go on.
    throw slackError(error, secrets);
  }
  log.info({ mode: receiver.mode, port, bot: botUserId }, 'Slack adapter started');

  let stopping: Promise<void> | undefined;
  return {
    platform: PLATFORM,
    mode: receiver.mode,
    port,
    resume: (record: JobRecord): ResumeDecision => bot.resume(record),
    reportLost: (record: JobRecord): Promise<void> => bot.reportLost(record),
    stop(): Promise<void> {
      stopping ??= (async () => {
        await bot.drain();
        // bolt's SocketModeReceiver.stop() does not wait for the close handshake; the client's disconnect() does.
        if (receiver.mode === 'socket') await receiver.receiver.client.disconnect();
        else await app.stop();
        log.info('Slack adapter stopped');
      })();
      return stopping;
    },
  };
}
