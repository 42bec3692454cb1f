import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Role } from '../../../config/schema.ts';
import type { CommandRequest } from '../../core/command.ts';
import { errorText } from '../../core/texts.ts';
import { latestOwnImage } from '../images.ts';
import type { ListenerDeps } from '../listener-deps.ts';
import { plainFromSlack } from '../mrkdwn.ts';
import { notifyByResponse } from '../notify.ts';

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/**
 * /draft, /refine and /edit: the prompt and inline flags are the command's text (Slack slash commands carry nothing
 * else). /refine without an image refines the user's latest draft in the channel (the core finds it); /edit, which
 * cannot carry a file, edits the user's latest image in the channel.
 */
export function generateCommand(role: Role, deps: ListenerDeps): (args: CommandArgs) => Promise<void> {
  return async ({ command, ack, respond }) => {
    await ack();
    const notify = notifyByResponse(respond);
    const { dispatcher } = deps;
    await dispatcher.guard(command.user_id, notify, async () => {
      const who = await dispatcher.requester(command.user_id, command.team_id, command.channel_id, command.user_name);
      const text = plainFromSlack(command.text ?? '');
      let request: CommandRequest;
      if (role === 'edit') {
        const refusal = dispatcher.precheckEdit(text, {}, who.actor);
        if (refusal !== undefined) return dispatcher.tell({ notify }, refusal);
        const image = latestOwnImage(dispatcher.journal, { platform: who.actor.platform, userId: who.actor.userId }, command.channel_id);
        if (!image) return dispatcher.tell({ notify }, errorText(who.actor.locale, { code: 'no-image' }));
        request = { kind: 'edit', text, image };
      } else {
        request = role === 'draft' ? { kind: 'draft', text } : { kind: 'refine', text };
      }
      await dispatcher.submit(request, who, { channel: command.channel_id, threadTs: null, notify });
    });
  };
}
