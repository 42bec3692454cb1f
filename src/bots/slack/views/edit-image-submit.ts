import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { errorText, text as sentence } from '../../core/texts.ts';
import { PLATFORM } from '../dispatcher.ts';
import { sourceFor } from '../images.ts';
import type { ListenerDeps } from '../listener-deps.ts';
import { plainFromSlack } from '../mrkdwn.ts';
import { notifyByEphemeral } from '../notify.ts';
import { readEditSubmission } from './edit-modal.ts';

type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/** Slack waits 3 s for the answer to a submission; the user's language is usually cached by then. */
const LOCALE_DEADLINE_MS = 1000;

/**
 * The "Edit image" modal was submitted. Bad input is answered inside the modal (it stays open); otherwise the modal
 * closes, and the edited image arrives in the thread of the message the shortcut was used on.
 */
export function editImageSubmit(deps: ListenerDeps): (args: SubmitArgs) => Promise<void> {
  return async ({ ack, body, view, client }) => {
    const { dispatcher } = deps;
    const submission = readEditSubmission(view);
    if (!submission) {
      await ack();
      deps.log.warn('a submitted edit modal had no readable target');
      return;
    }
    const user = body.user.id;
    const text = plainFromSlack(submission.instruction);
    const options = submission.region ? { region: submission.region } : {};
    const locale = await dispatcher.localeWithin(user, LOCALE_DEADLINE_MS);
    const refusal = dispatcher.precheckEdit(text, options, { platform: PLATFORM, userId: user, locale });
    if (refusal !== undefined) {
      // Shown under the instruction field; the modal stays open and nothing was queued.
      await ack({ response_action: 'errors', errors: { instruction: refusal } });
      return;
    }
    await ack();
    const { target } = submission;
    const notify = notifyByEphemeral(client, { channel: target.channel, user, threadTs: target.threadTs });
    await dispatcher.guard(user, notify, async () => {
      const who = await dispatcher.requester(user, body.team?.id ?? body.user.team_id, target.channel, body.user.name);
      const source = await sourceFor(target.file, {
        journal: dispatcher.journal,
        botUserId: dispatcher.botUserId,
        policy: deps.download,
        ...(submission.candidate !== undefined ? { candidate: submission.candidate } : {}),
      });
      if (!source.ok) return dispatcher.tell({ notify }, 'pick' in source ? sentence(who.actor.locale, 'slack.pick-candidate') : errorText(who.actor.locale, source.error));
      await dispatcher.submit({ kind: 'edit', text, options, image: source.source }, who, { channel: target.channel, threadTs: target.threadTs, notify });
    });
  };
}
