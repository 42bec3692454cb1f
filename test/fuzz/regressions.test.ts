import { describe, expect, it } from 'vitest';
import { parseCommandText } from '../../src/bots/core/grammar.ts';
import { errorText } from '../../src/bots/core/texts.ts';
import { expandPromptMatrix } from '../../src/engine/prompt/matrix.ts';
import { parseAspectRatio } from '../../src/engine/sizes.ts';

/** The cases grammar.fuzz.test.ts found, each pinned on its own. */
describe('fuzz regressions', () => {
  it('expands an outer matrix group with the alternative each prompt holds after an inner one', () => {
    const expanded = expandPromptMatrix('{a {b|c} d|e}', 16);
    expect(expanded).toEqual({ ok: true, value: ['a b d', 'e', 'a c d', 'e'] });
    expect(expandPromptMatrix('{x|{y|z} w} cat', 16)).toEqual({ ok: true, value: ['x cat', 'y w cat', 'x cat', 'z w cat'] });
  });

  it('says the prompt matrix limit in full, in both languages', () => {
    const expanded = expandPromptMatrix('{a|b|c|d|e}', 4);
    expect(expanded.ok).toBe(false);
    if (expanded.ok) return;
    expect(errorText('en', expanded.error)).toBe('matrix must be between 1 and 4; you gave 5.');
    expect(errorText('zh-CN', expanded.error)).not.toContain('undefined');
  });

  it('says the aspect ratio limits in full, in both languages', () => {
    const ratio = parseAspectRatio('100:1');
    expect(ratio.ok).toBe(false);
    if (ratio.ok) return;
    expect(errorText('en', ratio.error)).toBe('ar must be between 1:4 and 4:1; you gave 100:1.');
    expect(errorText('zh-CN', ratio.error)).toBe('ar 必须在 1:4 到 4:1 之间；你给的是 100:1。');
  });

  it('trims a ratio or region value after NFKC, which can open it with a space (¨)', () => {
    const parsed = parseCommandText('a fox --ar ¨', 'draft');
    expect(parsed.ok && parsed.value.options.ar).toBe('\u0308');
  });
});
