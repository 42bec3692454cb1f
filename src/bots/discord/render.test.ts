import { ButtonStyle, ComponentType } from 'discord.js';
import { describe, expect, it } from 'vitest';
import type { Reply, ReplyButton } from '../core/reply.ts';
import { text } from '../core/texts.ts';
import { buttonRows, LIMITS, messageBody, renderReply } from './render.ts';

const button = (id: string, style: ReplyButton['style'] = 'secondary', label = id): ReplyButton => ({
  id,
  action: 'reroll',
  label,
  style,
  ownerOnly: false,
});

const cancel = button('z:cancel:abcd1234', 'danger', 'Cancel');
const ETA = Date.UTC(2030, 0, 1, 12, 0, 0);
const ETA_UNIX = ETA / 1000;

function status(fields: Partial<Extract<Reply, { kind: 'status' }>>): Reply {
  return { kind: 'status', jobId: 'abcd1234', phase: 'queued', text: 'Queued · position 3 · starts in about 20 s', prompt: 'a red fox', buttons: [cancel], ...fields };
}

function result(fields: Partial<Extract<Reply, { kind: 'result' }>> = {}): Extract<Reply, { kind: 'result' }> {
  return {
    kind: 'result',
    jobId: 'abcd1234',
    parentId: null,
    prompt: 'a red fox',
    text: 'fixture · seed 42 · 8 steps · 64×64 · 0.4 s · job abcd1234',
    notes: [],
    image: { name: 'abcd1234-grid.png', png: Buffer.from('png-bytes'), spoiler: false, alt: 'a red fox' },
    candidates: [],
    buttons: [button('z:refine:abcd1234:0', 'primary', 'Refine 1')],
    menu: {
      id: 'z:menu:abcd1234',
      placeholder: 'Vary, reroll, delete…',
      options: [
        { id: 'z:reroll:abcd1234', action: 'reroll', label: 'Reroll', ownerOnly: false },
        { id: 'z:delete:abcd1234', action: 'delete', label: 'Delete', ownerOnly: true },
      ],
    },
    votes: [0],
    votesLine: null,
    origin: null,
    ...fields,
  };
}

describe('renderReply', () => {
  it('renders a queued status card with the position, a relative-time ETA and the Cancel button', () => {
    const message = renderReply(status({ position: 3, etaAt: ETA }), 'en');
    expect(message.content).toBe(`> a red fox\nQueued · position 3 · starts <t:${ETA_UNIX}:R>`);
    expect(message.components).toEqual([
      { type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, custom_id: 'z:cancel:abcd1234', label: 'Cancel', style: ButtonStyle.Danger }] },
    ]);
    expect(message.files).toEqual([]);
    expect(message.ephemeral).toBe(false);
    expect(renderReply(status({ position: 3, etaAt: ETA }), 'zh-CN').content).toBe(`> a red fox\n排队中 · 第 3 位 · 预计<t:${ETA_UNIX}:R>开始`);
  });

  it('attaches the live preview to a running status card, and nothing without one', () => {
    const preview = { name: 'abcd1234-preview.png', png: Buffer.from([1, 2, 3]), spoiler: false, alt: 'preview' };
    const withPreview = renderReply(status({ phase: 'running', step: 3, total: 8, preview }), 'en');
    expect(withPreview.files.map((f) => f.name)).toEqual(['abcd1234-preview.png']);
    expect(messageBody(withPreview).json.attachments).toEqual([{ id: 0, filename: 'abcd1234-preview.png', description: 'preview' }]);
    expect(renderReply(status({ phase: 'running', step: 3, total: 8 }), 'en').files).toEqual([]);
  });

  it('keeps the core’s "next up" line instead of a countdown of a second', () => {
    const next = text('en', 'status.queued.next');
    expect(renderReply(status({ text: next, position: 1, etaAt: ETA }), 'en').content).toBe(`> a red fox\n${next}`);
  });

  it('adds when a running job should finish to its progress line', () => {
    const line = 'Drafting · step 3/8  ▰▰▰▰▱▱▱▱▱▱';
    const message = renderReply(status({ phase: 'running', text: line, step: 3, total: 8, etaAt: ETA }), 'en');
    expect(message.content).toBe(`> a red fox\n${line} · finishes <t:${ETA_UNIX}:R>`);
    expect(renderReply(status({ phase: 'running', text: line }), 'en').content).toBe(`> a red fox\n${line}`);
  });

  it('renders a result: the image as a file, notes, votes and the footer as subtext, a row of buttons and the menu', () => {
    const message = renderReply(result({ notes: ['1 of 2 candidates were withheld by the content filter.'], votesLine: 'Votes: #1 ×2' }), 'en');
    expect(message.content).toBe('> a red fox\n1 of 2 candidates were withheld by the content filter.\n-# Votes: #1 ×2\n-# fixture · seed 42 · 8 steps · 64×64 · 0.4 s · job abcd1234');
    expect(message.files).toEqual([{ name: 'abcd1234-grid.png', data: Buffer.from('png-bytes'), description: 'a red fox', spoiler: false }]);
    expect(message.components).toEqual([
      { type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, custom_id: 'z:refine:abcd1234:0', label: 'Refine 1', style: ButtonStyle.Primary }] },
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.StringSelect,
            custom_id: 'z:menu:abcd1234',
            placeholder: 'Vary, reroll, delete…',
            options: [
              { label: 'Reroll', value: 'z:reroll:abcd1234' },
              { label: 'Delete', value: 'z:delete:abcd1234' },
            ],
          },
        ],
      },
    ]);
    expect(message.keepFiles).toBe(false);
  });

  it('re-renders a result whose votes changed without its files: the edit keeps the attachments it has', () => {
    const message = renderReply(result({ image: null, refresh: true, votesLine: 'Votes: #1 ×1' }), 'en');
    expect(message.keepFiles).toBe(true);
    expect(message.content).toContain('-# Votes: #1 ×1');
    expect(messageBody(message).json).not.toHaveProperty('attachments');
    expect(messageBody(renderReply(result(), 'en')).json.attachments).toHaveLength(1);
  });

  it('shows where a result came from above its votes and footer, the parent as the label it is given', () => {
    const varied = result({ origin: { action: 'vary', parentId: 'parent01', parentIndex: 1 }, votesLine: 'Votes: #1 ×2' });
    const linked = renderReply(varied, 'en', { parentLabel: (id) => `[job ${id}](https://discord.com/channels/1/2/3)` });
    expect(linked.content.split('\n').slice(1)).toEqual(['-# varied from #2 of [job parent01](https://discord.com/channels/1/2/3)', '-# Votes: #1 ×2', `-# ${varied.text}`]);
    // Without a way to link it, the plain words; a result from nothing of ours has no such line.
    expect(renderReply(varied, 'zh-CN').content).toContain(`-# ${text('zh-CN', 'origin.vary.one', { n: 2, parent: text('zh-CN', 'origin.parent', { job: 'parent01' }) })}`);
    expect(renderReply(result(), 'en').content).not.toMatch(/from/);
  });

  it('puts a flagged image behind a spoiler (SPOILER_ file name)', () => {
    const message = renderReply(result({ image: { name: 'abcd1234-1.png', png: Buffer.from('x'), spoiler: true, alt: 'a fox' } }), 'en');
    expect(message.files.map((f) => [f.name, f.spoiler])).toEqual([['SPOILER_abcd1234-1.png', true]]);
  });

  it('renders a result without an image (every candidate withheld is a final, but be safe) with no files', () => {
    expect(renderReply(result({ image: null }), 'en').files).toEqual([]);
  });

  it('keeps user text inert and within Discord’s content limit', () => {
    const message = renderReply(status({ prompt: '**bold** _it_ `code`\n# heading ||spoiler||' }), 'en');
    expect(message.content.split('\n')[0]).toBe('> \\*\\*bold\\*\\* \\_it\\_ \\`code\\` # heading \\|\\|spoiler\\|\\|');
    expect(renderReply(status({ prompt: '[free nitro](https://evil.example)' }), 'en').content).toContain('> \\[free nitro](');
    // A heading or a list at the start would be drawn as one even inside the quote.
    expect(renderReply(status({ prompt: '# BIG TITLE' }), 'en').content.split('\n')[0]).toBe('> \\# BIG TITLE');
    expect(renderReply(status({ prompt: '- a list item' }), 'en').content.split('\n')[0]).toBe('> \\- a list item');
    const long = renderReply(result({ prompt: 'fox '.repeat(3000), notes: ['n'.repeat(1500)] }), 'en');
    expect(long.content.length).toBeLessThanOrEqual(LIMITS.content);
    expect(long.content).toContain('-# fixture · seed 42');
  });

  it('renders refusals as ephemeral text and closing lines without buttons', () => {
    expect(renderReply({ kind: 'error', text: 'No.' }, 'en')).toEqual({ content: 'No.', files: [], components: [], ephemeral: true });
    expect(renderReply({ kind: 'final', jobId: 'abcd1234', outcome: 'cancelled', text: 'Cancelled.' }, 'en')).toEqual({
      content: 'Cancelled.',
      files: [],
      components: [],
      ephemeral: false,
    });
  });
});

describe('renderReply: the prompt assistant', () => {
  it('shows "Enhancing the prompt…" under the user’s prompt, with no buttons (there is no job to cancel yet)', () => {
    const message = renderReply({ kind: 'assisting', task: 'enhance', text: 'Enhancing the prompt…', prompt: 'a **red** fox @everyone' }, 'en');
    expect(message.content).toBe('> a \\*\\*red\\*\\* fox @everyone\nEnhancing the prompt…');
    expect(message.components).toEqual([]);
    expect(message.ephemeral).toBe(false);
    expect(messageBody(message).json.allowed_mentions).toEqual({ parse: [] });
  });

  it('shows an enhanced result’s original beside its prompt, inert, and its Use my original prompt button', () => {
    const enhanced = result({
      prompt: 'a red fox in deep snow, soft morning light',
      enhanced: { original: 'a [red](https://evil.example) fox', line: 'Enhanced from your prompt: “a [red](https://evil.example) fox”' },
      buttons: [button('z:refine:abcd1234:0', 'primary', 'Refine 1'), button('z:original:abcd1234', 'secondary', 'Use my original prompt')],
    });
    const message = renderReply(enhanced, 'en');
    expect(message.content.split('\n').slice(0, 2)).toEqual(['> a red fox in deep snow, soft morning light', '-# Enhanced from your prompt: “a \\[red](https://evil.example) fox”']);
    expect(message.components[0]!.components.map((c) => (c as { custom_id: string }).custom_id)).toEqual(['z:refine:abcd1234:0', 'z:original:abcd1234']);
  });

  it('lists describe’s prompts numbered and inert with a Draft button each, cut to fit one message', () => {
    const long = 'a lighthouse on a cliff at dusk, '.repeat(40);
    const reply: Reply = {
      kind: 'suggestions',
      setId: 'set12345',
      text: 'Prompts for this image. Draft one to try it:',
      prompts: [long, '*bold* <@123> claim', long, long],
      buttons: [0, 1, 2, 3].map((i) => button(`z:draft-suggestion:set12345:${i}`, i === 0 ? 'primary' : 'secondary', `Draft ${i + 1}`)),
      withheld: 1,
      notes: ['1 suggestion was withheld by the prompt filter.'],
    };
    const message = renderReply(reply, 'en');
    expect(message.content.length).toBeLessThanOrEqual(LIMITS.content);
    const lines = message.content.split('\n');
    expect(lines[0]).toBe('Prompts for this image. Draft one to try it:');
    expect(lines.slice(1, 5).map((l) => l.slice(0, 6))).toEqual(['**1.**', '**2.**', '**3.**', '**4.**']);
    expect(lines[1]!.endsWith('…')).toBe(true);
    expect(lines[2]).toBe('**2.** \\*bold\\* <@123> claim');
    expect(lines[5]).toBe('-# 1 suggestion was withheld by the prompt filter.');
    expect(message.components).toHaveLength(1);
    expect(message.components[0]!.components.map((c) => (c as { custom_id: string; label: string }).label)).toEqual(['Draft 1', 'Draft 2', 'Draft 3', 'Draft 4']);
  });
});

describe('buttonRows', () => {
  it('splits rows longer than five buttons and keeps at most five rows', () => {
    const seven = Array.from({ length: 7 }, (_, i) => button(`z:reroll:abcd${1000 + i}`));
    expect(buttonRows([seven]).map((row) => row.components.length)).toEqual([5, 2]);
    const many = Array.from({ length: 7 }, () => [button('z:reroll:abcd1234')]);
    expect(buttonRows(many)).toHaveLength(LIMITS.rows);
    expect((buttonRows([[button('z:reroll:abcd1234', 'primary', 'x'.repeat(100))]])[0]!.components[0] as { label: string }).label).toHaveLength(LIMITS.label);
  });
});

describe('messageBody', () => {
  it('always sets allowed_mentions to nothing, and numbers attachments after their files[n] parts', () => {
    const body = messageBody(renderReply(result(), 'en'));
    expect(body.json.allowed_mentions).toEqual({ parse: [] });
    expect(body.json.attachments).toEqual([{ id: 0, filename: 'abcd1234-grid.png', description: 'a red fox' }]);
    expect(body.files).toEqual([{ key: 'files[0]', name: 'abcd1234-grid.png', data: Buffer.from('png-bytes'), contentType: 'image/png' }]);
    expect(body.json).not.toHaveProperty('flags');
    expect(body.json).not.toHaveProperty('message_reference');
  });

  it('marks ephemeral messages and replies', () => {
    expect(messageBody(renderReply({ kind: 'error', text: 'No.' }, 'en')).json).toMatchObject({ flags: 64, allowed_mentions: { parse: [] }, attachments: [] });
    expect(messageBody(renderReply({ kind: 'notice', text: 'Hi' }, 'en'), '1234567890123456789').json.message_reference).toEqual({
      message_id: '1234567890123456789',
      fail_if_not_exists: false,
    });
  });
});
