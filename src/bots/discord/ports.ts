import { MessageFlags, type Message, type RepliableInteraction } from 'discord.js';
import type { Config } from '../../config/schema.ts';
import type { Logger } from '../../logging.ts';
import type { Locale } from '../core/command.ts';
import type { ChatPort } from '../core/flow.ts';
import type { ReplySink } from '../core/reply.ts';
import type { Runtime } from '../../runtime.ts';
import { withoutToken, withPosted, withResult, type DiscordDelivery } from './delivery.ts';
import { fetchPolicy } from './images.ts';
import { JobMessage, type ResultShown } from './job-message.ts';
import { parentLabel } from './origin.ts';
import { addVoteReactions } from './reactions.ts';
import { NO_MENTIONS, type RenderedMessage } from './render.ts';
import type { DiscordTransport, InteractionRef } from './transport.ts';

export interface PortDeps {
  readonly config: Readonly<Config>;
  readonly transport: DiscordTransport;
  readonly log: Logger;
  /** Drops a job's interaction token from the journal once it is of no more use. */
  readonly retireToken: (jobId: string) => void;
  /** Records a message the bot posted for a job. */
  readonly recordPosted: (jobId: string, messageId: string) => void;
  /** The parent job in a result's origin line: a link to the message that shows it, or plain words. */
  readonly parentLabel: (parentId: string, locale: Locale) => string;
  /** A result is out: remember its message, and offer the vote reactions on it. */
  readonly resultShown: (shown: ResultShown) => void;
}

/** The ports' needs from the runtime: where the token of a finished job goes is the core's journal. */
export function portDeps(runtime: Runtime, transport: DiscordTransport): PortDeps {
  return {
    config: runtime.config,
    transport,
    log: runtime.log,
    retireToken: (jobId) => runtime.core.updateDelivery(jobId, (data) => withoutToken(data) ?? data),
    recordPosted: (jobId, messageId) => runtime.core.updateDelivery(jobId, (data) => withPosted(data, messageId) ?? data),
    parentLabel: (parentId, locale) => parentLabel(runtime.core.history, parentId, locale),
    resultShown: (shown) => {
      // Linked first: a reaction that arrives before the journal knows the message would not be counted.
      runtime.core.team.linkMessage('discord', shown.messageId, shown.jobId);
      runtime.core.updateDelivery(shown.jobId, (data) => withResult(data, shown.messageId) ?? data);
      // Not awaited: the reactions trickle in at Discord's pace (one per quarter second) while the sink moves on.
      void addVoteReactions(transport, shown, shown.candidates, runtime.log);
    },
  };
}

const privately = (text: string): RenderedMessage => ({ content: text, files: [], components: [], ephemeral: true });
const publicly = (text: string): RenderedMessage => ({ content: text, files: [], components: [], ephemeral: false });

const refOf = (interaction: RepliableInteraction): InteractionRef => ({ applicationId: interaction.applicationId, token: interaction.token });

/** An ephemeral answer: the reply itself, or a follow-up once the interaction was deferred or answered. */
export async function replyPrivately(deps: PortDeps, interaction: RepliableInteraction, text: string): Promise<void> {
  if (interaction.deferred || interaction.replied) {
    const sent = await deps.transport.followUp(refOf(interaction), privately(text));
    if (!sent.ok) deps.log.warn({ err: sent.error }, 'could not send a private reply');
    return;
  }
  await interaction.reply({ content: text, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS });
}

/** A job's messages, wherever its delivery says they are (also for jobs recovered after a restart). */
export function jobMessageSink(deps: PortDeps, delivery: DiscordDelivery, locale: Locale): ReplySink {
  return new JobMessage({
    transport: deps.transport,
    delivery,
    locale,
    log: deps.log,
    onTokenRetired: deps.retireToken,
    onPosted: deps.recordPosted,
    parentLabel: deps.parentLabel,
    onResultShown: deps.resultShown,
  }).sink;
}

/**
 * A slash command, button or form: refusals before the deferral are ephemeral replies; the deferral (public: results
 * belong to the channel) is the job's card, and a refusal after it takes the card back and answers privately.
 */
export function interactionPort(deps: PortDeps, interaction: RepliableInteraction, locale: Locale): ChatPort<DiscordDelivery> {
  const { config, transport, log } = deps;
  const uploadLimit = interaction.attachmentSizeLimit ?? config.discord.uploadLimitBytes;
  let delivery: DiscordDelivery | undefined;
  return {
    fetchPolicy: fetchPolicy(config, Math.min(config.limits.maxInputBytes, uploadLimit)),
    refuse: (text) => replyPrivately(deps, interaction, text),
    acknowledge: async () => {
      // Only the defer's flags count, so this decides it: public.
      await interaction.deferReply();
      // The response's id lets a result still reply to it after the token has expired (or after a restart).
      const original = await transport.fetchOriginal(refOf(interaction));
      if (!original.ok) log.warn({ err: original.error }, 'could not read the deferred response');
      delivery = {
        v: 1,
        channelId: interaction.channelId ?? '',
        guildId: interaction.guildId,
        uploadLimit,
        interaction: { applicationId: interaction.applicationId, token: interaction.token, createdAt: interaction.createdTimestamp },
        replyTo: original.ok && original.value.id !== '' ? original.value.id : null,
      };
    },
    open: async () => delivery,
    retract: async (text) => {
      const removed = await transport.deleteOriginal(refOf(interaction));
      if (!removed.ok) log.warn({ err: removed.error }, 'could not remove the deferred response');
      await replyPrivately(deps, interaction, text);
    },
    sink: (opened) => jobMessageSink(deps, opened, locale),
  };
}

/**
 * "@bot …" in reply to an image. A mention has no private channel back: a refusal is a reply the channel sees, and
 * the job's card is a reply to the mention.
 */
export function mentionPort(deps: PortDeps, message: Message, locale: Locale): ChatPort<DiscordDelivery> {
  const { config, transport, log } = deps;
  const say = async (text: string): Promise<void> => {
    const sent = await transport.postMessage(message.channelId, publicly(text), message.id);
    if (!sent.ok) log.warn({ err: sent.error }, 'could not answer a mention');
  };
  return {
    fetchPolicy: fetchPolicy(config, Math.min(config.limits.maxInputBytes, config.discord.uploadLimitBytes)),
    refuse: say,
    open: async () => ({
      v: 1,
      channelId: message.channelId,
      guildId: message.guildId,
      uploadLimit: config.discord.uploadLimitBytes,
      interaction: null,
      replyTo: message.id,
    }),
    retract: say,
    sink: (delivery) => jobMessageSink(deps, delivery, locale),
  };
}
