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
    if (!GROUP.test(prompts[0]!)) break;
    const next: string[] = [];
    // Each prompt reads its own group: once an inner group is expanded, the outer one holds a different alternative
    // in each prompt (`{a {b|c}|d}` → `{a b|d}`, `{a c|d}`).
    for (const p of prompts) {
      const m = GROUP.exec(p)!;
      const options = m[1]!.split(/[|｜]/u).map((o) => o.trim());
      if (options.some((o) => o.length === 0)) {
        return fail(engineError('invalid-request', `The prompt matrix "${m[0]}" has an empty alternative`, { group: m[0] }));
      }
      for (const option of options) next.push(p.slice(0, m.index) + option + p.slice(m.index + m[0].length));
    }
    if (next.length > maxPrompts) {
      return fail(
        engineError('out-of-range', `The prompt matrix makes ${next.length} prompts; at most ${maxPrompts} fit in one job`, {
          setting: 'matrix',
          value: next.length,
          min: 1,
          max: maxPrompts,
        }),
      );
    }
    prompts = next;
  }
  return ok(prompts);
}
