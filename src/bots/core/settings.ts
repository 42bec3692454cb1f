import { engineError } from '../../engine/errors.ts';
import { parseAspectRatio } from '../../engine/sizes.ts';
import type { StyleCatalog } from '../../engine/prompt/styles.ts';
import type { ModerationPolicy } from '../../moderation/verdict.ts';
import { fail, ok, type Result } from '../../result.ts';
import type { Locale } from './command.ts';
import type { CoreError, UserError } from './errors.ts';
import { parseValue } from './grammar.ts';
import { OPTION_BY_NAME, type CommandOptions } from './options.ts';
import { text } from './texts.ts';

/**
 * Channel and personal defaults. A channel's admins set what every draft there starts from (count, aspect ratio,
 * style), whether others may press Refine/Vary/Reroll on someone's result, and the moderation policy within what the
 * operator allows; everyone sets their own count, aspect ratio and style. Precedence for a draft: the command's own
 * flags, then the person's defaults, then the channel's, then the config file.
 */
export interface ChannelSettings {
  readonly count?: number;
  readonly ar?: string;
  readonly style?: string;
  /** False: only a result's owner (or an admin) may press its Refine, Vary and Reroll. Absent: anyone may. */
  readonly othersMayPress?: boolean;
  readonly policy?: ModerationPolicy;
}

export type PersonalSettings = Pick<ChannelSettings, 'count' | 'ar' | 'style'>;

export type SettingName = keyof ChannelSettings;
export const SETTING_NAMES: readonly SettingName[] = ['count', 'ar', 'style', 'othersMayPress', 'policy'];
const PERSONAL: ReadonlySet<SettingName> = new Set(['count', 'ar', 'style']);

export type SettingsTarget = 'channel' | 'personal';

/** A change asked for: values to set and settings to clear (back to the level below). */
export interface SettingsChange {
  readonly target: SettingsTarget;
  readonly set: ChannelSettings;
  readonly clear: readonly SettingName[];
}

/** `/settings` with nothing: show them; otherwise change one level. */
export type SettingsCommand = { readonly kind: 'show' } | ({ readonly kind: 'change' } & SettingsChange);

/** What a change is checked against: the limits and catalog of this installation, and the place. */
export interface SettingsRules {
  readonly maxCount: number;
  readonly styles: StyleCatalog;
  /** The policies the operator lets a channel choose (config moderation.channelPolicies). */
  readonly channelPolicies: readonly ModerationPolicy[];
  readonly channelIsNsfw: boolean;
}

const FLAG = /(?:^|\s)(?:--|——|－－|—|–)([A-Za-zＡ-Ｚａ-ｚ]+)(?=\s|$)/gu;
const NAMES: Readonly<Record<string, SettingName>> = {
  count: 'count',
  n: 'count',
  ar: 'ar',
  aspect: 'ar',
  style: 'style',
  others: 'othersMayPress',
  policy: 'policy',
};
const TARGETS: Readonly<Record<string, SettingsTarget>> = { channel: 'channel', 频道: 'channel', me: 'personal', mine: 'personal', personal: 'personal', 我: 'personal', 我的: 'personal' };
const CLEAR = new Set(['default', 'reset', 'none', '默认', '重置']);
const YES = new Set(['on', 'yes', 'true', 'allow', '开', '是', '允许']);
const NO = new Set(['off', 'no', 'false', 'deny', '关', '否', '禁止']);

/**
 * The text form, one for every platform that takes text: `channel --count 2 --ar 16:9 --others off`,
 * `me --style watercolor`, `channel --ar default` (back to the config's), nothing at all to show them. Chinese input
 * methods' dashes and full-width forms read as on the command line.
 */
export function parseSettingsText(input: string): Result<SettingsCommand, CoreError> {
  const textIn = input.normalize('NFKC').trim();
  if (textIn === '') return ok({ kind: 'show' });
  const flags = [...textIn.matchAll(FLAG)].map((m) => ({ name: m[1]!.toLowerCase(), start: m.index + m[0].length - m[0].trimStart().length, end: m.index + m[0].length }));
  const head = (flags.length > 0 ? textIn.slice(0, flags[0]!.start) : textIn).trim().toLowerCase();
  const target = head === '' ? 'personal' : TARGETS[head];
  if (!target) return fail({ code: 'settings-usage' });
  if (flags.length === 0) return fail({ code: 'settings-usage' });
  const values: Partial<Record<SettingName, string>> = {};
  for (const [i, flag] of flags.entries()) {
    const name = NAMES[flag.name];
    if (!name) return fail({ code: 'unknown-setting', params: { flag: `--${flag.name}`, allowed: Object.keys(NAMES).filter((k) => k.length > 1).map((k) => `--${k}`).join(' ') } });
    if (values[name] !== undefined) return fail({ code: 'duplicate-flag', params: { flag: `--${flag.name}` } });
    const value = textIn.slice(flag.end, flags[i + 1]?.start ?? textIn.length).trim();
    if (value === '') return fail({ code: 'missing-value', params: { flag: `--${flag.name}` } });
    values[name] = value;
  }
  return changeFromValues(target, values);
}

/** Named values (from a platform's form or options, as text) → a change; `default` clears a setting. */
export function changeFromValues(target: SettingsTarget, values: Partial<Record<SettingName, string | number | boolean>>): Result<SettingsCommand, CoreError> {
  const set: Record<string, unknown> = {};
  const clear: SettingName[] = [];
  for (const name of SETTING_NAMES) {
    const raw = values[name];
    if (raw === undefined) continue;
    if (typeof raw === 'string' && CLEAR.has(raw.trim().toLowerCase())) {
      clear.push(name);
      continue;
    }
    const parsed = parseSetting(name, raw);
    if (!parsed.ok) return parsed;
    set[name] = parsed.value;
  }
  if (Object.keys(set).length === 0 && clear.length === 0) return fail({ code: 'settings-usage' });
  return ok({ kind: 'change', target, set: set as ChannelSettings, clear });
}

function parseSetting(name: SettingName, raw: string | number | boolean): Result<ChannelSettings[SettingName], CoreError> {
  switch (name) {
    case 'count':
      return parseValue(OPTION_BY_NAME.get('count')!, typeof raw === 'boolean' ? String(raw) : raw) as Result<number, CoreError>;
    case 'ar':
    case 'style':
      return ok(String(raw).trim());
    case 'othersMayPress': {
      if (typeof raw === 'boolean') return ok(raw);
      const word = String(raw).trim().toLowerCase();
      if (YES.has(word)) return ok(true);
      if (NO.has(word)) return ok(false);
      return fail({ code: 'bad-setting', params: { flag: '--others', value: String(raw), allowed: 'on off' } });
    }
    case 'policy': {
      const word = String(raw).trim().toLowerCase();
      return word === 'block' || word === 'spoiler' ? ok(word) : fail({ code: 'bad-setting', params: { flag: '--policy', value: String(raw), allowed: 'block spoiler' } });
    }
  }
}

/** Checks a change against this installation and place: personal settings hold no channel-only keys. */
export function checkChange(change: SettingsChange, rules: SettingsRules): Result<SettingsChange, UserError> {
  for (const name of [...Object.keys(change.set), ...change.clear] as SettingName[]) {
    if (change.target === 'personal' && !PERSONAL.has(name)) return fail({ code: 'channel-only-setting', params: { flag: flagOf(name) } });
  }
  const { count, ar, style, policy } = change.set;
  if (count !== undefined && count > rules.maxCount) return fail({ code: 'option-out-of-range', params: { flag: '--count', value: count, min: 1, max: rules.maxCount } });
  if (ar !== undefined && !parseAspectRatio(ar).ok) return fail({ code: 'bad-setting', params: { flag: '--ar', value: ar, allowed: '1:1 16:9 9:16 4:3 3:2 …' } });
  const preset = style === undefined ? undefined : rules.styles.find(style);
  if (style !== undefined && !preset) {
    const allowed = rules.styles.presets.map((p) => p.name).join(', ');
    return fail(engineError('unknown-style', `Unknown style "${style}"`, { value: style, allowed }));
  }
  if (policy !== undefined) {
    if (!rules.channelPolicies.includes(policy)) return fail({ code: 'policy-not-allowed', params: { policy, allowed: rules.channelPolicies.join(', ') || '—' } });
    if (policy === 'spoiler' && !rules.channelIsNsfw) return fail({ code: 'spoiler-needs-nsfw' });
  }
  // A style is kept by its preset's name, so an alias typed today still finds it if aliases change.
  return ok(preset ? { ...change, set: { ...change.set, style: preset.name } } : change);
}

/** A level's settings after a change: values set, cleared ones gone. */
export function applyChange(current: ChannelSettings, change: SettingsChange): ChannelSettings {
  const next: Record<string, unknown> = { ...current, ...change.set };
  for (const name of change.clear) delete next[name];
  return next as ChannelSettings;
}

/** Settings as stored (any JSON, possibly from an older release) → only the well-formed values. */
export function readSettings(stored: unknown): ChannelSettings {
  if (typeof stored !== 'object' || stored === null) return {};
  const value = stored as Record<string, unknown>;
  return {
    ...(Number.isInteger(value.count) ? { count: value.count as number } : {}),
    ...(typeof value.ar === 'string' ? { ar: value.ar } : {}),
    ...(typeof value.style === 'string' ? { style: value.style } : {}),
    ...(typeof value.othersMayPress === 'boolean' ? { othersMayPress: value.othersMayPress } : {}),
    ...(value.policy === 'block' || value.policy === 'spoiler' ? { policy: value.policy } : {}),
  };
}

/**
 * A draft's options with the defaults filled in: the command's own, then personal, then the channel's. A stored
 * default that no longer fits this installation (a style since removed, a count above a lowered limit) is skipped,
 * so the config's value applies rather than a refusal of something the user never typed.
 */
export function draftDefaults(options: CommandOptions, personal: PersonalSettings, channel: ChannelSettings, rules: Pick<SettingsRules, 'maxCount' | 'styles'>): CommandOptions {
  const usable = (level: PersonalSettings): PersonalSettings => ({
    ...(level.count !== undefined && level.count <= rules.maxCount ? { count: level.count } : {}),
    ...(level.ar !== undefined ? { ar: level.ar } : {}),
    ...(level.style !== undefined && rules.styles.find(level.style) ? { style: level.style } : {}),
  });
  const merged: CommandOptions = { ...usable(channel), ...usable(personal) };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  return merged;
}

const flagOf = (name: SettingName): string => (name === 'othersMayPress' ? '--others' : `--${name}`);

/** One level's settings as a line: "count 2 · ar 16:9 · style watercolor", or a dash for none. */
function levelLine(locale: Locale, settings: ChannelSettings): string {
  const parts = SETTING_NAMES.flatMap((name) => {
    const value = settings[name];
    if (value === undefined) return [];
    const shown = typeof value === 'boolean' ? text(locale, value ? 'settings.yes' : 'settings.no') : String(value);
    return [`${flagOf(name)} ${shown}`];
  });
  return parts.length > 0 ? parts.join(' · ') : text(locale, 'settings.none');
}

/** `/settings` with nothing: the channel's and the person's, and what applies to a draft here. */
export function renderSettings(locale: Locale, view: { readonly channel: ChannelSettings; readonly personal: PersonalSettings; readonly canConfigure: boolean }): string {
  return [
    text(locale, 'settings.channel', { values: levelLine(locale, view.channel) }),
    text(locale, 'settings.personal', { values: levelLine(locale, view.personal) }),
    text(locale, view.canConfigure ? 'settings.how.admin' : 'settings.how.member'),
  ].join('\n');
}
