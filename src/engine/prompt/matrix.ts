import { engineError, fail, ok, type Result } from '../errors.ts';

/**
 * Prompt matrix: `a {red|blue} {fox|cat}` expands to one prompt per combination, in reading order
 * (red fox, red cat, blue fox, blue cat). Braces without a `|` are left alone, so `{prompt}`-like text and JSON
 * survive. Full-width braces and bars (｛｜｝) are accepted, because Chinese keyboards produce them.
 */
const GROUP = /[{｛]([^{}｛｝]*[|｜][^{}｛｝]*)[}｝]/u;

export function expandPromptMatrix(prompt: string, maxPrompts: number): Result<string[]> {
  let prompts = [prompt];
  for (;;) {
    const match = GROUP.exec(prompts[0]!);
    if (!match) break;
    const options = match[1]!.split(/[|｜]/u).map((o) => o.trim());
    if (options.some((o) => o.length === 0)) {
      return fail(engineError('invalid-request', `The prompt matrix "${match[0]}" has an empty alternative`, { group: match[0] }));
    }
    const next: string[] = [];
    for (const p of prompts) {
      const m = GROUP.exec(p)!;
      for (const option of options) next.push(p.slice(0, m.index) + option + p.slice(m.index + m[0].length));
    }
    if (next.length > maxPrompts) {
      return fail(
        engineError('out-of-range', `The prompt matrix makes ${next.length} prompts; at most ${maxPrompts} fit in one job`, {
          setting: 'matrix',
          value: next.length,
          max: maxPrompts,
        }),
      );
    }
    prompts = next;
  }
  return ok(prompts);
}
