import { describe, expect, it } from 'vitest';
import { originText } from '../core/lineage.ts';
import { text } from '../core/texts.ts';
import { cardFromReply, cardOrigin, type CardMeta } from './cards.ts';
import { viewFor, type Card } from './protocol.ts';

const meta: CardMeta = { jobId: 'job1', parentId: null, role: 'refine', prompt: 'a fox', owner: { userId: 'u', name: 'Ada' }, createdAt: 0, locale: 'en', origin: null };

describe('cardFromReply', () => {
  it('carries a running job’s live preview as a data: URL (the page’s CSP allows data: images only for this)', () => {
    const preview = { name: 'job1-preview.png', png: Buffer.from([137, 80, 78, 71]), spoiler: false, alt: 'preview' };
    const card = cardFromReply(meta, { kind: 'status', jobId: 'job1', phase: 'running', text: 'Refining · step 3/30', step: 3, total: 30, prompt: 'a fox', preview, buttons: [] });
    expect(card.status?.preview).toBe(`data:image/png;base64,${Buffer.from([137, 80, 78, 71]).toString('base64')}`);
    const plain = cardFromReply(meta, { kind: 'status', jobId: 'job1', phase: 'queued', text: 'Queued', position: 2, prompt: 'a fox', buttons: [] });
    expect(plain.status?.preview).toBeNull();
  });

  it('draws a result re-shown for new votes (no images) with its candidates, counts and votes line', () => {
    const stored = Buffer.alloc(0);
    const image = { name: 'x.png', png: stored, spoiler: false, alt: 'a fox' };
    const card = cardFromReply(meta, {
      kind: 'result',
      jobId: 'job1',
      parentId: null,
      prompt: 'a fox',
      text: 'footer',
      notes: [],
      image: null,
      candidates: [image, null, image],
      buttons: [],
      menu: null,
      votes: [0, 0, 2],
      votesLine: 'Votes: #3 ×2',
      origin: null,
      refresh: true,
    });
    expect(card.candidates.map((c) => [c.index, c.withheld, c.url])).toEqual([
      [0, false, '/media/job1/0.png'],
      [1, true, '/media/job1/1.png'],
      [2, false, '/media/job1/2.png'],
    ]);
    expect(card.grid).toBe('/media/job1/grid.png');
    expect(card).toMatchObject({ state: 'result', votes: [0, 0, 2], votesLine: 'Votes: #3 ×2' });
  });
});

describe('cardOrigin', () => {
  it('cuts the core’s sentence around the parent’s label, in either language, so the page links it with text nodes', () => {
    for (const locale of ['en', 'zh-CN'] as const) {
      for (const origin of [
        { action: 'vary', parentId: 'abcd1234', parentIndex: 1 },
        { action: 'edit', parentId: 'abcd1234', parentIndex: null },
        { action: 'reroll', parentId: 'abcd1234', parentIndex: null },
      ] as const) {
        const cut = cardOrigin(locale, origin, true);
        const label = text(locale, 'origin.parent', { job: 'abcd1234' });
        expect(cut.label).toBe(label);
        expect(`${cut.before}${cut.label}${cut.after}`).toBe(originText(locale, origin, label));
        expect(cut).toMatchObject({ parentId: 'abcd1234', parentIndex: origin.parentIndex, action: origin.action, linked: true });
      }
    }
    expect(cardOrigin('en', { action: 'vary', parentId: 'abcd1234', parentIndex: 1 }, false)).toMatchObject({ before: 'varied from #2 of ', label: 'job abcd1234', after: '', linked: false });
  });
});

describe('viewFor', () => {
  it('tells each tab whether a card is its own and which candidates it voted for, never another tab’s id', () => {
    const card = { ...cardFromReply(meta, { kind: 'final', jobId: 'job1', outcome: 'failed', text: 'x' }), state: 'result' } as Card;
    const votedBy = (jobId: string, userId: string): number[] => (jobId === 'job1' && userId === 'v' ? [0, 2] : []);
    const mine = viewFor({ t: 'card', card }, 'u', votedBy);
    const voter = viewFor({ t: 'card', card }, 'v', votedBy);
    expect(mine.t === 'card' && [mine.card.owner, mine.card.myVotes]).toEqual([{ name: 'Ada', mine: true }, []]);
    expect(voter.t === 'card' && [voter.card.owner, voter.card.myVotes]).toEqual([{ name: 'Ada', mine: false }, [0, 2]]);
    expect(JSON.stringify(voter)).not.toContain('"u"');
    // A card that is no result has nothing to vote for.
    const status = viewFor({ t: 'card', card: { ...card, state: 'status' } }, 'v', votedBy);
    expect(status.t === 'card' && status.card.myVotes).toEqual([]);
  });
});
