import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Logger } from '../../logging.ts';
import type { SlackBot } from './slack-bot.ts';

/** What every listener module's `register(app, deps)` receives. */
export interface ListenerDeps {
  readonly bot: SlackBot;
  readonly log: Logger;
  /** Listener middleware for anything that starts new work: refused while the bot pauses. */
  readonly accepting: Middleware<AnyMiddlewareArgs>;
}
