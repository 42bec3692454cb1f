import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { errorText } from '../../core/texts.ts';
import { sourceFor } from '../images.ts';
import type { ListenerDeps } from '../listener-deps.ts';
import { setNotifier, slackPlace, whoOf } from '../middleware.ts';
import { plainFromSlack } from '../mrkdwn.ts';
import { notifyByEphemeral } from '../notify.ts';
import { readEditSubmission } from './edit-modal.ts';

type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/**
 * The "Edit image" modal was submitted. Bad input is answered inside the modal (it stays open); otherwise the modal
 * closes, and the edited image arrives in the thread of the message the shortcut was used on.
 */
export function editImageSubmit(deps: ListenerDeps): (args: SubmitArgs) => Promise<void> {
  return async ({ ack, body, view, client, context }) => {
    const { bot } = deps;
    const submission = readEditSubmission(view);
    if (!submission) {
      await ack();
      deps.log.warn('a submitted edit modal had no readable target');
      return;
    }
    const { target } = submission;
    const asked = await whoOf(context);
    // The modal's target is the place: the view itself carries no channel.
    const who = { ...asked, place: slackPlace(target.channel, body.team?.id ?? body.user.team_id) };
    const command = { kind: 'edit', text: plainFromSlack(submission.instruction), options: submission.region ? { region: submission.region } : {} } as const;
    const refusal = bot.refusalOf(command, who);
    if (refusal !== undefined) {
      // Shown under the instruction field; the modal stays open and nothing was queued.
      await ack({ response_action: 'errors', errors: { instruction: refusal } });
      return;
    }
    await ack();
    const notify = notifyByEphemeral(client, { channel: target.channel, user: who.actor.userId, threadTs: target.threadTs });
    setNotifier(context, notify);
    const { locale } = who.actor;
    const source = sourceFor(target.file, { history: bot.history, botUserId: bot.botUserId });
    if (!source.ok) return bot.tell(notify, errorText(locale, source.error));
    await bot.run({ ...command, image: source.value, ...(submission.candidate !== undefined ? { candidate: submission.candidate } : {}) }, who, { channel: target.channel, threadTs: target.threadTs, notify });
  };
}
