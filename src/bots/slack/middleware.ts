import type { AnyMiddlewareArgs, Context, Middleware, webApi } from '@slack/bolt';
import type { Logger } from '../../logging.ts';
import type { Actor, Place, Who } from '../core/command.ts';
import type { BotCore } from '../core/core.ts';
import { INTERNAL_ERROR } from '../core/errors.ts';
import { errorText } from '../core/texts.ts';
import { slackError } from './failure.ts';
import { notifyByEphemeral, notifyByResponse, type Notifier } from './notify.ts';
import type { UserDirectory } from './users.ts';

export const PLATFORM = 'slack';

/**
 * Bolt middleware for what every listener needs: who asked (language, admin rights, name) and where, how to tell them
 * something privately, a refusal while the bot is pausing, and a guard so no failure goes unanswered. Listeners read
 * the results from `context` (whoOf, notifierOf).
 */

/** What a request says about its sender, whatever its kind. */
interface Sender {
  readonly userId: string;
  readonly teamId: string | undefined;
  readonly channel: string | undefined;
  readonly name: string | undefined;
  /** A modal must open (or answer) within 3 s of the click: the user's language may not hold it up. */
  readonly hurried: boolean;
}

type Body = Record<string, unknown> & {
  type?: string;
  user_id?: string;
  user_name?: string;
  team_id?: string;
  channel_id?: string;
  user?: { id?: string; name?: string; team_id?: string };
  team?: { id?: string } | null;
  channel?: { id?: string };
  /** A reaction event names its message's channel under `item`. */
  event?: { type?: string; user?: string; channel?: string; team?: string; thread_ts?: string; ts?: string; item?: { channel?: string } };
};

function senderOf(body: Body): Sender | undefined {
  if (body.event) {
    const { event } = body;
    const channel = event.channel ?? event.item?.channel;
    return event.user ? { userId: event.user, teamId: body.team_id ?? event.team, channel, name: undefined, hurried: false } : undefined;
  }
  if (body.user_id) return { userId: body.user_id, teamId: body.team_id, channel: body.channel_id, name: body.user_name, hurried: false };
  if (body.user?.id) {
    const hurried = body.type === 'message_action' || body.type === 'shortcut' || body.type === 'view_submission';
    return { userId: body.user.id, teamId: body.team?.id ?? body.user.team_id, channel: body.channel?.id, name: body.user.name, hurried };
  }
  return undefined;
}

/** Slack has no NSFW channel flag, so a flagged image is always withheld here. */
export function slackPlace(channel: string, teamId: string | undefined): Place {
  return { platform: PLATFORM, channelId: channel, channelIsNsfw: false, ...(teamId ? { guildId: teamId } : {}) };
}

const WHO = 'zimageWho';
const NOTIFY = 'zimageNotify';
/** A hurried request's language: English past this (a trigger_id lives 3 s). */
const HURRIED_MS = 1000;

/**
 * Starts the sender's look-up at once, without holding up the listener's ack (users.info can be slow); listeners
 * `await whoOf(context)` after acking. Also picks how to answer privately: the response_url where there is one,
 * else an ephemeral message in the channel (and thread) of the event.
 */
export function requester(users: UserDirectory, client: webApi.WebClient): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const body = args.body as Body;
    const sender = senderOf(body);
    if (sender) {
      const user = sender.hurried ? users.within(sender.userId, HURRIED_MS) : users.get(sender.userId);
      args.context[WHO] = user.then((found): Who => {
        const name = found.name ?? sender.name;
        // Slack has no per-channel admin role the bot can read: workspace admins and owners configure channels.
        const actor: Actor = { platform: PLATFORM, userId: sender.userId, locale: found.locale, isAdmin: found.isAdmin, canConfigure: found.isAdmin, ...(name ? { name } : {}) };
        return { actor, place: slackPlace(sender.channel ?? '', sender.teamId) };
      });
      const respond = 'respond' in args && typeof args.respond === 'function' ? args.respond : undefined;
      if (respond && (body.response_url || body.response_urls)) args.context[NOTIFY] = notifyByResponse(respond);
      else if (sender.channel) args.context[NOTIFY] = notifyByEphemeral(client, { channel: sender.channel, user: sender.userId, threadTs: body.event?.thread_ts ?? null });
    }
    await args.next();
  };
}

/** Who asked, once known (started by `requester`). */
export function whoOf(context: Context): Promise<Who> {
  const who = context[WHO] as Promise<Who> | undefined;
  if (!who) throw new Error('no requester on this request: is the requester middleware registered?');
  return who;
}

/** How to tell the asker privately; a listener that learns a better place (a modal's target channel) sets it. */
export function notifierOf(context: Context): Notifier | undefined {
  return context[NOTIFY] as Notifier | undefined;
}

export function setNotifier(context: Context, notify: Notifier): void {
  context[NOTIFY] = notify;
}

/** Says something privately; a failure to say it is logged, never thrown back into a listener. */
export async function tell(notify: Notifier | undefined, text: string, log: Logger, secrets: readonly (string | null)[]): Promise<void> {
  if (!notify) return;
  try {
    await notify(text);
  } catch (error) {
    log.warn({ err: slackError(error, secrets) }, 'could not send an ephemeral reply');
  }
}

/** Registered first: anything a listener throws is logged (scrubbed) and the asker told, so no click goes unanswered. */
export function guard(log: Logger, secrets: readonly (string | null)[]): Middleware<AnyMiddlewareArgs> {
  return async ({ context, next }) => {
    try {
      await next();
    } catch (error) {
      log.error({ err: slackError(error, secrets) }, 'Slack listener failed');
      const who = context[WHO] as Promise<Who> | undefined;
      const locale = who ? (await who).actor.locale : 'en';
      await tell(notifierOf(context), errorText(locale, INTERNAL_ERROR), log, secrets);
    }
  };
}

/** For listeners that start new work (commands, mentions, the edit shortcut): while the bot pauses, say so and stop. */
export function whileAccepting(core: BotCore, log: Logger, secrets: readonly (string | null)[]): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    if (!core.paused) return args.next();
    if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
    const { actor } = await whoOf(args.context);
    await tell(notifierOf(args.context), errorText(actor.locale, { code: 'shutting-down', message: 'paused' }), log, secrets);
  };
}
