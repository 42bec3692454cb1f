import type { Role } from '../../config/schema.ts';

/**
 * The command options, one list for every platform: the inline flags of the grammar, Discord's slash options, the
 * studio's help and Slack's usage text all come from here.
 */
export type OptionKind = 'integer' | 'number' | 'text' | 'ratio' | 'style' | 'region' | 'switch';

export interface OptionSpec {
  readonly name: OptionName;
  /** Other spellings accepted inline (`--cfg` for `--guidance`). */
  readonly aliases: readonly string[];
  readonly kind: OptionKind;
  readonly min?: number;
  readonly max?: number;
  /** Roles that take the option. */
  readonly roles: readonly Role[];
  readonly description: { readonly en: string; readonly 'zh-CN': string };
}

export type OptionName = 'seed' | 'count' | 'chaos' | 'ar' | 'style' | 'no' | 'steps' | 'guidance' | 'strength' | 'region' | 'enhance';

export const OPTIONS: readonly OptionSpec[] = [
  { name: 'count', aliases: ['n'], kind: 'integer', min: 1, max: 4, roles: ['draft', 'refine', 'edit'], description: { en: 'How many candidates (1–4)', 'zh-CN': '候选数量（1–4）' } },
  { name: 'seed', aliases: [], kind: 'integer', min: 0, max: 4294967295, roles: ['draft', 'refine', 'edit'], description: { en: 'Seed: the same seed and options give the same image', 'zh-CN': '种子：相同的种子和参数生成相同的图像' } },
  { name: 'chaos', aliases: [], kind: 'number', min: 0, max: 100, roles: ['draft'], description: { en: 'How different the candidates are (0–100)', 'zh-CN': '候选之间的差异程度（0–100）' } },
  { name: 'ar', aliases: ['aspect'], kind: 'ratio', roles: ['draft', 'refine'], description: { en: 'Aspect ratio, like 16:9', 'zh-CN': '宽高比，例如 16:9' } },
  { name: 'style', aliases: [], kind: 'style', roles: ['draft', 'refine', 'edit'], description: { en: 'Style preset', 'zh-CN': '风格预设' } },
  { name: 'no', aliases: ['negative'], kind: 'text', roles: ['draft', 'refine', 'edit'], description: { en: 'What to avoid (negative prompt)', 'zh-CN': '要避免的内容（反向提示词）' } },
  { name: 'steps', aliases: [], kind: 'integer', min: 1, max: 50, roles: ['draft', 'refine', 'edit'], description: { en: 'Denoising steps', 'zh-CN': '去噪步数' } },
  { name: 'guidance', aliases: ['cfg'], kind: 'number', min: 0, max: 20, roles: ['draft', 'refine', 'edit'], description: { en: 'Guidance scale (0 = off)', 'zh-CN': '引导强度（0 = 关闭）' } },
  { name: 'strength', aliases: [], kind: 'number', min: 0, max: 1, roles: ['refine', 'edit'], description: { en: 'How much to change the image (0–1)', 'zh-CN': '修改程度（0–1）' } },
  { name: 'region', aliases: [], kind: 'region', roles: ['edit'], description: { en: 'Where to edit: left, right, top, bottom, center or x,y,w,h %', 'zh-CN': '编辑区域：left、right、top、bottom、center 或 x,y,w,h（百分比）' } },
  // A switch takes no value. Only where the prompt assistant is configured; elsewhere it is refused with the setup line.
  { name: 'enhance', aliases: [], kind: 'switch', roles: ['draft'], description: { en: 'Let the prompt assistant write a detailed prompt from yours first', 'zh-CN': '先让提示词助手把你的提示词扩写得更详细' } },
];

export const OPTION_BY_NAME: ReadonlyMap<string, OptionSpec> = new Map(
  OPTIONS.flatMap((o) => [o.name, ...o.aliases].map((n) => [n, o] as const)),
);

/** Parsed option values, in the engine's vocabulary. */
export interface CommandOptions {
  seed?: number;
  count?: number;
  chaos?: number;
  ar?: string;
  style?: string;
  no?: string;
  steps?: number;
  guidance?: number;
  strength?: number;
  region?: string;
  /** Rewrite the prompt with the prompt assistant before drafting it. */
  enhance?: boolean;
}
