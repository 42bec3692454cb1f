import { readFileSync } from 'node:fs';
import { engineError, type EngineError } from '../engine/errors.ts';
import type { ModerationConfig } from './config.ts';
import { ModerationSetupError } from './errors.ts';
import { readKanaLongVowels } from './lookalikes.ts';
import { compactText, decodeLeet, foldText, isCjkTerm, spelledOutRuns } from './text-normalize.ts';

/** Which list a matched term came from; the refusal's only parameter. Checked in this order. */
export type TermCategory = 'minors' | 'sexual' | 'custom';

/** Refuses a prompt (with `prompt-blocked`) or lets it through (undefined). */
export type PromptFilter = (text: string) => EngineError | undefined;

/** Letters and digits of the scripts written with spaces between words; a Latin term must not touch one. */
const WORD_CHAR = String.raw`[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{N}]`;
const SEPARATOR = String.raw`[^\p{L}\p{N}]+`;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface TermMatcher {
  /** Latin (word-boundary) terms as one regex whose first group is the matched term; null when there are none. */
  readonly words: RegExp | null;
  /** The same terms compacted ("sexual intercourse" → "sexualintercourse"), for spelled-out runs. */
  readonly spelled: readonly string[];
  /** CJK terms, compacted, matched as substrings of the compacted prompt. */
  readonly substrings: readonly string[];
}

/** "sexual intercourse" also matches "sexual-intercourse"; a trailing s/es covers plurals ("nudes"). */
function wordPattern(terms: readonly string[], plural: boolean): RegExp | null {
  if (terms.length === 0) return null;
  const alternatives = [...terms]
    .sort((a, b) => b.length - a.length)
    .map((term) => term.split(/[^\p{L}\p{N}]+/u).filter(Boolean).map(escapeRegExp).join(SEPARATOR));
  return new RegExp(`(?<!${WORD_CHAR})(${alternatives.join('|')})${plural ? '(?:e?s)?' : ''}(?!${WORD_CHAR})`, 'gu');
}

function compile(terms: readonly string[], plural: boolean): TermMatcher {
  const folded = [...new Set(terms.map(foldText).filter((t) => compactText(t) !== ''))];
  const latin = folded.filter((t) => !isCjkTerm(t));
  return {
    words: wordPattern(latin, plural),
    spelled: latin.map(compactText),
    substrings: folded.filter(isCjkTerm).map(compactText),
  };
}

/** The prompt as the matchers read it, allowed phrases already masked out. */
interface Views {
  /** Folded text, and its leetspeak reading when that differs: matched at word boundaries. */
  readonly words: readonly string[];
  /** Spelled-out runs ("n u d e" → "nude"), plain and leet-read: matched as substrings. */
  readonly spelled: readonly string[];
  /** Everything but letters and digits removed, dashes after kana also read as ー: CJK terms are substrings of these. */
  readonly compact: readonly string[];
}

function findIn(matcher: TermMatcher, views: Views): string | undefined {
  if (matcher.words) {
    for (const view of views.words) {
      matcher.words.lastIndex = 0;
      const match = matcher.words.exec(view);
      if (match) return match[1];
    }
  }
  for (const run of views.spelled) {
    const term = matcher.spelled.find((t) => run.includes(t));
    if (term !== undefined) return term;
  }
  for (const compact of views.compact) {
    const term = matcher.substrings.find((t) => compact.includes(t));
    if (term !== undefined) return term;
  }
  return undefined;
}

const removeAll = (text: string, phrases: readonly string[]): string => phrases.reduce((out, p) => out.split(p).join(' '), text);

/** Reads the prompt every way the matchers need, removing the allowed phrases ("naked eye", "异性交往") first. */
function viewsOf(text: string, allow: TermMatcher): Views {
  const folded = foldText(text);
  const maskWords = (view: string): string => (allow.words ? view.replace(allow.words, ' ') : view);
  const leet = decodeLeet(folded);
  const runs = spelledOutRuns(folded).flatMap((run) => [...new Set([run, decodeLeet(run)])]);
  return {
    words: (leet === folded ? [folded] : [folded, leet]).map(maskWords),
    spelled: runs.map((run) => removeAll(run, allow.spelled)),
    compact: [...new Set([folded, readKanaLongVowels(folded)])].map((view) => removeAll(compactText(view), allow.substrings)),
  };
}

function readTermFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ModerationSetupError(`Cannot read moderation.promptFilter.file ${file}: ${(error as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Builds the prompt filter once (reading `promptFilter.file` now, so a missing file stops start-up). Matching works
 * on normalised views of the prompt: compatibility-folded, lowercased, accent- and zero-width-free, look-alike
 * letters read as Latin, Traditional Chinese as Simplified; leetspeak read as letters; spelled-out runs of single
 * letters joined. Latin terms need word boundaries ("Essex" is not "sex", "pen is" is not "penis"), except inside a
 * spelled-out run; CJK terms match as substrings once spaces and punctuation are gone (a dash after a kana read
 * both as a separator and as the long-vowel mark).
 *
 * The refusal carries only the category in its params (what an adapter may show); the matched term is in the
 * English message, which goes to logs and the operator's CLI, not to chat, so the list cannot be probed from chat.
 * Give it the positive prompt only: negative prompts legitimately name what the user wants kept out.
 */
export function createPromptFilter(config: Pick<ModerationConfig, 'promptFilter'>): PromptFilter {
  const { terms, minorTerms, allow, file } = config.promptFilter;
  const lists: readonly (readonly [TermCategory, TermMatcher])[] = [
    ['minors', compile(minorTerms, true)],
    ['sexual', compile(terms, true)],
    ['custom', compile(file === null ? [] : readTermFile(file), true)],
  ];
  const allowed = compile(allow, false);

  return (text) => {
    const views = viewsOf(text, allowed);
    for (const [category, matcher] of lists) {
      const term = findIn(matcher, views);
      if (term !== undefined) {
        return engineError('prompt-blocked', `The prompt was refused by the prompt filter: it contains "${term}" (${category} term)`, {
          category,
        });
      }
    }
    return undefined;
  };
}
