import { describe, expect, it } from 'vitest';
import type { DeliveredImage, JobResult } from '../../engine/job-handle.ts';
import type { ModerationVerdict } from '../../moderation/verdict.ts';
import { commandFromButton } from './buttons.ts';
import { originText } from './lineage.ts';
import { progressBar, renderFinal, renderResult, renderStatus } from './render.ts';

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

  it('offers Upscale n in the menu only while an upscale can run, asked when the result is rendered', () => {
    const images = [image(0, allowed), image(1, nsfw), image(2, allowed)];
    const asked: { width: number; height: number }[] = [];
    let can = true;
    const upscaling = { ...view, canUpscale: (size: { width: number; height: number }) => (asked.push(size), can) };
    const reply = renderResult(result(images), upscaling);
    if (reply.kind !== 'result') throw new Error(reply.kind);
    expect(reply.menu!.options.map((o) => o.id)).toEqual([
      'z:vary-subtle:job1:0',
      'z:vary-strong:job1:0',
      'z:vary-subtle:job1:2',
      'z:vary-strong:job1:2',
      'z:upscale:job1:0',
      'z:upscale:job1:2',
      'z:reroll:job1',
      'z:delete:job1',
    ]);
    expect(reply.menu!.options.filter((o) => o.action === 'upscale').map((o) => [o.label, o.ownerOnly])).toEqual([
      ['Upscale 1', false],
      ['Upscale 3', false],
    ]);
    expect(asked).toEqual([{ width: 64, height: 64 }]);
    // Every option turns back into its command, a restart later.
    expect(commandFromButton('z:upscale:job1:2')).toEqual({ kind: 'upscale', jobId: 'job1', index: 2 });
    expect(commandFromButton('z:upscale:job1')).toBeUndefined();
    const zh = renderResult(result(images), { ...upscaling, locale: 'zh-CN' });
    expect(zh.kind === 'result' && zh.menu!.options.filter((o) => o.action === 'upscale').map((o) => o.label)).toEqual(['放大 1', '放大 3']);

    can = false;
    const none = renderResult(result(images), upscaling);
    expect(none.kind === 'result' && none.menu!.options.some((o) => o.action === 'upscale')).toBe(false);
    // Without a way to ask (no upscale anywhere), none either.
    const unasked = renderResult(result(images), view);
    expect(unasked.kind === 'result' && unasked.menu!.options.some((o) => o.action === 'upscale')).toBe(false);
  });

  it('an upscale says so while it runs, offers no Reroll (it would be the same picture), and names what it enlarged', () => {
    const upscaled = { ...view, role: 'refine' as const, upscaled: true, canUpscale: () => true };
    expect(renderStatus({ type: 'started', etaMs: 0 }, upscaled, 0)).toMatchObject({ text: 'Upscaling · starting' });
    expect(renderStatus({ type: 'progress', step: 2, total: 9, etaMs: 0 }, { ...upscaled, locale: 'zh-CN' }, 0)).toMatchObject({ text: expect.stringMatching(/^放大 · 第 2\/9 步/) });
    const reply = renderResult(result([image(0, allowed)]), upscaled);
    expect(reply.kind === 'result' && reply.menu!.options.map((o) => o.id)).toEqual(['z:vary-subtle:job1:0', 'z:vary-strong:job1:0', 'z:upscale:job1:0', 'z:delete:job1']);
    const origin = { action: 'upscale' as const, parentId: 'job0', parentIndex: 1 };
    expect(originText('en', origin, 'job job0')).toBe('upscaled from #2 of job job0');
    expect(originText('zh-CN', origin, '任务 job0')).toBe('放大自 任务 job0 的 #2');
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
