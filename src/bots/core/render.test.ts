import { describe, expect, it } from 'vitest';
import type { DeliveredImage, JobResult } from '../../engine/job-handle.ts';
import type { ModerationVerdict } from '../../moderation/verdict.ts';
import { progressBar, renderFinal, renderResult } from './render.ts';

const view = { jobId: 'job1', parentId: null, role: 'draft' as const, prompt: 'a fox', locale: 'en' as const };
const allowed: ModerationVerdict = { flagged: false, scores: { Drawing: 0, Hentai: 0, Neutral: 1, Porn: 0, Sexy: 0 } };
const nsfw: ModerationVerdict = { flagged: true, reason: 'nsfw', rule: 'porn+hentai+0.5·sexy = 0.9 > 0.55' };
const unavailable: ModerationVerdict = { flagged: true, reason: 'unavailable', rule: 'timeout' };

function image(index: number, verdict: ModerationVerdict): DeliveredImage {
  const withheld = verdict.flagged;
  return { index, png: withheld ? null : Buffer.from([1]), path: withheld ? null : `/x/${index}.png`, withheld, spoiler: false, verdict, prompt: 'a fox', noise: { seed: index }, width: 64, height: 64 };
}

function result(images: DeliveredImage[]): JobResult {
  const meta = { jobId: 'job1', model: 'm', role: 'draft', width: 64, height: 64, steps: 8, guidance: 0, shift: 3, strength: 1, seed: 0, chaos: 100, style: null, negativePrompt: '', provider: 'cpu', device: 'cpu0', truncated: [], timings: { wallMs: 1200 } };
  return { images, grid: Buffer.from([2]), meta } as unknown as JobResult;
}

describe('render', () => {
  it('says why candidates are missing: flagged, or not checked because the filter was down', () => {
    const reply = renderResult(result([image(0, allowed), image(1, nsfw), image(2, unavailable), image(3, allowed)]), view);
    if (reply.kind !== 'result') throw new Error(reply.kind);
    expect(reply.notes).toEqual([
      '1 of 4 candidates were withheld by the content filter.',
      '1 of 4 candidates could not be checked (the content filter is unavailable), so they are not shown.',
    ]);
    // No buttons for what was not delivered.
    expect(reply.buttons.map((b) => b.label)).toEqual(['Refine 1', 'Refine 4']);
    expect(reply.menu!.options.map((o) => o.id)).toEqual([
      'z:vary-subtle:job1:0',
      'z:vary-strong:job1:0',
      'z:vary-subtle:job1:3',
      'z:vary-strong:job1:3',
      'z:reroll:job1',
      'z:delete:job1',
    ]);
  });

  it('counts votes per candidate and says them in a line, none before anyone voted', () => {
    const images = [image(0, allowed), image(1, allowed), image(2, allowed), image(3, allowed)];
    const voted = renderResult(result(images), { ...view, votes: [2, 0, 1, 0] });
    if (voted.kind !== 'result') throw new Error(voted.kind);
    expect(voted.votes).toEqual([2, 0, 1, 0]);
    expect(voted.votesLine).toBe('Votes: #1 ×2 · #3 ×1');
    const zh = renderResult(result(images), { ...view, locale: 'zh-CN', votes: [0, 3] });
    expect(zh).toMatchObject({ votes: [0, 3, 0, 0], votesLine: '投票：#2 ×3' });
    expect(renderResult(result(images), view)).toMatchObject({ votes: [0, 0, 0, 0], votesLine: null });
  });

  it('closes a fully withheld job with the reason', () => {
    expect(renderFinal({ type: 'blocked', result: result([image(0, nsfw)]) }, view)).toMatchObject({ text: expect.stringMatching(/^Every candidate was withheld/) });
    expect(renderFinal({ type: 'blocked', result: result([image(0, unavailable)]) }, { ...view, locale: 'zh-CN' })).toMatchObject({ text: expect.stringMatching(/^内容过滤器暂时不可用/) });
  });

  it('draws progress as a bar', () => {
    expect(progressBar(3, 8)).toBe('▰▰▰▰▱▱▱▱▱▱');
    expect(progressBar(8, 8)).toBe('▰▰▰▰▰▰▰▰▰▰');
  });
});
