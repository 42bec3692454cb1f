import { ApplicationCommandOptionType, type APIApplicationCommandBasicOption } from 'discord.js';
import type { Locale } from '../../core/command.ts';
import { changeFromValues, type SettingName, type SettingsTarget } from '../../core/settings.ts';
import { errorText, type TextKey } from '../../core/texts.ts';
import type { SlashCommand } from './command-module.ts';
import { localized, pendingDescription, slashDefinition, type DefinitionContext } from './slash-options.ts';
import { ZH_NAMES } from './slash-names.ts';

/**
 * /settings [scope] [count] [ar] [style] [others] [policy] [reset]: with nothing to change, shows the channel's and
 * the caller's settings; otherwise changes one level. The core checks every value and who may change the channel's;
 * the answer is private either way.
 */

/** Slash option → the core's setting. */
const SETTING_OF: Readonly<Record<string, SettingName>> = { count: 'count', ar: 'ar', style: 'style', others: 'othersMayPress', policy: 'policy' };
/** Only a channel has these: given without a scope, they mean the channel's. */
const CHANNEL_ONLY: ReadonlySet<SettingName> = new Set(['othersMayPress', 'policy']);
const CHOICES_MAX = 25;
const SHORT_VALUE_MAX = 40;

const both = (key: TextKey): { en: string; 'zh-CN': string } => pendingDescription(key);

function choice(value: string, label: { en: string; 'zh-CN': string }): { name: string; name_localizations: Record<string, string>; value: string } {
  return { name: label.en, name_localizations: { 'en-US': label.en, 'zh-CN': label['zh-CN'] }, value };
}

/** A slash option's name as the person's Discord shows it. */
export function optionLabel(locale: Locale, name: string): string {
  return locale === 'zh-CN' ? (ZH_NAMES[name] ?? name) : name;
}

function options(ctx: DefinitionContext): APIApplicationCommandBasicOption[] {
  const option = (name: string) => ({ ...localized(name, both(`discord.option.${name}` as TextKey)), required: false });
  const named = (name: string) => ({ en: name, 'zh-CN': ZH_NAMES[name] ?? name });
  return [
    {
      ...option('scope'),
      type: ApplicationCommandOptionType.String,
      choices: [choice('channel', both('discord.option.scope.channel')), choice('me', both('discord.option.scope.me'))],
    },
    { ...option('count'), type: ApplicationCommandOptionType.Integer, min_value: 1, max_value: ctx.config.limits.maxCount },
    { ...option('ar'), type: ApplicationCommandOptionType.String, max_length: SHORT_VALUE_MAX },
    {
      ...option('style'),
      type: ApplicationCommandOptionType.String,
      choices: ctx.styles.presets.slice(0, CHOICES_MAX).map((p) => choice(p.name, { en: p.label.en, 'zh-CN': p.label['zh-CN'] })),
    },
    { ...option('others'), type: ApplicationCommandOptionType.Boolean },
    { ...option('policy'), type: ApplicationCommandOptionType.String, choices: [choice('block', { en: 'block', 'zh-CN': '拦截' }), choice('spoiler', { en: 'spoiler', 'zh-CN': '剧透遮挡' })] },
    { ...option('reset'), type: ApplicationCommandOptionType.String, choices: Object.keys(SETTING_OF).map((name) => choice(name, named(name))) },
  ];
}

export const settingsCommand: SlashCommand = {
  type: 'slash',
  name: 'settings',
  definition: (ctx) => slashDefinition('settings', 'discord.command.settings', options(ctx)),
  handle(ctx, read) {
    const values: Partial<Record<SettingName, string | number | boolean>> = {};
    const given = { count: read.integer('count'), ar: read.string('ar'), style: read.string('style'), others: read.boolean('others'), policy: read.string('policy') };
    for (const [name, value] of Object.entries(given)) if (value !== null) values[SETTING_OF[name]!] = value;
    const reset = read.string('reset');
    if (reset !== null) {
      const name = SETTING_OF[reset];
      if (!name) return { kind: 'refuse', text: errorText(ctx.locale, { code: 'unknown-setting', params: { flag: reset, allowed: Object.keys(SETTING_OF).join(' ') } }) };
      if (values[name] !== undefined) return { kind: 'refuse', text: errorText(ctx.locale, { code: 'duplicate-flag', params: { flag: optionLabel(ctx.locale, reset) } }) };
      // The core's word for "back to the level below".
      values[name] = 'default';
    }
    // Nothing to change (a scope alone included): show them.
    if (Object.keys(values).length === 0) return { kind: 'settings', command: { kind: 'show' } };
    const scope = read.string('scope');
    const channelOnly = Object.keys(values).some((name) => CHANNEL_ONLY.has(name as SettingName));
    const target: SettingsTarget = scope === 'channel' || (scope === null && channelOnly) ? 'channel' : 'personal';
    const command = changeFromValues(target, values);
    if (!command.ok) return { kind: 'refuse', text: errorText(ctx.locale, command.error) };
    return { kind: 'settings', command: command.value };
  },
};

/** The core's flag for a setting (`--others`) → the slash option a Discord user picks (`others`): the same word. */
export const optionOfFlag = (flag: string): string => flag.replace(/^--/, '');
