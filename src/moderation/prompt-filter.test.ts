import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { moderationSchema } from './config.ts';
import { ModerationSetupError } from './errors.ts';
import { createPromptFilter } from './prompt-filter.ts';
import { readKanaLongVowels, readLookalikes } from './lookalikes.ts';
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

  it('writes Traditional Chinese as Simplified and half-width kana as full-width', () => {
    expect(foldText('一個裸體的女人')).toBe('一个裸体的女人');
    expect(foldText('強姦 陰莖 蘿莉 做愛')).toBe('强奸 阴茎 萝莉 做爱');
    expect(foldText('ﾇｰﾄﾞ ﾊﾟﾝﾀﾞ')).toBe('ヌード パンダ');
    // A kana keeps its voicing mark; a stray one on a Latin letter is dropped like any accent.
    expect(foldText('ヌード ハ\u309aンダ nu\u3099de')).toBe('ヌード パンダ nude');
    expect(foldText('ヌート゛ ハ゜ンダ ヌート\u200b゛')).toBe('ヌード パンダ ヌード');
  });

  it('reads look-alike letters as Latin only in words that mix scripts or are made of look-alikes', () => {
    expect(readLookalikes('ɴᴜᴅᴇ ꜱᴇx')).toBe('nude sex'); // Latin small capitals
    expect(readLookalikes('nսde ոսde')).toBe('nude nude'); // Armenian ս, ո
    expect(readLookalikes('\u0440orn \u0455\u0435\u0445')).toBe('porn sex'); // Cyrillic р; ѕех all Cyrillic
    expect(readLookalikes('ΝUDE NUDΙTY ꓠꓴꓓꓰ')).toBe('NUDE NUDITY NUDE'); // Greek Ν, Ι; Lisu capitals
    expect(readLookalikes('Łódź Ørsted')).toBe('Lodz Orsted');
    // Ordinary words of other scripts keep their letters.
    const ordinary = 'Привет, как дела? Γειά σου κόσμε. Բարև ձեզ. 猫がカロリー';
    expect(readLookalikes(ordinary)).toBe(ordinary.replace('σου', 'oou'));
  });

  it('reads a dash after a kana as the long-vowel mark in a second view', () => {
    expect(readKanaLongVowels(foldText('ヌ－ド ヌ~ド ヌ―ド ヌ一ド'))).toBe('ヌード ヌード ヌード ヌード');
    expect(readKanaLongVowels('nu-de 一个')).toBe('nu-de 一个');
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

  it('refuses Traditional Chinese, pinyin, small capitals, look-alike letters and Japanese forms', () => {
    const sexual = [
      '裸體', '做愛', '強姦', '陰莖', '一個裸體的女人', '淫穢圖片',
      'luoti', 'a seqing picture', 'zuoai', 'Ｌｕｏｔｉ', 'luǒtǐ', 'l u o t i',
      'ɴᴜᴅᴇ', 'ᴘᴏʀɴ', 'nսde woman', 'ոսde', '\u0440orn', '\u0455\u0435\u0445 scene', 'ΝUDE', 'NUDΙTY', 'ꓠꓴꓓꓰ',
      'ヌード', 'ヌード写真', 'ヌ－ド', 'ﾇｰﾄﾞ', 'ヌート゛', 'ヌ~ド', 'ヌ一ド', 'ヌ ー ド', 'エロ本', 'セックスシーン', 'ｾｯｸｽ', 'セッ-クス',
      'ポルノ', 'おっぱい', '強姦される', 'oppai', 'ecchi',
    ];
    for (const text of sexual) expect([text, blocked(text)]).toEqual([text, 'sexual']);
    const minors = ['蘿莉', '戀童', 'luoli', 'ロリ', 'ロリキャラ', 'ロリコン', 'ショタ', 'ʟᴏʟɪ'];
    for (const text of minors) expect([text, blocked(text)]).toEqual([text, 'minors']);
  });

  it('matches pinyin and romaji as whole words only', () => {
    const harmless = ['Luo Tianyi, luotianyi concert poster', 'xingaiwang', 'seqingdao', 'a yinjingxi lantern', 'erogenous zone diagram'];
    for (const text of harmless) expect([text, filter(text)]).toEqual([text, undefined]);
  });

  it('leaves ordinary sentences in other scripts alone', () => {
    const harmless = [
      'Привет, как дела? Съешь ещё этих мягких французских булок',
      'ХОРОШО, СОР, РОСА, ХОР',
      'Γειά σου Κόσμε, ΚΑΛΗΜΕΡΑ, ένα ποτήρι νερό',
      'Բարև ձեզ, ինչպես եք, ոսկի',
      '猫が草の上で寝ている', 'ねこがかえろうとしている、ころりと寝た',
      '一隻貓在草地上', '港口交通繁忙', '個性愛好', '角色情感豐富', '紅色情侶裝',
      'Straße in München, Łódź old town, Ørsted',
    ];
    for (const text of harmless) expect([text, filter(text)]).toEqual([text, undefined]);
  });

  it('does not match kana terms inside the longer words the allow list names', () => {
    const harmless = [
      'カロリー計算', 'キャロリン', 'テロリストの映画', 'フロリダの海', 'グロリア', 'クロリン', 'トロリーバス', 'チロリアン',
      'スローロリス', 'ロリポップ', 'ブロリー', 'かいけつゾロリ', 'ソロリティ', 'マロリー',
      'エロージョン', 'ピエロの絵', 'ヒエログリフ', 'アエロフロート', 'エロイカ交響曲', 'ポンティアック・フィエロ',
      'ヌードルを食べる', 'ヌードカラーの口紅', 'ユニセックスの服', 'ミドルセックス', 'エセックスの田舎',
      'エッチングの版画', 'フェラーリの車', 'フェラーラの街', 'ローリング・ストーンズ',
    ];
    for (const text of harmless) expect([text, filter(text)]).toEqual([text, undefined]);
    // An allowed word masks only itself.
    expect(blocked('カロリー ロリ')).toBe('minors');
    expect(blocked('ヌードル ヌード')).toBe('sexual');
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
