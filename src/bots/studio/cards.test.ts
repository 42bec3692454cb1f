import { describe, expect, it } from 'vitest';
import { cardFromReply, type CardMeta } from './cards.ts';

const meta: CardMeta = { jobId: 'job1', parentId: null, role: 'refine', prompt: 'a fox', owner: { userId: 'u', name: 'Ada' }, createdAt: 0, locale: 'en' };

describe('cardFromReply', () => {
  it('carries a running job’s live preview as a data: URL (the page’s CSP allows data: images only for this)', () => {
    const preview = { name: 'job1-preview.png', png: Buffer.from([137, 80, 78, 71]), spoiler: false, alt: 'preview' };
    const card = cardFromReply(meta, { kind: 'status', jobId: 'job1', phase: 'running', text: 'Refining · step 3/30', step: 3, total: 30, prompt: 'a fox', preview, buttons: [] });
    expect(card.status?.preview).toBe(`data:image/png;base64,${Buffer.from([137, 80, 78, 71]).toString('base64')}`);
    const plain = cardFromReply(meta, { kind: 'status', jobId: 'job1', phase: 'queued', text: 'Queued', position: 2, prompt: 'a fox', buttons: [] });
    expect(plain.status?.preview).toBeNull();
  });
});
