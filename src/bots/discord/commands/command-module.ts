import type { RESTPostAPIChatInputApplicationCommandsJSONBody, RESTPostAPIContextMenuApplicationCommandsJSONBody } from 'discord.js';
import type { HandlerContext, Intent } from '../intent.ts';
import type { MessageView } from '../images.ts';
import type { DefinitionContext, OptionReader } from './slash-options.ts';

/** A slash command: its definition (options, limits, localizations) and its handler, side by side. */
export interface SlashCommand {
  readonly type: 'slash';
  readonly name: string;
  /** Whether it is registered with this configuration (absent: always). */
  available?(ctx: DefinitionContext): boolean;
  definition(ctx: DefinitionContext): RESTPostAPIChatInputApplicationCommandsJSONBody;
  handle(ctx: HandlerContext, options: OptionReader): Intent;
}

/** A message context-menu command (right-click a message → Apps). */
export interface MessageCommand {
  readonly type: 'message';
  readonly name: string;
  /** Whether it is registered with this configuration (absent: always). */
  available?(ctx: DefinitionContext): boolean;
  definition(ctx: DefinitionContext): RESTPostAPIContextMenuApplicationCommandsJSONBody;
  handle(ctx: HandlerContext, target: MessageView): Intent;
}

export type CommandModule = SlashCommand | MessageCommand;
