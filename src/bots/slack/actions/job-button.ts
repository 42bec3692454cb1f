import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { commandFromButton } from '../../core/buttons.ts';
import type { ListenerDeps } from '../listener-deps.ts';
import { notifierOf, whoOf } from '../middleware.ts';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

/**
 * Refine n, Vary n, Reroll, Cancel, Delete, from a button or the result's menu. The action id is the core's button id, so a click is a command whatever
 * happened since (a restart included). New jobs go into the thread of the card that was clicked, owned by whoever
 * clicked; Cancel and Delete are checked against the job's owner by the core.
 */
export function jobButton(deps: ListenerDeps): (args: ButtonArgs) => Promise<void> {
  return async ({ ack, body, action, context }) => {
    await ack();
    // A button carries its id; the result's menu carries the chosen option's, which is the id a button would have.
    const id = action.type === 'button' ? action.action_id : action.type === 'static_select' ? action.selected_option.value : '';
    const command = commandFromButton(id);
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
