import { describe, expect, it } from 'vitest';
import { parseCommandText } from '../bots/core/grammar.ts';
import { expandPromptMatrix } from '../engine/prompt/matrix.ts';
import { cleanPrompt, cutToSentence, quotedPassages, splitSuggestions } from './parse.ts';

describe('cleanPrompt', () => {
  it('takes off reasoning, fences, labels, a preamble and quotes around the whole answer, and makes one paragraph', () => {
    expect(cleanPrompt('<think>The user wants a fox.\nLet me think.</think>\n\nA red fox in snow.', 500).text).toBe('A red fox in snow.');
    expect(cleanPrompt('```text\nA red fox\nin snow.\n```', 500).text).toBe('A red fox in snow.');
    expect(cleanPrompt('Enhanced prompt: A red fox in snow.', 500).text).toBe('A red fox in snow.');
    expect(cleanPrompt('**Prompt:** A red fox in snow.', 500).text).toBe('A red fox in snow.');
    expect(cleanPrompt('增强后的提示词：一只红色的狐狸站在雪地里。', 500).text).toBe('一只红色的狐狸站在雪地里。');
    expect(cleanPrompt("Here's the enhanced prompt:\n\nA red fox in snow.", 500).text).toBe('A red fox in snow.');
    expect(cleanPrompt('"A red fox in snow."', 500).text).toBe('A red fox in snow.');
    expect(cleanPrompt('“一只红色的狐狸。”', 500).text).toBe('一只红色的狐狸。');
    // Quotes inside stay: they are text to be drawn.
    expect(cleanPrompt('A shop sign reading "OPEN" above a door, and a mat reading "WELCOME".', 500).text).toBe('A shop sign reading "OPEN" above a door, and a mat reading "WELCOME".');
    // A reasoning block cut off by max_tokens leaves nothing after it.
    expect(cleanPrompt('<think>still thinking about', 500).text).toBe('');
  });

  it('defuses what the chat grammar would read as a flag or a prompt matrix', () => {
    const cleaned = cleanPrompt('A fox --ar 16:9 in a {red|blue} scarf —seed 4, a long—winding road ——no', 500).text;
    expect(cleaned).not.toMatch(/[{}]/);
    const parsed = parseCommandText(cleaned, 'draft');
    expect(parsed).toMatchObject({ ok: true, value: { options: {} } });
    expect(expandPromptMatrix(cleaned, 4)).toEqual({ ok: true, value: [cleaned] });
    expect(cleaned).toContain('long—winding');
  });

  it('cuts a long answer at the last sentence end that fits, and says so', () => {
    const text = 'One sentence here. Another sentence follows. A third one is longer than the rest of them.';
    expect(cutToSentence(text, 200)).toEqual({ text, cut: false });
    expect(cutToSentence(text, 60)).toEqual({ text: 'One sentence here. Another sentence follows.', cut: true });
    expect(cutToSentence('一只狐狸。它站在雪地里，尾巴很长，毛色火红。', 12)).toEqual({ text: '一只狐狸。', cut: true });
    // No sentence end early enough: the last space.
    expect(cutToSentence('word '.repeat(40).trim(), 23)).toEqual({ text: 'word word word word', cut: true });
    expect([...cleanPrompt('x'.repeat(3000), 1500).text].length).toBe(1500);
  });
});

describe('quotedPassages', () => {
  it('finds text to be drawn in straight, curly and corner quotes', () => {
    expect(quotedPassages('a sign "OPEN 24h", a cup “CAFÉ” and 「早安」 on 『书』, an apostrophe’s')).toEqual(['OPEN 24h', 'CAFÉ', '早安', '书']);
    expect(quotedPassages('no quotes here')).toEqual([]);
  });
});

describe('splitSuggestions', () => {
  const four = ['A red fox in snow.', 'A watercolour fox.', 'A fox at dusk.', 'A fox from above.'];

  it('reads a JSON array, fenced or in prose, or inside an object, of strings or of objects with a prompt', () => {
    expect(splitSuggestions(JSON.stringify(four))).toEqual(four);
    expect(splitSuggestions(`\`\`\`json\n${JSON.stringify(four, null, 2)}\n\`\`\``)).toEqual(four);
    expect(splitSuggestions(`Here are the prompts:\n${JSON.stringify(four)}\nEnjoy!`)).toEqual(four);
    expect(splitSuggestions(JSON.stringify({ prompts: four }))).toEqual(four);
    expect(splitSuggestions(JSON.stringify(four.map((prompt) => ({ title: 'x', prompt }))))).toEqual(four);
    expect(splitSuggestions(`<think>an image of a fox</think>${JSON.stringify(four)}`)).toEqual(four);
  });

  it('reads numbered and bulleted lines, continuation lines joined, and paragraphs when there is no list', () => {
    expect(splitSuggestions('Sure!\n\n1. A red fox in snow.\n2) A watercolour fox.\n３．A fox at dusk.\n- A fox from above.')).toEqual(four);
    expect(splitSuggestions('1. A red fox\n   in snow.\n\n2. A watercolour fox.')).toEqual(['A red fox in snow.', 'A watercolour fox.']);
    expect(splitSuggestions('Prompt 1: A red fox in snow.\nPrompt 2: A watercolour fox.')).toEqual(['A red fox in snow.', 'A watercolour fox.']);
    expect(splitSuggestions('1、雪地里的红狐狸。\n2、水彩风格的狐狸。')).toEqual(['雪地里的红狐狸。', '水彩风格的狐狸。']);
    expect(splitSuggestions('A red fox in snow.\n\nA watercolour fox.')).toEqual(['A red fox in snow.', 'A watercolour fox.']);
    expect(splitSuggestions('[not json')).toEqual(['[not json']);
  });
});
