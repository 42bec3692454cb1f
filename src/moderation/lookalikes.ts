import { createRequire } from 'node:module';
import anyAscii from 'any-ascii';

/**
 * Reads letters that stand in for Latin ones as the Latin letters they imitate. Both sources are maintained data, not
 * a hand list:
 * - Unicode's confusables (UTS #39 confusables.txt, as the unhomoglyph package ships it): Cyrillic р, Greek Ν,
 *   Armenian ս, Cherokee and Lisu capitals... each has a prototype; only prototypes made of ASCII letters are used.
 * - any-ascii's table for the Latin script's own letters that have no decomposition to fold: small capitals (ɴᴜᴅᴇ),
 *   ı, ł, ø, turned and IPA letters.
 */
const confusables = createRequire(import.meta.url)('unhomoglyph/data.json') as Readonly<Record<string, string>>;

const ASCII_LETTERS = /^[A-Za-z]+$/;
const LETTER = /\p{L}/u;
const LATIN = /\p{Script=Latin}/u;
/** CJK text is matched by its own terms; Unicode's prototypes for it (カ → 力, ロ → 口) are no Latin letters anyway. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]/u;

/**
 * Letters of other scripts whose prototype is ASCII letters. Unicode files capital I with small l under the prototype
 * "l"; a capital that looks like I (Greek Ι, Cyrillic І) stands for "i" once the text is lowercased.
 */
const OTHER_SCRIPT: ReadonlyMap<string, string> = new Map(
  Object.entries(confusables)
    .filter(([from, to]) => LETTER.test(from) && !LATIN.test(from) && !CJK.test(from) && ASCII_LETTERS.test(to))
    .map(([from, to]) => [from, to === 'l' && from !== from.toLowerCase() ? 'I' : to]),
);

const latinCache = new Map<string, string>();

/** A non-ASCII Latin letter as ASCII letters (ɴ → n, ł → l, æ → ae), or itself when any-ascii has no letters for it. */
function latinLetter(ch: string): string {
  let out = latinCache.get(ch);
  if (out === undefined) {
    const ascii = anyAscii(ch);
    out = ASCII_LETTERS.test(ascii) ? ascii : ch;
    latinCache.set(ch, out);
  }
  return out;
}

const TOKEN = /[\p{L}\p{N}]+/gu;
const NON_ASCII_LATIN = /(?![A-Za-z])\p{Script=Latin}/u;

/**
 * Rewrites each word so that look-alike letters read as Latin. Letters of another script are mapped only where the
 * word mixes them with Latin letters ("nսde", "рorn") or consists of nothing but look-alikes ("ѕех"), so ordinary
 * Russian, Greek or Armenian words keep their letters. Latin letters without an ASCII form are always folded, as
 * accents are.
 */
export function readLookalikes(text: string): string {
  return text.replace(TOKEN, (token) => {
    let latin = false;
    let lookalike = false;
    let other = false;
    for (const ch of token) {
      if (!LETTER.test(ch)) continue;
      if (LATIN.test(ch)) latin = true;
      else if (OTHER_SCRIPT.has(ch)) lookalike = true;
      else other = true;
    }
    const mapOthers = lookalike && (latin || !other);
    if (!mapOthers && !NON_ASCII_LATIN.test(token)) return token;
    let out = '';
    for (const ch of token) {
      const mapped = mapOthers ? OTHER_SCRIPT.get(ch) : undefined;
      out += mapped ?? (ch.charCodeAt(0) > 0x7f && LATIN.test(ch) ? latinLetter(ch) : ch);
    }
    return out;
  });
}

const escapeClass = (ch: string): string => (/[\\\]^-]/.test(ch) ? `\\${ch}` : ch);

/** Unicode's look-alikes of the long-vowel mark ー (― — ─ 一 and the full-width hyphen), dashes and wave dashes. */
const LONG_VOWEL_STAND_INS = Object.entries(confusables)
  .filter(([, to]) => to === 'ー')
  .map(([from]) => escapeClass(from.normalize('NFKC')))
  .join('');
const KANA_DASHES = new RegExp(`(?<=[\\p{Script=Katakana}\\p{Script=Hiragana}ー])[\\p{Pd}~〜${LONG_VOWEL_STAND_INS}]+`, 'gu');

/**
 * After a kana, a dash is as likely the long-vowel mark (ヌ－ド, ヌ~ド, ヌ一ド for ヌード) as a separator: this
 * reading takes it as the mark. Expects folded text.
 */
export function readKanaLongVowels(text: string): string {
  return text.replace(KANA_DASHES, 'ー');
}
