import {
  ApplicationCommandOptionType,
  ApplicationIntegrationType,
  InteractionContextType,
  type APIApplicationCommandOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  type APIApplicationCommandAttachmentOption,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandStringOption,
} from 'discord.js';
import type { Config, Role } from '../../../config/schema.ts';
import type { StyleCatalog } from '../../../engine/prompt/styles.ts';
import type { SamplingSettings } from '../../../engine/sampling-settings.ts';
import { ok, type Result } from '../../../result.ts';
import type { CoreError } from '../../core/errors.ts';
import { parseValue } from '../../core/grammar.ts';
import { OPTIONS, type CommandOptions, type OptionSpec } from '../../core/options.ts';
import type { AttachmentRef } from '../images.ts';
import { text, type TextKey } from '../../core/texts.ts';
import { ZH_NAMES } from './slash-names.ts';

/**
 * Slash options from the core's one list of command options (OPTIONS), so a slash option and its inline flag are
 * the same option: same name, range and description, in English and Chinese.
 */
export interface DefinitionContext {
  readonly config: Readonly<Config>;
  readonly styles: StyleCatalog;
  /** A role's steps range and defaults, as its profile and model set them. */
  readonly sampling: (role: Role) => SamplingSettings;
}

/** What a handler reads from a slash command's options (discord.js's resolver, or a test's plain object). */
export interface OptionReader {
  string(name: string): string | null;
  integer(name: string): number | null;
  number(name: string): number | null;
  boolean(name: string): boolean | null;
  attachment(name: string): AttachmentRef | null;
}

const DESCRIPTION_MAX = 100;
const CHOICES_MAX = 25;
/** `16:9`, `left`, `10,10,50,50`: short by nature. */
const SHORT_VALUE_MAX = 40;

const clip = (value: string): string => (value.length <= DESCRIPTION_MAX ? value : `${value.slice(0, DESCRIPTION_MAX - 1)}…`);

/** name + description, with their zh-CN (and explicit en-US) localizations. */
export function localized(name: string, description: { en: string; 'zh-CN': string }): {
  name: string;
  name_localizations: Record<string, string>;
  description: string;
  description_localizations: Record<string, string>;
} {
  return {
    name,
    name_localizations: { 'en-US': name, 'zh-CN': ZH_NAMES[name] ?? name },
    description: clip(description.en),
    description_localizations: { 'en-US': clip(description.en), 'zh-CN': clip(description['zh-CN']) },
  };
}

export function pendingDescription(key: TextKey): { en: string; 'zh-CN': string } {
  return { en: text('en', key), 'zh-CN': text('zh-CN', key) };
}

/** Every command is a server's: installed to a guild, used in its channels (results belong to the channel). */
export const GUILD_ONLY = { contexts: [InteractionContextType.Guild], integration_types: [ApplicationIntegrationType.GuildInstall] };

/** A guild slash command's definition: its localized name and description, and its options. */
export function slashDefinition(name: string, description: TextKey, options: APIApplicationCommandOption[]): RESTPostAPIChatInputApplicationCommandsJSONBody {
  return { ...localized(name, pendingDescription(description)), ...GUILD_ONLY, options };
}

/** The slash option's range: the grammar's, narrowed by this role's profile and model and the configured limits. */
function range(spec: OptionSpec, role: Role, ctx: DefinitionContext): { min?: number; max?: number } {
  if (spec.name === 'steps') {
    const sampling = ctx.sampling(role);
    return { min: Math.max(spec.min ?? 1, sampling.minSteps), max: Math.min(spec.max ?? Infinity, sampling.maxSteps) };
  }
  if (spec.name === 'count') return { min: spec.min ?? 1, max: Math.min(spec.max ?? Infinity, ctx.config.limits.maxCount) };
  return { ...(spec.min !== undefined ? { min: spec.min } : {}), ...(spec.max !== undefined ? { max: spec.max } : {}) };
}

function slashOption(spec: OptionSpec, role: Role, ctx: DefinitionContext): APIApplicationCommandBasicOption {
  const base = { ...localized(spec.name, spec.description), required: false };
  const { min, max } = range(spec, role, ctx);
  const bounds = { ...(min !== undefined ? { min_value: min } : {}), ...(max !== undefined ? { max_value: max } : {}) };
  switch (spec.kind) {
    case 'integer':
      return { ...base, type: ApplicationCommandOptionType.Integer, ...bounds };
    case 'number':
      return { ...base, type: ApplicationCommandOptionType.Number, ...bounds };
    case 'style':
      return {
        ...base,
        type: ApplicationCommandOptionType.String,
        choices: ctx.styles.presets.slice(0, CHOICES_MAX).map((p) => ({
          name: p.label.en,
          name_localizations: { 'en-US': p.label.en, 'zh-CN': p.label['zh-CN'] },
          value: p.name,
        })),
      };
    case 'text':
      return { ...base, type: ApplicationCommandOptionType.String, max_length: ctx.config.limits.maxPromptChars };
    case 'ratio':
    case 'region':
      return { ...base, type: ApplicationCommandOptionType.String, max_length: SHORT_VALUE_MAX };
    case 'switch':
      return { ...base, type: ApplicationCommandOptionType.Boolean };
  }
}

/** The prompt assistant's features (the enhance option, /describe) are registered only where it is configured. */
export const assistantConfigured = (config: Readonly<Config>): boolean => config.assistant.url !== null;

/** The grammar's options that apply to a role, as slash options (enhance only where the prompt assistant is configured). */
export function roleOptions(role: Role, ctx: DefinitionContext): APIApplicationCommandBasicOption[] {
  return OPTIONS.filter((o) => o.roles.includes(role) && (o.name !== 'enhance' || assistantConfigured(ctx.config))).map((o) => slashOption(o, role, ctx));
}

export function promptOption(role: Role, required: boolean, ctx: DefinitionContext): APIApplicationCommandStringOption {
  return {
    ...localized('prompt', pendingDescription(`discord.option.prompt.${role}`)),
    type: ApplicationCommandOptionType.String,
    required,
    max_length: ctx.config.limits.maxPromptChars,
  };
}

export function attachmentOption(name: 'image' | 'mask', key: TextKey, required: boolean): APIApplicationCommandAttachmentOption {
  return { ...localized(name, pendingDescription(key)), type: ApplicationCommandOptionType.Attachment, required };
}

/**
 * The role's option values as the core's CommandOptions, each checked like its inline flag (Discord enforces the
 * ranges in its client, but a request can come from anywhere).
 */
export function readRoleOptions(role: Role, reader: OptionReader): Result<CommandOptions, CoreError> {
  const options: CommandOptions = {};
  for (const spec of OPTIONS) {
    if (!spec.roles.includes(role)) continue;
    if (spec.kind === 'switch') {
      // Off is the default: only true is an option given (and it must agree with an inline --enhance).
      if (reader.boolean(spec.name) === true) (options as Record<string, unknown>)[spec.name] = true;
      continue;
    }
    const raw = spec.kind === 'integer' ? reader.integer(spec.name) : spec.kind === 'number' ? reader.number(spec.name) : reader.string(spec.name);
    if (raw === null || raw === '') continue;
    const parsed = parseValue(spec, raw);
    if (!parsed.ok) return parsed;
    (options as Record<string, unknown>)[spec.name] = parsed.value;
  }
  return ok(options);
}
