import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { commandFromButton } from '../../core/buttons.ts';
import type { ListenerDeps } from '../listener-deps.ts';
import { notifierOf, whoOf } from '../middleware.ts';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

/**
 * Refine n, Vary n, Reroll, Cancel, Delete. The action id is the core's button id, so a click is a command whatever
 * happened since (a restart included). New jobs go into the thread of the card that was clicked, owned by whoever
 * clicked; Cancel and Delete are checked against the job's owner by the core.
 */
export function jobButton(deps: ListenerDeps): (args: ButtonArgs) => Promise<void> {
  return async ({ ack, body, action, context }) => {
    await ack();
    const command = action.type === 'button' ? commandFromButton(action.action_id) : undefined;
    const channel = body.channel?.id;
    if (!command || !channel) {
      deps.log.warn({ action: action.action_id }, 'ignored a click on a button that is not ours');
      return;
    }
    const who = await whoOf(context);
    const message = body.message as { ts?: string; thread_ts?: string } | undefined;
    const threadTs = message?.thread_ts ?? message?.ts ?? null;
    await deps.bot.run(command, who, { channel, threadTs, notify: notifierOf(context) });
  };
}
