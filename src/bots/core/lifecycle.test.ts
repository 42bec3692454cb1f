import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { JobHandle, type JobResult } from '../../engine/job-handle.ts';
import type { JobRecord } from '../../engine/history.ts';
import { createLogger } from '../../logging.ts';
import { followJob } from './lifecycle.ts';
import type { Reply } from './reply.ts';

const record = { id: 'job1', parentId: null, role: 'draft', spec: { userPrompt: 'a fox' }, delivery: null } as unknown as JobRecord;
const view = { jobId: 'job1', parentId: null, role: 'draft' as const, prompt: 'a fox', locale: 'en' as const };

function setup(minIntervalMs: number): { handle: JobHandle; replies: Reply[]; done: Promise<void> } {
  const handle = new JobHandle(record, () => false, () => undefined);
  const replies: Reply[] = [];
  const done = followJob(handle, view, async (r) => void replies.push(r), { minIntervalMs, log: createLogger('silent') });
  return { handle, replies, done };
}

describe('followJob', () => {
  it('sends phase changes at once, coalesces progress, and always ends with the outcome', async () => {
    const { handle, replies, done } = setup(60_000);
    handle.emit({ type: 'queued', position: 2, etaMs: 5000 });
    handle.emit({ type: 'queued', position: 1, etaMs: 1000 });
    handle.emit({ type: 'started', etaMs: 900 });
    for (let step = 1; step <= 8; step++) handle.emit({ type: 'progress', step, total: 8, etaMs: 100 });
    handle.emit({ type: 'cancelled' });
    await done;
    expect(replies.map((r) => (r.kind === 'status' ? `${r.phase}:${r.text.split('  ')[0]}` : r.kind))).toEqual([
      'queued:Queued · position 2 · starts in about 5 s',
      'running:Drafting · starting',
      'final',
    ]);
  });

  it('puts the latest passed preview on running status cards, scaled up', async () => {
    const { handle, replies, done } = setup(0);
    handle.emit({ type: 'started', etaMs: 900 });
    handle.emit({ type: 'progress', step: 1, total: 4, etaMs: 300 });
    handle.emit({ type: 'progress', step: 1, total: 4, etaMs: 300, preview: { width: 16, height: 16, data: new Uint8Array(16 * 16 * 3).fill(200) } });
    handle.emit({ type: 'progress', step: 2, total: 4, etaMs: 200 });
    handle.emit({ type: 'blocked', result: { images: [], grid: null, meta: {} } as unknown as JobResult });
    await done;
    const statuses = replies.filter((r) => r.kind === 'status');
    expect(statuses.map((s) => s.kind === 'status' && s.preview !== undefined)).toEqual([false, false, true, true]);
    const last = statuses.at(-1);
    if (last?.kind !== 'status' || !last.preview) throw new Error('no preview');
    const meta = await sharp(last.preview.png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 256, 256]);
    expect(replies.at(-1)).toMatchObject({ kind: 'final', outcome: 'blocked' });
  });
});
