import { describe, expect, it } from 'vitest';
import type { Reply } from '../core/reply.ts';
import { originLine, renderBoard, renderCard, renderNote, renderPending, renderSuggestions, type BoardReply, type CardContext } from './blocks.ts';
import { clip, escapeMrkdwn, plainFromSlack, quote } from './mrkdwn.ts';

const en: CardContext = { locale: 'en', by: 'Ann <admin>', prompt: 'a fox <@U1> & friends' };

const status: Reply = {
  kind: 'status',
  jobId: 'job1',
  phase: 'running',
  text: 'Drafting · step 3/8  ▰▰▰▰▱▱▱▱▱▱',
  step: 3,
  total: 8,
  prompt: 'a fox <!channel>',
  buttons: [{ id: 'z:cancel:job1', action: 'cancel', label: 'Cancel', style: 'danger', ownerOnly: true }],
};

const result: Reply = {
  kind: 'result',
  jobId: 'job1',
  parentId: null,
  prompt: 'a fox',
  text: 'mini · seed 42 · 8 steps · 64×64 · 0.4 s · job job1',
  notes: ['1 of 2 candidates were withheld by the content filter.'],
  image: null,
  candidates: [],
  buttons: [{ id: 'z:refine:job1:0', action: 'refine', label: 'Refine 1', style: 'primary', ownerOnly: false }],
  menu: {
    id: 'z:menu:job1',
    placeholder: 'Vary, reroll, delete…',
    options: [
      { id: 'z:vary-subtle:job1:0', action: 'vary-subtle', label: 'Vary 1 · subtle', ownerOnly: false },
      { id: 'z:reroll:job1', action: 'reroll', label: 'Reroll', ownerOnly: false },
      { id: 'z:delete:job1', action: 'delete', label: 'Delete', ownerOnly: true },
    ],
  },
  votes: [2, 0],
  votesLine: 'Votes: #1 ×2',
  origin: null,
};

describe('mrkdwn', () => {
  it('escapes the three characters Slack reads as markup', () => {
    expect(escapeMrkdwn('<!channel> & <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
  });

  it('clips without cutting an entity in half', () => {
    expect(clip('abc&amp;def', 6)).toBe('abc…');
    expect(clip('abcdef', 10)).toBe('abcdef');
  });

  it('quotes every line', () => {
    expect(quote('one\ntwo <x>')).toBe('> one\n> two &lt;x&gt;');
  });

  it('reads message text back to what the user typed', () => {
    expect(plainFromSlack('<@UBOT> make &lt;it&gt; blue &amp; <https://x.test|this> <@U2|bob> <#C1|general>', 'UBOT')).toBe('make <it> blue & this bob general');
    expect(plainFromSlack('  <!here>   now ')).toBe('here now');
  });
});

describe('renderCard', () => {
  it('renders a status: escaped prompt, the status line, the asker as text, a Cancel button', () => {
    const message = renderCard(status as Extract<Reply, { kind: 'status' }>, en);
    expect(message.text).toBe('Drafting · step 3/8 ▰▰▰▰▱▱▱▱▱▱');
    expect(message.blocks).toEqual([
      { type: 'section', block_id: 'z-prompt', text: { type: 'mrkdwn', text: '> a fox &lt;!channel&gt;', verbatim: true } },
      {
        type: 'context',
        block_id: 'z-status',
        elements: [
          { type: 'mrkdwn', text: 'Drafting · step 3/8  ▰▰▰▰▱▱▱▱▱▱', verbatim: true },
          { type: 'mrkdwn', text: 'requested by Ann &lt;admin&gt;', verbatim: true },
        ],
      },
      {
        type: 'actions',
        block_id: 'z-actions',
        elements: [{ type: 'button', action_id: 'z:cancel:job1', value: 'z:cancel:job1', text: { type: 'plain_text', text: 'Cancel', emoji: true }, style: 'danger' }],
      },
    ]);
  });

  it('renders a result: notes, votes, footer and one actions block of the buttons and the menu, ids as action_id and value', () => {
    const message = renderCard(result as Extract<Reply, { kind: 'result' }>, { ...en, by: null });
    expect(message.blocks.map((b) => b.block_id)).toEqual(['z-prompt', 'z-note-0', 'z-votes', 'z-status', 'z-actions']);
    expect(JSON.stringify(message.blocks[2])).toContain('Votes: #1 ×2');
    const [refine, menu] = (message.blocks[4] as unknown as { elements: Record<string, unknown>[] }).elements;
    expect(refine).toEqual({ type: 'button', action_id: 'z:refine:job1:0', value: 'z:refine:job1:0', text: { type: 'plain_text', text: 'Refine 1', emoji: true }, style: 'primary' });
    expect(menu).toMatchObject({ type: 'static_select', action_id: 'z:menu:job1', placeholder: { text: 'Vary, reroll, delete…' } });
    expect((menu!.options as { value: string }[]).map((o) => o.value)).toEqual(['z:vary-subtle:job1:0', 'z:reroll:job1', 'z:delete:job1']);
    expect(message.text).toBe('a fox · mini · seed 42 · 8 steps · 64×64 · 0.4 s · job job1');
  });

  it('renders a closing line with the prompt and no buttons', () => {
    const message = renderCard({ kind: 'final', jobId: 'job1', outcome: 'cancelled', text: 'Cancelled.' }, en);
    expect(message.text).toBe('Cancelled.');
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(message.blocks)).toContain('> a fox &lt;@U1&gt; &amp; friends');
  });

  it('keeps a long prompt inside Slack’s block limit', () => {
    const message = renderCard({ ...(status as Extract<Reply, { kind: 'status' }>), prompt: '<'.repeat(2000) }, en);
    const prompt = (message.blocks[0] as { text: { text: string } }).text.text;
    expect(prompt.length).toBeLessThanOrEqual(2900);
    expect(prompt).toMatch(/(&lt;)+…$/);
  });

  it('renders the pending card without words, and notes as escaped text', () => {
    const pending = renderPending({ locale: 'zh-CN', by: '李雷', prompt: '狐狸' });
    expect(JSON.stringify(pending.blocks)).toContain('▱▱▱▱▱▱▱▱▱▱');
    expect(JSON.stringify(pending.blocks)).toContain('由 李雷 发起');
    expect(renderNote('Unknown style "<b>".').blocks).toEqual([{ type: 'section', block_id: 'z-note', text: { type: 'mrkdwn', text: 'Unknown style "&lt;b&gt;".', verbatim: true } }]);
  });
});

describe('originLine', () => {
  const origin = { action: 'vary', parentId: 'job0', parentIndex: 1 } as const;

  it('links the parent’s card by its permalink', () => {
    expect(originLine('en', origin, 'https://x.slack.com/archives/C1/p1700000001000001')).toBe('varied from #2 of <https://x.slack.com/archives/C1/p1700000001000001|job job0>');
    expect(originLine('zh-CN', { ...origin, action: 'edit', parentIndex: null }, 'https://x.slack.com/archives/C1/p1')).toBe('编辑自 <https://x.slack.com/archives/C1/p1|任务 job0> 的全部候选');
  });

  it('names the parent as plain text when its permalink is unknown', () => {
    expect(originLine('en', { ...origin, action: 'refine', parentIndex: 0 }, undefined)).toBe('refined from #1 of job job0');
  });

  it('shows the line on a result card, under the prompt', () => {
    const message = renderCard(result as Extract<Reply, { kind: 'result' }>, { ...en, origin: originLine('en', origin, undefined) });
    expect(message.blocks.map((b) => b.block_id)).toEqual(['z-prompt', 'z-origin', 'z-note-0', 'z-votes', 'z-status', 'z-actions']);
    expect(JSON.stringify(message.blocks[1])).toContain('varied from #2 of job job0');
  });
});

describe('renderBoard', () => {
  const board: BoardReply = {
    kind: 'board',
    text: 'Top 2 of this channel · last 24h',
    entries: [
      { rank: 1, jobId: 'job1', index: 1, votes: 2, line: '#1 · 2 votes · “a <!channel> fox” · seed 42 · mini · by Ann' },
      { rank: 2, jobId: 'job2', index: 0, votes: 1, line: '#2 · 1 vote · “an owl & a cat” · seed 7 · mini · by <@U1>' },
    ],
    image: null,
    buttons: [
      { id: 'z:refine:job1:1', action: 'refine', label: 'Refine #1', style: 'primary', ownerOnly: false },
      { id: 'z:refine:job2:0', action: 'refine', label: 'Refine #2', style: 'primary', ownerOnly: false },
    ],
    menu: { id: 'z:menu:boardjob1', placeholder: 'Vary a winner…', options: [{ id: 'z:vary-subtle:job1:1', action: 'vary-subtle', label: 'Vary #1 · subtle', ownerOnly: false }] },
  };

  it('renders the title, an escaped line per entry, and one actions block of Refine #n and the Vary menu', () => {
    const message = renderBoard(board);
    expect(message.text).toBe('Top 2 of this channel · last 24h');
    expect(message.blocks.map((b) => b.block_id)).toEqual(['z-board', 'z-board-1', 'z-board-2', 'z-actions']);
    const body = JSON.stringify(message.blocks);
    expect(body).toContain('a &lt;!channel&gt; fox');
    expect(body).toContain('an owl &amp; a cat');
    expect(body).not.toMatch(/<!|<@/);
    const elements = (message.blocks[3] as unknown as { elements: { type: string; action_id: string }[] }).elements;
    expect(elements.map((e) => [e.type, e.action_id])).toEqual([
      ['button', 'z:refine:job1:1'],
      ['button', 'z:refine:job2:0'],
      ['static_select', 'z:menu:boardjob1'],
    ]);
  });
});

describe('the prompt assistant on a card', () => {
  it('shows "Enhancing the prompt…" under the user’s escaped prompt, with no buttons', () => {
    const card = renderCard({ kind: 'assisting', task: 'enhance', text: 'Enhancing the prompt…', prompt: 'a fox <!channel>' }, en);
    expect(card.blocks.map((b) => b.type)).toEqual(['section', 'context']);
    expect(JSON.stringify(card.blocks)).toContain('> a fox &lt;!channel&gt;');
    expect(JSON.stringify(card.blocks)).toContain('Enhancing the prompt…');
    expect(JSON.stringify(card.blocks)).not.toContain('<!channel>');
  });

  it('shows an enhanced result’s original, escaped, under its prompt', () => {
    const enhanced = { ...(result as Extract<Reply, { kind: 'result' }>), enhanced: { original: 'a fox <@U1>', line: 'Enhanced from your prompt: “a fox <@U1>”' } };
    const card = renderCard(enhanced, en);
    const block = card.blocks.find((b) => b.block_id === 'z-enhanced') as { elements: { text: string }[] } | undefined;
    expect(block?.elements[0]!.text).toBe('Enhanced from your prompt: “a fox &lt;@U1&gt;”');
    expect(card.blocks.findIndex((b) => b.block_id === 'z-enhanced')).toBe(card.blocks.findIndex((b) => b.block_id === 'z-prompt') + 1);
  });

  it('lists describe’s prompts as escaped sections, the filter’s note, and one Draft button each', () => {
    const reply: Extract<Reply, { kind: 'suggestions' }> = {
      kind: 'suggestions',
      setId: 'set12345',
      text: 'Prompts for this image. Draft one to try it:',
      prompts: ['a <b>bold</b> & bright square', 'a square at dusk'],
      buttons: [0, 1].map((i) => ({ id: `z:draft-suggestion:set12345:${i}`, action: 'draft-suggestion' as const, label: `Draft ${i + 1}`, style: i === 0 ? ('primary' as const) : ('secondary' as const), ownerOnly: false })),
      withheld: 1,
      notes: ['1 suggestion was withheld by the prompt filter.'],
    };
    const message = renderSuggestions(reply, { locale: 'en', by: null });
    const texts = message.blocks.map((b) => JSON.stringify(b));
    expect(message.blocks.map((b) => b.block_id)).toEqual(['z-suggestions', 'z-suggestion-0', 'z-suggestion-1', 'z-status', 'z-actions']);
    expect(texts[1]).toContain('*1.* a &lt;b&gt;bold&lt;/b&gt; &amp; bright square');
    expect(texts[3]).toContain('1 suggestion was withheld by the prompt filter.');
    const actions = message.blocks.at(-1) as { elements: { action_id: string; text: { text: string } }[] };
    expect(actions.elements.map((e) => [e.action_id, e.text.text])).toEqual([
      ['z:draft-suggestion:set12345:0', 'Draft 1'],
      ['z:draft-suggestion:set12345:1', 'Draft 2'],
    ]);
  });
});
