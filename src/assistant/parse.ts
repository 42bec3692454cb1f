/**
 * What the assistant wrote, made into prompts the bot can draft: reasoning, fences, labels and wrapping quotes taken
 * off, one paragraph, the chat grammar's special forms neutralised, cut to size at a sentence end. Models follow
 * format instructions loosely, so a describe answer is read as a JSON array when it holds one, else as numbered or
 * bulleted lines, else as paragraphs.
 */

/** A cleaned prompt, and whether it had to be cut to fit. */
export interface CleanPrompt {
  readonly text: string;
  readonly cut: boolean;
}

const THINK = /<(think|thinking|reasoning)>[\s\S]*?<\/\1>/gi;
/** An unclosed reasoning block (cut off by max_tokens) hides everything after it. */
const OPEN_THINK = /<(?:think|thinking|reasoning)>[\s\S]*$/i;
const FENCE = /^\s*```[a-zA-Z]*\s*\n?([\s\S]*?)\n?```\s*$/;
/** "Enhanced prompt:", "Prompt 2:", "提示词：" and the like, at the start of an answer or an item. */
const LABEL = /^\s*(?:\*\*)?(?:(?:enhanced|improved|rewritten|final|detailed)\s+)?(?:prompt|description)(?:\s*\d+)?(?:\*\*)?\s*[:：]\s*|^\s*(?:增强后的|优化后的|扩写后的|最终)?(?:提示词|描述)(?:\s*\d+)?\s*[:：]\s*/i;
const WRAPPING_QUOTES: readonly (readonly [string, string])[] = [
  ['"', '"'],
  ['“', '”'],
  ['「', '」'],
  ['『', '』'],
  ["'", "'"],
];
/** The chat grammar's flag openers (see bots/core/grammar.ts) at the start of a word: `--seed`, `——seed`, `—seed`. */
const FLAG_LIKE = /(^|\s)(?:--|——|－－|—|–)(?=[A-Za-zＡ-Ｚａ-ｚ])/gu;
/** "1.", "2)", "３．", "(4)", "- ", "• ", "Prompt 2:" opening a line of a list. */
const ITEM_MARKER = /^\s*(?:(?:\d{1,2}|[０-９]{1,2})\s*[.)、．:：）]\s*|[-*•·]\s+|[（(]\d{1,2}[)）]\s*|(?:\*\*)?(?:prompt|提示词)\s*\d+(?:\*\*)?\s*[:：]\s*)/i;
/** A short preamble line before the answer proper: "Here is the enhanced prompt:", "以下是提示词：". */
const PREAMBLE = /^[^\n]{0,80}[:：]\s*\n/;
/** A bold lead-in of an item ("**Watercolour:**"), and markdown emphasis generally. */
const BOLD_LEAD = /^\*\*[^*]{1,40}\*\*\s*[:：]?\s*/;
const SENTENCE_END = /[.!?。！？…](?:["”’」』)]*)(?=\s|$)|[。！？…]/gu;

export function stripReasoning(text: string): string {
  return text.replace(THINK, ' ').replace(OPEN_THINK, ' ');
}

function unwrap(text: string): string {
  let out = text.trim();
  const fenced = FENCE.exec(out);
  if (fenced) out = fenced[1]!.trim();
  if (PREAMBLE.test(out) && out.replace(PREAMBLE, '').trim() !== '') out = out.replace(PREAMBLE, '').trim();
  out = out.replace(LABEL, '').replace(BOLD_LEAD, '').replace(/\*\*|__/g, '').trim();
  for (const [open, close] of WRAPPING_QUOTES) {
    const inner = out.slice(open.length, out.length - close.length);
    // Only quotes around the whole answer: "a sign reading "OPEN" on a door" keeps its own.
    if (out.length > open.length + close.length && out.startsWith(open) && out.endsWith(close) && !inner.includes(open) && !inner.includes(close)) {
      out = inner.trim();
    }
  }
  return out;
}

/**
 * Prompts are drafted through the chat grammar, so what would read as a flag or a prompt-matrix group is defused:
 * a dash run that opens a word becomes a plain hyphen and a space, braces become parentheses.
 */
export function neutraliseGrammar(text: string): string {
  return text
    .replace(FLAG_LIKE, '$1- ')
    .replace(/[{｛]/gu, '(')
    .replace(/[}｝]/gu, ')');
}

/** At most `max` characters, cut after the last sentence end that fits (else the last space, else hard). */
export function cutToSentence(text: string, max: number): CleanPrompt {
  const chars = [...text];
  if (chars.length <= max) return { text, cut: false };
  const head = chars.slice(0, max).join('');
  let end = -1;
  for (const match of head.matchAll(SENTENCE_END)) end = match.index + match[0].length;
  if (end < head.length / 3) end = head.lastIndexOf(' ') > head.length / 2 ? head.lastIndexOf(' ') : head.length;
  return { text: head.slice(0, end).trim(), cut: true };
}

/** One prompt out of an answer (or an item of one). Empty text when nothing usable is left. */
export function cleanPrompt(raw: string, maxChars: number): CleanPrompt {
  const flat = unwrap(stripReasoning(raw)).replace(/\s+/gu, ' ').trim();
  return cutToSentence(neutraliseGrammar(flat), maxChars);
}

/**
 * Quoted passages of the user's prompt — text Z-Image is to draw — in "…", “…”, 「…」 or 『…』. Each must survive
 * the rewrite word for word.
 */
export function quotedPassages(prompt: string): string[] {
  const found: string[] = [];
  for (const match of prompt.matchAll(/"([^"]+)"|“([^”]+)”|「([^」]+)」|『([^』]+)』/gu)) {
    const passage = (match[1] ?? match[2] ?? match[3] ?? match[4] ?? '').trim();
    if (passage !== '') found.push(passage);
  }
  return found;
}

/** The items of a describe answer, raw: a JSON array (of strings, or of objects with a prompt), else lines, else paragraphs. */
export function splitSuggestions(answer: string): string[] {
  const text = stripReasoning(answer).trim();
  const fromJson = jsonItems(text);
  if (fromJson) return fromJson;
  const items: string[] = [];
  let open = false;
  for (const line of text.split(/\r?\n/)) {
    if (ITEM_MARKER.test(line)) {
      items.push(line.replace(ITEM_MARKER, '').trim());
      open = true;
    } else if (line.trim() === '') {
      open = false;
    } else if (open) {
      items[items.length - 1] += ` ${line.trim()}`;
    }
  }
  if (items.length > 0) return items;
  return text.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p !== '');
}

function jsonItems(text: string): string[] | null {
  const unfenced = FENCE.exec(text)?.[1] ?? text;
  for (const candidate of [unfenced, unfenced.slice(unfenced.indexOf('['), unfenced.lastIndexOf(']') + 1)]) {
    if (!candidate.trim().startsWith('[') && !candidate.trim().startsWith('{')) continue;
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      continue;
    }
    // {"prompts": [...]} and the like.
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) value = Object.values(value).find(Array.isArray);
    if (!Array.isArray(value)) continue;
    const items = value
      .map((item: unknown) => {
        if (typeof item === 'string') return item;
        const record = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
        const text = record.prompt ?? record.text ?? record.description;
        return typeof text === 'string' ? text : '';
      })
      .filter((item) => item.trim() !== '');
    if (items.length > 0) return items;
  }
  return null;
}
