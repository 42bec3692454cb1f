import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Role } from '../../../config/schema.ts';
import type { ListenerDeps } from '../listener-deps.ts';
import { notifierOf, whoOf } from '../middleware.ts';
import { plainFromSlack } from '../mrkdwn.ts';

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/**
 * /draft, /refine and /edit: the prompt and inline flags are the command's text (Slack slash commands carry nothing
 * else). Without an image, /refine refines the user's latest draft in the channel and /edit (which cannot carry a
 * file) edits the user's latest image there: the core finds them.
 */
export function generateCommand(role: Role, deps: ListenerDeps): (args: CommandArgs) => Promise<void> {
  return async ({ command, ack, context }) => {
    await ack();
    const who = await whoOf(context);
    const text = plainFromSlack(command.text ?? '');
    await deps.bot.run({ kind: role, text }, who, { channel: command.channel_id, threadTs: null, notify: notifierOf(context) });
  };
}
