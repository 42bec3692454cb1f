import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { moderationSchema } from './config.ts';
import { ModerationSetupError } from './errors.ts';
import { createPromptFilter } from './prompt-filter.ts';
import { decodeLeet, foldText, spelledOutRuns } from './text-normalize.ts';

// The shipped lists from config/default.yaml, so these tests also hold the default configuration to its promises.
const shipped = loadConfig({ root: resolve(import.meta.dirname, '../..'), env: {}, overrideFile: null }).moderation;
const filter = createPromptFilter(shipped);
const blocked = (text: string): string | undefined => filter(text)?.params?.category as string | undefined;

describe('text normalisation', () => {
  it('folds full-width forms, accents, case and invisible characters', () => {
    expect(foldText('ｎｕｄｅ ＮＵＤＥ')).toBe('nude nude');
    expect(foldText('Nüde Ñ')).toBe('nude n');
    expect(foldText('n\u200bu\u200cd\u200de\u2060s\ufeffe\u00adx')).toBe('nudesex');
    expect(foldText('ｐｏｒｎ，裸　体')).toBe('porn,裸 体');
    expect(foldText('nսde'.replace('ս', 'u') + ' \u0440orn')).toBe('nude porn'); // Cyrillic р
  });

  it('joins only letters that each stand alone', () => {
    expect(spelledOutRuns('a n u d e photo')).toEqual(['anude']);
    expect(spelledOutRuns('n.u.d.e, then n - u - d - e')).toEqual(['nude', 'nude']);
    expect(spelledOutRuns('pen is mightier, a b')).toEqual([]);
  });

  it('reads leetspeak only inside words that also have letters', () => {
    expect(decodeLeet('p0rn s3x $ex h3nt41')).toBe('porn sex sex hentai');
    expect(decodeLeet('1080 x 1920, 4 cats')).toBe('1080 x 1920, 4 cats');
  });
});

describe('createPromptFilter', () => {
  it('refuses explicit prompts with prompt-blocked and the category, not the term, in params', () => {
    const error = filter('a nude woman on a beach');
    expect(error).toMatchObject({ code: 'prompt-blocked', params: { category: 'sexual' } });
    expect(error?.message).toContain('"nude"');
    expect(Object.values(error?.params ?? {})).not.toContain('nude');
    expect(blocked('NSFW art')).toBe('sexual');
    expect(blocked('two nudes, oil painting')).toBe('sexual');
    expect(blocked('一个裸体的女人')).toBe('sexual');
    expect(blocked('色情图片')).toBe('sexual');
  });

  it('reports terms about minors under their own category first', () => {
    expect(blocked('loli, nude')).toBe('minors');
    expect(blocked('Jailbait poster')).toBe('minors');
    expect(blocked('萝莉')).toBe('minors');
  });

  it('sees through evasions', () => {
    const evasions = [
      'n u d e woman',
      'a n u d e woman',
      'n u d e w o m a n',
      'p 0 r n',
      'n.u.d.e woman',
      'n-u-d-e woman',
      'N_U_D_E',
      'ｎｕｄｅ woman',
      'Ｎ Ｕ Ｄ Ｅ',
      'nu\u200bde woman',
      'n\u00adude',
      'NuDe',
      'núdé',
      'p0rn',
      's3x scene',
      '$ex',
      'p\u200b0\u200br\u200bn',
      'sexual-intercourse',
      '一个nude女人',
      '裸 体',
      '裸.体',
      '裸\u200b体',
      '裸　体',
      '色-情',
    ];
    for (const text of evasions) expect([text, blocked(text)]).toEqual([text, 'sexual']);
  });

  it('does not join ordinary words into terms or match inside words', () => {
    const harmless = [
      'The pen is mightier than the sword',
      'a cottage in Essex',
      'Sussex countryside, Middlesex university',
      'data analysis dashboard',
      'grapes and rapeseed fields',
      'a therapist at work',
      'shotgun on a table', // shota
      'pedometer on a wrist', // pedo
      'seen with the naked eye',
      'nude lipstick and nude colour palette',
      'pussy willow branches in a vase',
      'Apex legends, sextant, sexagenarian', // sex
      'a b c d e',
      '1080 x 1920 4k wallpaper',
      'Middle-earth map, ink style',
    ];
    for (const text of harmless) expect([text, filter(text)]).toEqual([text, undefined]);
  });

  it('does not match Chinese terms across the allowed phrases that contain them', () => {
    const harmless = ['港口交通繁忙', '异性交往', '个性爱好', '做爱心蛋糕', '角色情感丰富', '红色情侣装', '树阴部分', '出口交易额', '一只猫在草地上'];
    for (const text of harmless) expect([text, filter(text)]).toEqual([text, undefined]);
    // An allowed phrase masks only itself.
    expect(blocked('港口交通 口交')).toBe('sexual');
  });

  it('reads extra terms from a file, and stops start-up when the file is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zimage-terms-'));
    const file = join(dir, 'terms.txt');
    writeFileSync(file, '# house rules\n\nzorblax\n禁词\n');
    const custom = createPromptFilter(moderationSchema.parse({ promptFilter: { file } }));
    expect(custom('ZORBLAX at dawn')).toMatchObject({ code: 'prompt-blocked', params: { category: 'custom' } });
    expect(custom('这是禁 词')).toMatchObject({ params: { category: 'custom' } });
    expect(custom('# house rules')).toBeUndefined();
    expect(() => createPromptFilter(moderationSchema.parse({ promptFilter: { file: join(dir, 'missing.txt') } }))).toThrow(ModerationSetupError);
  });

  it('passes everything when no terms are configured', () => {
    expect(createPromptFilter(moderationSchema.parse({}))('nude')).toBeUndefined();
  });
});
