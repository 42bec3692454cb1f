import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.ts';
import { notifierOf, whoOf } from '../middleware.ts';
import { plainFromSlack } from '../mrkdwn.ts';

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/** `/board [--since 2h|7d]`: the channel's most voted candidates, posted where the command was run. */
export function boardCommand(deps: ListenerDeps): (args: CommandArgs) => Promise<void> {
  return async ({ command, ack, context }) => {
    await ack();
    await deps.bot.board(await whoOf(context), plainFromSlack(command.text ?? ''), notifierOf(context));
  };
}
