import { MessageFlags, type ButtonInteraction, type Interaction, type Message, type RepliableInteraction } from 'discord.js';
import type { Actor, Place } from '../core/command.ts';
import { errorText } from '../core/texts.ts';
import type { Runtime } from '../../runtime.ts';
import type { CommandModule } from './commands/index.ts';
import { handleEditForm, isEditFormId } from './components/edit-form.ts';
import { handleJobButton, isJobButtonId } from './components/job-buttons.ts';
import type { DiscordDelivery } from './delivery.ts';
import type { EditForms } from './edit-forms.ts';
import { handleMention } from './events/mention-edit.ts';
import type { HandlerContext, Intent, OwnerAction } from './intent.ts';
import { runJob, type Responder } from './job-runner.ts';
import { NO_MENTIONS, type RenderedMessage } from './render.ts';
import { failureOf, type DiscordTransport, type InteractionRef } from './transport.ts';
import { actorOf, formFields, messageActor, messageView, optionReader, placeOf } from './views.ts';

export interface DispatcherDeps {
  readonly runtime: Runtime;
  readonly transport: DiscordTransport;
  readonly commands: readonly CommandModule[];
  readonly forms: EditForms;
  readonly botUserId: () => string;
  readonly isPaused: () => boolean;
}

const privately = (text: string): RenderedMessage => ({ content: text, files: [], components: [], ephemeral: true });
const publicly = (text: string): RenderedMessage => ({ content: text, files: [], components: [], ephemeral: false });

/**
 * The one place that talks back to Discord for a request: it routes an interaction or mention to its handler,
 * then carries out the handler's Intent — refusals (ephemeral), the modal, owner actions, and jobs (deferred in
 * time, downloads, the core). Handlers never repeat any of it. Nothing thrown here reaches discord.js: a failure
 * is logged without tokens and the user is told, privately.
 */
export class Dispatcher {
  readonly #deps: DispatcherDeps;
  readonly #slash: ReadonlyMap<string, Extract<CommandModule, { type: 'slash' }>>;
  readonly #menus: ReadonlyMap<string, Extract<CommandModule, { type: 'message' }>>;

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
    this.#slash = new Map(deps.commands.flatMap((c) => (c.type === 'slash' ? [[c.name, c] as const] : [])));
    this.#menus = new Map(deps.commands.flatMap((c) => (c.type === 'message' ? [[c.name, c] as const] : [])));
  }

  async onInteraction(interaction: Interaction): Promise<void> {
    if (!interaction.isRepliable()) return;
    try {
      const intent = this.#route(interaction);
      if (!intent) return;
      if (this.#deps.isPaused() && intent.kind !== 'owner-action') {
        await this.#replyPrivately(interaction, errorText(actorOf(interaction).locale, { code: 'shutting-down', message: 'paused' }));
        return;
      }
      await this.#carryOut(interaction, intent);
    } catch (error) {
      this.#deps.runtime.log.error({ err: failureOf(error), interaction: interaction.type }, 'discord interaction failed');
      await this.#replyPrivately(interaction, errorText(actorOf(interaction).locale, { code: 'internal', message: 'internal' })).catch(() => undefined);
    }
  }

  /** A message that @mentions the bot: an edit of the image it replies to. */
  async onMessage(message: Message): Promise<void> {
    const botUserId = this.#deps.botUserId();
    if (message.author.bot || message.webhookId || !message.inGuild()) return;
    // The explicit mention in the text, not the reply ping that replying to the bot's own message adds.
    if (!message.content.includes(`<@${botUserId}>`) && !message.content.includes(`<@!${botUserId}>`)) return;
    const actor = messageActor(message);
    const responder = this.#mentionResponder(message);
    try {
      if (this.#deps.isPaused()) return await responder.refuse(errorText(actor.locale, { code: 'shutting-down', message: 'paused' }));
      const referenced = message.reference?.messageId ? await message.fetchReference().catch(() => null) : null;
      const intent = handleMention(this.#context(actor.locale), {
        content: message.content,
        attachments: messageView(message).attachments,
        reference: referenced ? messageView(referenced) : null,
      });
      if (intent.kind === 'refuse') return await responder.refuse(intent.text);
      if (intent.kind !== 'job') return;
      const place = placeOf(message.channelId, message.guildId, message.channel);
      await runJob(this.#deps, intent.command, { actor, place }, responder, this.#deps.runtime.config.discord.uploadLimitBytes);
    } catch (error) {
      this.#deps.runtime.log.error({ err: failureOf(error) }, 'discord mention failed');
      await responder.refuse(errorText(actor.locale, { code: 'internal', message: 'internal' })).catch(() => undefined);
    }
  }

  #context(locale: HandlerContext['locale']): HandlerContext {
    const { runtime, forms } = this.#deps;
    return { locale, config: runtime.config, botUserId: this.#deps.botUserId(), forms };
  }

  #route(interaction: RepliableInteraction): Intent | undefined {
    const ctx = this.#context(actorOf(interaction).locale);
    if (interaction.isChatInputCommand()) {
      const command = this.#slash.get(interaction.commandName);
      return command ? command.handle(ctx, optionReader(interaction)) : { kind: 'refuse', text: errorText(ctx.locale, { code: 'unknown-role', message: 'unknown command' }) };
    }
    if (interaction.isMessageContextMenuCommand()) {
      const command = this.#menus.get(interaction.commandName);
      return command ? command.handle(ctx, messageView(interaction.targetMessage)) : { kind: 'refuse', text: errorText(ctx.locale, { code: 'unknown-role', message: 'unknown command' }) };
    }
    if (interaction.isButton() && isJobButtonId(interaction.customId)) return handleJobButton(ctx, interaction.customId);
    if (interaction.isModalSubmit() && isEditFormId(interaction.customId)) return handleEditForm(ctx, interaction.customId, formFields(interaction));
    return undefined;
  }

  async #carryOut(interaction: RepliableInteraction, intent: Intent): Promise<void> {
    switch (intent.kind) {
      case 'refuse':
        return this.#replyPrivately(interaction, intent.text);
      case 'modal':
        if (interaction.isModalSubmit()) return;
        await interaction.showModal(intent.modal);
        return;
      case 'owner-action':
        if (!interaction.isButton()) return;
        return this.#ownerAction(interaction, intent.command);
      case 'job': {
        const who = { actor: actorOf(interaction), place: this.#place(interaction) };
        const cap = interaction.attachmentSizeLimit ?? this.#deps.runtime.config.discord.uploadLimitBytes;
        return runJob(this.#deps, intent.command, who, this.#interactionResponder(interaction), cap);
      }
    }
  }

  #place(interaction: RepliableInteraction): Place {
    return placeOf(interaction.channelId ?? '', interaction.guildId, interaction.channel);
  }

  #ref(interaction: RepliableInteraction): InteractionRef {
    return { applicationId: interaction.applicationId, token: interaction.token };
  }

  async #replyPrivately(interaction: RepliableInteraction, text: string): Promise<void> {
    if (interaction.deferred || interaction.replied) {
      const sent = await this.#deps.transport.followUp(this.#ref(interaction), privately(text));
      if (!sent.ok) this.#deps.runtime.log.warn({ err: sent.error }, 'could not send a private reply');
      return;
    }
    await interaction.reply({ content: text, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS });
  }

  #interactionResponder(interaction: RepliableInteraction): Responder {
    const { transport, runtime } = this.#deps;
    const ref = this.#ref(interaction);
    return {
      refuse: (text) => this.#replyPrivately(interaction, text),
      acknowledge: async (): Promise<DiscordDelivery> => {
        // Public: results belong to the channel (design §5b). Only the defer's flags count, so this decides it.
        await interaction.deferReply();
        // The response's id lets a result still reply to it after the token has expired (or after a restart).
        const original = await transport.fetchOriginal(ref);
        if (!original.ok) runtime.log.warn({ err: original.error }, 'could not read the deferred response');
        return {
          v: 1,
          channelId: interaction.channelId ?? '',
          guildId: interaction.guildId,
          uploadLimit: interaction.attachmentSizeLimit ?? runtime.config.discord.uploadLimitBytes,
          interaction: { applicationId: interaction.applicationId, token: interaction.token, createdAt: interaction.createdTimestamp },
          replyTo: original.ok && original.value.id !== '' ? original.value.id : null,
        };
      },
      retract: async (text) => {
        const removed = await transport.deleteOriginal(ref);
        if (!removed.ok) runtime.log.warn({ err: removed.error }, 'could not remove the deferred response');
        await this.#replyPrivately(interaction, text);
      },
    };
  }

  #mentionResponder(message: Message): Responder {
    const { transport, runtime } = this.#deps;
    const say = async (text: string): Promise<void> => {
      const sent = await transport.postMessage(message.channelId, publicly(text), message.id);
      if (!sent.ok) runtime.log.warn({ err: sent.error }, 'could not answer a mention');
    };
    return {
      // A mention has no private channel back: the refusal is a reply the channel sees.
      refuse: say,
      acknowledge: async () => ({
        v: 1,
        channelId: message.channelId,
        guildId: message.guildId,
        uploadLimit: runtime.config.discord.uploadLimitBytes,
        interaction: null,
        replyTo: message.id,
      }),
      retract: say,
    };
  }

  async #ownerAction(interaction: ButtonInteraction, command: OwnerAction): Promise<void> {
    const { runtime, transport } = this.#deps;
    const actor: Actor = actorOf(interaction);
    const outcome = await runtime.core.run(command, actor, this.#place(interaction), async () => undefined);
    if (outcome.kind === 'refused') return this.#replyPrivately(interaction, outcome.reply.kind === 'error' ? outcome.reply.text : errorText(actor.locale, outcome.error));
    // Cancelled: the job's own card turns into "Cancelled." through its sink; this press only needs acknowledging.
    await interaction.deferUpdate();
    if (outcome.kind !== 'delete') return;
    // After deferUpdate, @original is the message the button is on: the result being deleted.
    const removed = await transport.deleteOriginal(this.#ref(interaction));
    if (removed.ok) return;
    const again = await transport.deleteMessage(interaction.channelId, interaction.message.id);
    if (!again.ok) {
      runtime.log.warn({ err: again.error, job: outcome.jobId }, 'could not delete a result');
      await this.#replyPrivately(interaction, errorText(actor.locale, { code: 'internal', message: 'delete failed' }));
    }
  }
}
