import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Style presets (config/styles.yaml): a prompt template with `{prompt}` and a negative prompt. */
const styleSchema = z
  .object({
    label: z.object({ en: z.string().min(1), 'zh-CN': z.string().min(1) }).strict(),
    aliases: z.array(z.string().min(1)).default([]),
    prompt: z.string().includes('{prompt}'),
    negative: z.string().default(''),
  })
  .strict();

const stylesSchema = z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), styleSchema);

export type StylePreset = z.infer<typeof styleSchema> & { readonly name: string };

export class StyleCatalog {
  readonly #byName = new Map<string, StylePreset>();
  readonly presets: readonly StylePreset[];

  constructor(presets: readonly StylePreset[]) {
    this.presets = presets;
    for (const preset of presets) {
      for (const key of [preset.name, ...preset.aliases]) {
        const folded = key.normalize('NFKC').toLowerCase();
        if (this.#byName.has(folded)) throw new Error(`Style name or alias "${key}" is used twice`);
        this.#byName.set(folded, preset);
      }
    }
  }

  /** Finds a preset by name or alias (case- and width-insensitive: `Ink`, `ｉｎｋ`, `水墨`). */
  find(name: string): StylePreset | undefined {
    return this.#byName.get(name.trim().normalize('NFKC').toLowerCase());
  }

  static fromFile(path: string): StyleCatalog {
    const parsed = stylesSchema.safeParse(parseYaml(readFileSync(path, 'utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`${path}: "${issue.path.join('.')}" ${issue.message}`);
    }
    return new StyleCatalog(Object.entries(parsed.data).map(([name, preset]) => ({ name, ...preset })));
  }
}

/** Applies a preset to one prompt and merges its negative prompt with the user's. */
export function applyStyle(
  preset: StylePreset | undefined,
  prompt: string,
  negative: string,
): { prompt: string; negative: string } {
  if (!preset) return { prompt, negative };
  return {
    prompt: preset.prompt.replaceAll('{prompt}', () => prompt),
    negative: [negative, preset.negative].filter((n) => n.trim().length > 0).join(', '),
  };
}
