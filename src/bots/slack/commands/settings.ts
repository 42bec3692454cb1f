import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.ts';
import { notifierOf, whoOf } from '../middleware.ts';
import { plainFromSlack } from '../mrkdwn.ts';

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/**
 * `/settings [channel|me --count … --ar … --style … --others on|off --policy block|spoiler]`: nothing shows them;
 * the answer is ephemeral (through the command's response_url).
 */
export function settingsCommand(deps: ListenerDeps): (args: CommandArgs) => Promise<void> {
  return async ({ command, ack, context }) => {
    await ack();
    await deps.bot.settings(await whoOf(context), plainFromSlack(command.text ?? ''), notifierOf(context));
  };
}
