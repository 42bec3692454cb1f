import { describe, expect, it } from 'vitest';
import { parseCommandText } from './grammar.ts';

const parse = (text: string, role: 'draft' | 'refine' | 'edit' = 'draft') => parseCommandText(text, role);

describe('inline flag grammar', () => {
  it('reads flags anywhere and keeps the prompt as typed', () => {
    expect(parse('a red fox --seed 42 --count 2 --ar 16:9 --chaos 30 --style ink --steps 8 --no text, watermark')).toEqual({
      ok: true,
      value: { prompt: 'a red fox', options: { seed: 42, count: 2, ar: '16:9', chaos: 30, style: 'ink', steps: 8, no: 'text, watermark' } },
    });
    expect(parse('a fox --seed 7 in the snow')).toEqual({ ok: true, value: { prompt: 'a fox in the snow', options: { seed: 7 } } });
  });

  it('treats Chinese input-method forms as flags, and keeps Chinese prompts intact', () => {
    const result = parse('一只红色的狐狸，雪地里 ——seed ４２ －－ar １６：９ --style 水墨');
    expect(result).toEqual({ ok: true, value: { prompt: '一只红色的狐狸，雪地里', options: { seed: 42, ar: '16:9', style: '水墨' } } });
  });

  it('accepts aliases', () => {
    expect(parse('x --cfg 4.5 --n 3', 'refine')).toEqual({ ok: true, value: { prompt: 'x', options: { guidance: 4.5, count: 3 } } });
  });

  it('does not mistake hyphens inside words or a lone dash for flags', () => {
    expect(parse('a well-known fox - cute')).toEqual({ ok: true, value: { prompt: 'a well-known fox - cute', options: {} } });
  });

  it('reads --enhance as a switch: it takes no value, and the words after it are the prompt’s', () => {
    expect(parse('a fox --enhance in the snow --seed 3')).toEqual({ ok: true, value: { prompt: 'a fox in the snow', options: { enhance: true, seed: 3 } } });
    expect(parse('一只红色的狐狸 ——enhance')).toEqual({ ok: true, value: { prompt: '一只红色的狐狸', options: { enhance: true } } });
    expect(parse('x --enhance --enhance')).toMatchObject({ ok: false, error: { code: 'duplicate-flag', params: { flag: '--enhance' } } });
    expect(parse('x --enhance', 'refine')).toMatchObject({ ok: false, error: { code: 'flag-not-for-role', params: { flag: '--enhance' } } });
  });

  it('refuses bad input with one precise error each', () => {
    expect(parse('x --sed 4')).toMatchObject({ ok: false, error: { code: 'unknown-flag', params: { flag: '--sed' } } });
    expect(parse('x --seed')).toMatchObject({ ok: false, error: { code: 'missing-value', params: { flag: '--seed' } } });
    expect(parse('x --seed abc')).toMatchObject({ ok: false, error: { code: 'not-a-number' } });
    expect(parse('x --count 2.5')).toMatchObject({ ok: false, error: { code: 'not-a-number' } });
    expect(parse('x --count 9')).toMatchObject({ ok: false, error: { code: 'option-out-of-range', params: { min: 1, max: 4 } } });
    expect(parse('x --seed 1 --seed 2')).toMatchObject({ ok: false, error: { code: 'duplicate-flag' } });
    expect(parse('x --strength 0.5', 'draft')).toMatchObject({ ok: false, error: { code: 'flag-not-for-role' } });
    expect(parse('x --region left', 'edit')).toMatchObject({ ok: true, value: { options: { region: 'left' } } });
  });
});
