import type {
  ButtonInteraction,
  Interaction,
  Message,
  MessageReaction,
  PartialMessageReaction,
  PartialUser,
  RepliableInteraction,
  StringSelectMenuInteraction,
  User,
} from 'discord.js';
import type { Runtime } from '../../runtime.ts';
import { isMenuId } from '../core/buttons.ts';
import { INTERNAL_ERROR, PlatformError } from '../core/errors.ts';
import type { Reply } from '../core/reply.ts';
import { runCommand, runDescribe } from '../core/flow.ts';
import { errorText } from '../core/texts.ts';
import type { CommandModule } from './commands/index.ts';
import { handleEditForm, isEditFormId } from './components/edit-form.ts';
import { handleJobButton, isJobButtonId } from './components/job-buttons.ts';
import { deliveryOf, messagesOf } from './delivery.ts';
import type { EditForms } from './edit-forms.ts';
import { handleMention } from './events/mention-edit.ts';
import { voteOfReaction } from './events/reaction-vote.ts';
import type { HandlerContext, Intent, OwnerAction } from './intent.ts';
import { interactionPort, mentionPort, portDeps, replyPrivately, type PortDeps } from './ports.ts';
import { renderReply } from './render.ts';
import { answerSettings, postBoard } from './team-replies.ts';
import { failureOf, type DiscordTransport } from './transport.ts';
import { actorOf, formFields, messageActor, messageView, optionReader, placeOf, PLATFORM, reactionActor } from './views.ts';

export interface DiscordBotDeps {
  readonly runtime: Runtime;
  readonly transport: DiscordTransport;
  readonly commands: readonly CommandModule[];
  readonly forms: EditForms;
  readonly botUserId: () => string;
}

/**
 * Discord's side of the core: routes an interaction or mention to its handler, then carries out the handler's
 * Intent — a refusal (ephemeral), the modal, an owner action, the board, settings, or a job through the core's flow
 * over this platform's port. Handlers never repeat any of it. Reactions on the bot's results are votes. Nothing thrown here reaches discord.js: a failure is logged
 * without tokens and the user is told, privately where Discord allows.
 */
export class DiscordBot {
  readonly #deps: DiscordBotDeps;
  readonly #ports: PortDeps;
  readonly #slash: ReadonlyMap<string, Extract<CommandModule, { type: 'slash' }>>;
  readonly #menus: ReadonlyMap<string, Extract<CommandModule, { type: 'message' }>>;

  constructor(deps: DiscordBotDeps) {
    this.#deps = deps;
    this.#ports = portDeps(deps.runtime, deps.transport);
    this.#slash = new Map(deps.commands.flatMap((c) => (c.type === 'slash' ? [[c.name, c] as const] : [])));
    this.#menus = new Map(deps.commands.flatMap((c) => (c.type === 'message' ? [[c.name, c] as const] : [])));
  }

  async onInteraction(interaction: Interaction): Promise<void> {
    if (!interaction.isRepliable()) return;
    const actor = actorOf(interaction);
    try {
      const intent = this.#route(interaction);
      if (intent) await this.#carryOut(interaction, intent);
    } catch (error) {
      this.#deps.runtime.log.error({ err: failureOf(error), interaction: interaction.type }, 'discord interaction failed');
      await replyPrivately(this.#ports, interaction, errorText(actor.locale, INTERNAL_ERROR)).catch(() => undefined);
    }
  }

  /** A message that @mentions the bot: an edit of the image it replies to. */
  async onMessage(message: Message): Promise<void> {
    const botUserId = this.#deps.botUserId();
    if (message.author.bot || message.webhookId || !message.inGuild()) return;
    // The explicit mention in the text, not the reply ping that replying to the bot's own message adds.
    if (!message.content.includes(`<@${botUserId}>`) && !message.content.includes(`<@!${botUserId}>`)) return;
    const actor = messageActor(message);
    const port = mentionPort(this.#ports, message, actor.locale);
    const { runtime } = this.#deps;
    try {
      const referenced = message.reference?.messageId ? await message.fetchReference().catch(() => null) : null;
      const intent = handleMention(this.#context(actor.locale), {
        content: message.content,
        attachments: messageView(message).attachments,
        reference: referenced ? messageView(referenced) : null,
      });
      if (intent.kind === 'refuse') return await port.refuse(intent.text);
      if (intent.kind !== 'job') return;
      const place = placeOf(message.channelId, message.guildId, message.channel);
      await runCommand(runtime.core, port, intent.command, { actor, place }, runtime.log);
    } catch (error) {
      runtime.log.error({ err: failureOf(error) }, 'discord mention failed');
      await port.refuse(errorText(actor.locale, INTERNAL_ERROR)).catch(() => undefined);
    }
  }

  /**
   * A reaction added (`on`) or removed: 1️⃣–4️⃣ on a message that shows one of the bot's results is a vote for that
   * candidate, or the vote taken back. A refused vote (a withheld candidate, one past the candidates) has nowhere to
   * be answered — a reaction has no reply channel, and a public refusal would be noise — so it is only logged.
   */
  async onReaction(reaction: MessageReaction | PartialMessageReaction, user: User | PartialUser, on: boolean): Promise<void> {
    const { runtime } = this.#deps;
    try {
      const index = voteOfReaction({ messageId: reaction.message.id, userId: user.id, userIsBot: user.bot, emoji: reaction.emoji }, this.#deps.botUserId());
      if (index === undefined) return;
      const jobId = runtime.core.team.jobOfMessage(PLATFORM, reaction.message.id);
      if (!jobId) return;
      const { message } = reaction;
      const who = { actor: reactionActor(user, message.guild), place: placeOf(message.channelId, message.guildId, message.channel) };
      const voted = runtime.core.team.vote(jobId, index, who, { on, refresh: (reply) => this.#refreshResult(message.channelId, message.id, reply) });
      if (!voted.ok) runtime.log.debug({ job: jobId, candidate: index + 1, code: voted.error.code }, 'reaction vote refused');
    } catch (error) {
      runtime.log.error({ err: failureOf(error) }, 'discord reaction failed');
    }
  }

  /** The result's words and controls again, with the new votes; its images stay as they are. */
  async #refreshResult(channelId: string, messageId: string, reply: Extract<Reply, { kind: 'result' }>): Promise<void> {
    const record = this.#deps.runtime.core.history.get(reply.jobId);
    const locale = (record && deliveryOf(record)?.locale) ?? 'en';
    const rendered = renderReply(reply, locale, { parentLabel: (parentId) => this.#ports.parentLabel(parentId, locale) });
    const edited = await this.#deps.transport.editMessage(channelId, messageId, rendered);
    if (!edited.ok) throw new PlatformError(edited.error);
  }

  #context(locale: HandlerContext['locale']): HandlerContext {
    return { locale, config: this.#deps.runtime.config, botUserId: this.#deps.botUserId(), forms: this.#deps.forms };
  }

  #route(interaction: RepliableInteraction): Intent | undefined {
    const ctx = this.#context(actorOf(interaction).locale);
    const unknown: Intent = { kind: 'refuse', text: errorText(ctx.locale, { code: 'unknown-command' }) };
    if (interaction.isChatInputCommand()) return this.#slash.get(interaction.commandName)?.handle(ctx, optionReader(interaction)) ?? unknown;
    if (interaction.isMessageContextMenuCommand()) return this.#menus.get(interaction.commandName)?.handle(ctx, messageView(interaction.targetMessage)) ?? unknown;
    if (interaction.isButton() && isJobButtonId(interaction.customId)) return handleJobButton(ctx, interaction.customId);
    // The result's menu: the option chosen is the id a button would carry.
    if (interaction.isStringSelectMenu() && isMenuId(interaction.customId)) return handleJobButton(ctx, interaction.values[0] ?? '');
    if (interaction.isModalSubmit() && isEditFormId(interaction.customId)) return handleEditForm(ctx, interaction.customId, formFields(interaction));
    return undefined;
  }

  async #carryOut(interaction: RepliableInteraction, intent: Intent): Promise<void> {
    const { runtime } = this.#deps;
    const actor = actorOf(interaction);
    switch (intent.kind) {
      case 'refuse':
        return replyPrivately(this.#ports, interaction, intent.text);
      case 'modal':
        if (interaction.isModalSubmit()) return;
        // The form would only be refused on submission: say so now.
        if (runtime.core.paused) return replyPrivately(this.#ports, interaction, errorText(actor.locale, { code: 'shutting-down', message: 'paused' }));
        await interaction.showModal(intent.modal);
        return;
      case 'owner-action':
        if (!interaction.isButton() && !interaction.isStringSelectMenu()) return;
        return this.#ownerAction(interaction, intent.command);
      case 'job': {
        const place = placeOf(interaction.channelId ?? '', interaction.guildId, interaction.channel);
        await runCommand(runtime.core, interactionPort(this.#ports, interaction, actor.locale), intent.command, { actor, place }, runtime.log);
        return;
      }
      case 'describe': {
        // The same port as a job's: refusals private, the deferred response the public card the suggestions go on.
        const place = placeOf(interaction.channelId ?? '', interaction.guildId, interaction.channel);
        await runDescribe(runtime.core, interactionPort(this.#ports, interaction, actor.locale), intent.image, { actor, place }, runtime.log);
        return;
      }
      case 'board':
      case 'settings': {
        if (!interaction.isChatInputCommand()) return;
        const who = { actor, place: placeOf(interaction.channelId, interaction.guildId, interaction.channel) };
        const deps = { runtime, transport: this.#deps.transport, ports: this.#ports };
        return intent.kind === 'board' ? postBoard(deps, interaction, who, intent.window) : answerSettings(deps, interaction, who, intent.command);
      }
    }
  }

  async #ownerAction(interaction: ButtonInteraction | StringSelectMenuInteraction, command: OwnerAction): Promise<void> {
    const { runtime, transport } = this.#deps;
    const actor = actorOf(interaction);
    const who = { actor, place: placeOf(interaction.channelId, interaction.guildId, interaction.channel) };
    const outcome = command.kind === 'cancel' ? runtime.core.cancel(command.jobId, who) : runtime.core.delete(command.jobId, who);
    if (!outcome.ok) return replyPrivately(this.#ports, interaction, errorText(actor.locale, outcome.error));
    if (command.kind === 'delete') {
      // Only the job's own message, in the job's own guild: a Delete arriving on any other message deletes nothing.
      const delivery = deliveryOf(outcome.value)?.delivery;
      if (!delivery || delivery.guildId !== interaction.guildId || !messagesOf(delivery).has(interaction.message.id)) {
        return replyPrivately(this.#ports, interaction, errorText(actor.locale, { code: 'wrong-message' }));
      }
    }
    // Cancelled: the job's own card turns into "Cancelled." through its sink; this press only needs acknowledging.
    await interaction.deferUpdate();
    if (command.kind !== 'delete') return;
    // After deferUpdate, @original is the message the button is on: checked above to be the job's result.
    const ref = { applicationId: interaction.applicationId, token: interaction.token };
    const removed = await transport.deleteOriginal(ref);
    if (removed.ok) return;
    const again = await transport.deleteMessage(interaction.channelId, interaction.message.id);
    if (!again.ok) {
      runtime.log.warn({ err: again.error, job: command.jobId }, 'could not delete a result');
      await replyPrivately(this.#ports, interaction, errorText(actor.locale, INTERNAL_ERROR));
    }
  }
}
