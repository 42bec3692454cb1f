/**
 * Text views the prompt filter matches against. Each view undoes one family of evasions without inventing words
 * that were not written: letters are only joined when every one of them stands alone ("n u d e"), never when whole
 * words sit next to each other ("pen is" stays two words).
 */

import { Converter } from 'opencc-js/t2cn';
import { readLookalikes } from './lookalikes.ts';

/** Accents and other combining marks; a kana keeps its voicing mark (ド is not ト, パ is not ハ). */
const MARKS = /(?<![\p{Script=Katakana}\p{Script=Hiragana}])[\u3099\u309a]|(?![\u3099\u309a])\p{M}/gu;
/** The spacing voicing marks (ト゛) typed after a kana stand for the combining ones (ド). */
const SPACING_VOICING = /(?<=[\p{Script=Katakana}\p{Script=Hiragana}])[\u309b\u309c]/gu;
/** Zero-width spaces and joiners, word joiner, BOM, soft hyphen, variation selectors, bidi controls... */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;
const HAN = /\p{Script=Han}/u;

/** OpenCC's Traditional → Simplified tables (phrases first, then characters): 裸體 → 裸体, 強姦 → 强奸. */
const toSimplified = Converter({ from: 't', to: 'cn' });

/**
 * Compatibility-folds (full-width → ASCII, half-width kana → full-width, ligatures, styled math letters), strips
 * accents and invisible characters, reads look-alike letters as Latin (Cyrillic р, small capitals), lowercases, and
 * writes Traditional Chinese characters as Simplified.
 */
export function foldText(text: string): string {
  const visible = text.replace(INVISIBLE, '');
  const decomposed = visible.replace(SPACING_VOICING, (mark) => (mark === '\u309b' ? '\u3099' : '\u309a')).normalize('NFKD');
  const folded = readLookalikes(decomposed.replace(MARKS, '').replace(INVISIBLE, ''))
    .toLowerCase()
    .normalize('NFKC');
  return HAN.test(folded) ? toSimplified(folded) : folded;
}

/** A run of at least three characters that each stand alone between separators: "n u d e", "n.u.d.e", "n-u-d-e". */
const SPACED_LETTERS = /(?<![\p{L}\p{N}])[\p{L}\p{N}](?:[^\p{L}\p{N}]+[\p{L}\p{N}](?![\p{L}\p{N}])){2,}/gu;

/**
 * The spelled-out words of a text, joined: "a n u d e photo" → ["anude"]. Where the words of such a run end is
 * unknowable ("a" or "an"?), so the filter looks for terms anywhere inside a run rather than at word boundaries.
 */
export function spelledOutRuns(text: string): string[] {
  return Array.from(text.matchAll(SPACED_LETTERS), (match) => compactText(match[0]));
}

const LEET: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's' };
/** Tokens that mix letters with digits or @/$ ("p0rn", "s3x", "$ex"); plain numbers ("1080", "4") are left alone. */
const LEET_TOKEN = /[\p{L}\p{N}@$]+/gu;

/** Reads leetspeak digits and symbols as the letters they stand for, only inside tokens that also hold a letter. */
export function decodeLeet(text: string): string {
  return text.replace(LEET_TOKEN, (token) =>
    /\p{L}/u.test(token) && /[013457@$]/.test(token) ? token.replace(/[013457@$]/g, (ch) => LEET[ch] ?? ch) : token,
  );
}

/** Drops everything that is not a letter or digit, so "裸 体", "裸.体" and "裸\u200b体" all read 裸体. */
export function compactText(text: string): string {
  return text.replace(/[^\p{L}\p{N}]+/gu, '');
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** CJK terms are matched as substrings (there are no spaces between words); others need word boundaries. */
export function isCjkTerm(term: string): boolean {
  return CJK.test(term);
}
