import type { ChatInputCommandInteraction } from 'discord.js';
import type { Runtime } from '../../runtime.ts';
import type { Locale, Who } from '../core/command.ts';
import { PlatformError, type UserError } from '../core/errors.ts';
import type { SettingsCommand } from '../core/settings.ts';
import { errorText, text } from '../core/texts.ts';
import { optionLabel, optionOfFlag } from './commands/settings.ts';
import { fitFiles } from './fit-upload.ts';
import { replyPrivately, type PortDeps } from './ports.ts';
import { renderReply } from './render.ts';
import type { DiscordTransport } from './transport.ts';

/** The team's commands carried out on Discord: the board for the channel, settings privately. */
export interface TeamReplyDeps {
  readonly runtime: Runtime;
  readonly transport: DiscordTransport;
  readonly ports: PortDeps;
}

/**
 * /board: deferred in public at once (composing the contact sheet can take longer than Discord's 3 seconds), then
 * the board edited into that response. A refusal after the deferral takes the placeholder back and answers privately.
 */
export async function postBoard(deps: TeamReplyDeps, interaction: ChatInputCommandInteraction, who: Who, window: string): Promise<void> {
  const { runtime, transport, ports } = deps;
  const ref = { applicationId: interaction.applicationId, token: interaction.token };
  await interaction.deferReply();
  const board = await runtime.core.team.board(who, window, 'reactions');
  if (!board.ok) {
    const removed = await transport.deleteOriginal(ref);
    if (!removed.ok) runtime.log.warn({ err: removed.error }, 'could not remove the deferred response');
    return replyPrivately(ports, interaction, errorText(who.actor.locale, board.error));
  }
  const rendered = renderReply(board.value, who.actor.locale);
  const limit = interaction.attachmentSizeLimit ?? runtime.config.discord.uploadLimitBytes;
  const message = rendered.files.length > 0 ? { ...rendered, files: await fitFiles(rendered.files, limit) } : rendered;
  const sent = await transport.editOriginal(ref, message);
  if (!sent.ok) throw new PlatformError(sent.error);
}

/** /settings: shown or changed by the core, answered privately in Discord's own words for its slash options. */
export async function answerSettings(deps: TeamReplyDeps, interaction: ChatInputCommandInteraction, who: Who, command: SettingsCommand): Promise<void> {
  const { locale } = who.actor;
  const answer = deps.runtime.core.team.settings(who, command);
  const words = answer.ok ? forDiscord(locale, answer.value, who.actor.canConfigure === true) : refusal(locale, answer.error);
  await replyPrivately(deps.ports, interaction, words);
}

/**
 * The core ends its settings sentence with how to change them in the text form (`/settings channel --count 2`), which
 * Discord's slash command does not take: that line becomes the slash form's.
 */
function forDiscord(locale: Locale, answer: string, canConfigure: boolean): string {
  const how = text(locale, canConfigure ? 'settings.how.admin' : 'settings.how.member');
  if (!answer.endsWith(how)) return answer;
  return `${answer.slice(0, answer.length - how.length)}${text(locale, canConfigure ? 'discord.settings.how.admin' : 'discord.settings.how.member')}`;
}

/** The two refusals that name the text form get Discord's words; the rest are the same everywhere. */
function refusal(locale: Locale, error: UserError): string {
  if (error.code === 'not-allowed-to-configure') return text(locale, 'discord.error.not-allowed-to-configure');
  if (error.code === 'channel-only-setting') {
    return text(locale, 'discord.error.channel-only-setting', { option: optionLabel(locale, optionOfFlag(String(error.params?.flag ?? ''))) });
  }
  return errorText(locale, error);
}
