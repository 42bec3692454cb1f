/**
 * Text views the prompt filter matches against. Each view undoes one family of evasions without inventing words
 * that were not written: letters are only joined when every one of them stands alone ("n u d e"), never when whole
 * words sit next to each other ("pen is" stays two words).
 */

const MARKS = /\p{M}/gu;
/** Zero-width spaces and joiners, word joiner, BOM, soft hyphen, variation selectors, bidi controls... */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/** Lowercase look-alikes from other scripts that people swap into Latin words. Deliberately small. */
const HOMOGLYPHS: Readonly<Record<string, string>> = {
  а: 'a', с: 'c', е: 'e', һ: 'h', і: 'i', ј: 'j', к: 'k', о: 'o', р: 'p', ԛ: 'q', ѕ: 's', ԝ: 'w', х: 'x', у: 'y',
  α: 'a', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x',
};
const HOMOGLYPH = new RegExp(`[${Object.keys(HOMOGLYPHS).join('')}]`, 'gu');

/**
 * Compatibility-folds (full-width → ASCII, ligatures, styled math letters), strips accents and invisible characters,
 * and lowercases.
 */
export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(MARKS, '')
    .replace(INVISIBLE, '')
    .toLowerCase()
    .replace(HOMOGLYPH, (ch) => HOMOGLYPHS[ch] ?? ch)
    .normalize('NFKC');
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
