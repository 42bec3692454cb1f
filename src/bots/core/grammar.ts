import type { Role } from '../../config/schema.ts';
import { OPTION_BY_NAME, OPTIONS, type CommandOptions, type OptionSpec } from './options.ts';
import { fail, ok, type Result } from '../../result.ts';
import type { CoreError } from './errors.ts';

export interface ParsedText {
  readonly prompt: string;
  readonly options: CommandOptions;
}

/**
 * The inline-flag grammar, one for every platform: `a red fox --seed 42 --ar 16:9 --no text, watermark`. Flags may appear
 * anywhere; a flag's value runs to the next flag for `--no`, and is one word otherwise. Chinese input methods
 * are first-class: `——seed`, `－－seed`, full-width digits and `１６：９` are read as their ASCII forms, while the
 * prompt itself is kept exactly as typed.
 */
const FLAG = /(?:^|\s)(?:--|——|－－|—|–)([A-Za-zＡ-Ｚａ-ｚ]+)(?=\s|$)/gu;

const toAscii = (text: string): string => text.normalize('NFKC');

export function parseCommandText(text: string, role: Role): Result<ParsedText, CoreError> {
  const flags: { name: string; start: number; end: number }[] = [];
  for (const match of text.matchAll(FLAG)) {
    const start = match.index + match[0].length - match[0].trimStart().length;
    flags.push({ name: toAscii(match[1]!).toLowerCase(), start, end: match.index + match[0].length });
  }
  const promptParts = [flags.length > 0 ? text.slice(0, flags[0]!.start) : text];
  const options: CommandOptions = {};
  const seen = new Set<string>();
  for (const [i, flag] of flags.entries()) {
    const spec = OPTION_BY_NAME.get(flag.name);
    const rawValue = text.slice(flag.end, flags[i + 1]?.start ?? text.length).trim();
    if (!spec) {
      return fail({ code: 'unknown-flag', params: { flag: `--${flag.name}`, allowed: OPTIONS.map((o) => `--${o.name}`).join(' ') } });
    }
    if (!spec.roles.includes(role)) {
      return fail({ code: 'flag-not-for-role', params: { flag: `--${spec.name}`, role } });
    }
    if (seen.has(spec.name)) return fail({ code: 'duplicate-flag', params: { flag: `--${spec.name}` } });
    seen.add(spec.name);
    if (spec.kind === 'switch') {
      // A switch takes no value: the words after it are the prompt's.
      (options as Record<string, unknown>)[spec.name] = true;
      promptParts.push(rawValue);
      continue;
    }
    // Only --no takes several words; for the others, words after the value belong to the prompt again.
    const [value = '', ...rest] = spec.kind === 'text' ? [rawValue] : rawValue.split(/\s+/u);
    if (value === '') return fail({ code: 'missing-value', params: { flag: `--${spec.name}` } });
    const parsed = parseValue(spec, value);
    if (!parsed.ok) return parsed;
    (options as Record<string, unknown>)[spec.name] = parsed.value;
    promptParts.push(rest.join(' '));
  }
  const prompt = promptParts.map((p) => p.trim()).filter((p) => p.length > 0).join(' ');
  return ok({ prompt, options });
}

/** Checks one option value against its spec (also used for slash-command options); a switch has none to check. */
export function parseValue(spec: OptionSpec, raw: string | number): Result<string | number, CoreError> {
  if (spec.kind === 'integer' || spec.kind === 'number') {
    const text = typeof raw === 'number' ? String(raw) : toAscii(raw).trim();
    const value = Number(text);
    const integerOk = spec.kind === 'number' || Number.isInteger(value);
    if (text === '' || !Number.isFinite(value) || !integerOk) {
      return fail({ code: 'not-a-number', params: { flag: `--${spec.name}`, value: String(raw), kind: spec.kind } });
    }
    if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
      return fail({ code: 'option-out-of-range', params: { flag: `--${spec.name}`, value, min: spec.min ?? '', max: spec.max ?? '' } });
    }
    return { ok: true, value };
  }
  const text = String(raw).trim();
  // NFKC can open a value with a space (¨ → space + combining diaeresis): trim what it made too.
  if (spec.kind === 'ratio' || spec.kind === 'region') return ok(toAscii(text).trim());
  return ok(text);
}
