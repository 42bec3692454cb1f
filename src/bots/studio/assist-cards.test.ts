import { describe, expect, it } from 'vitest';
import { renderAssisting, renderSuggestions } from '../core/render.ts';
import { assistCardFromReply, AssistCards, isAssistReply, newAssistId } from './assist-cards.ts';
import type { AssistCard } from './protocol.ts';

const meta = { id: 'assist-0a1b2c3d4e5f', owner: { userId: 'tab-aaaaaaaa', name: 'Ada' }, createdAt: 1000 };

describe('the prompt assistant’s studio cards', () => {
  it('shows "Enhancing the prompt…" over the asker’s words, in the asker’s language', () => {
    const reply = renderAssisting('zh-CN', 'enhance', 'a <b>fox</b>');
    expect(isAssistReply(reply)).toBe(true);
    expect(assistCardFromReply(meta, reply as Extract<typeof reply, { kind: 'assisting' }>)).toEqual({
      ...meta,
      task: 'enhance',
      state: 'assisting',
      text: '正在增强提示词…',
      prompt: 'a <b>fox</b>',
      suggestions: [],
      withheld: 0,
      notes: [],
    });
  });

  it('gives each suggestion its Draft button, and counts the withheld ones', () => {
    const reply = renderSuggestions('en', 'set0000001', ['A red field.', 'A red wall.'], 1);
    const card = assistCardFromReply(meta, reply);
    expect(card).toMatchObject({ task: 'describe', state: 'suggestions', prompt: '', withheld: 1, notes: ['1 suggestion was withheld by the prompt filter.'] });
    expect(card.suggestions.map((s) => [s.prompt, s.button.id, s.button.label])).toEqual([
      ['A red field.', 'z:draft-suggestion:set0000001:0', 'Draft 1'],
      ['A red wall.', 'z:draft-suggestion:set0000001:1', 'Draft 2'],
    ]);
  });

  it('names its cards apart from every job id', () => {
    const id = newAssistId();
    expect(id).toMatch(/^assist-[0-9a-f]{12}$/);
    expect(/^[A-Za-z0-9]{4,32}$/.test(id)).toBe(false);
    expect(newAssistId()).not.toBe(id);
  });

  it('keeps the cards at work and only the newest suggestions, oldest first', () => {
    const cards = new AssistCards(2);
    const card = (id: string, state: AssistCard['state'], createdAt: number): AssistCard => ({ ...meta, id, state, createdAt, task: 'describe', text: '', prompt: '', suggestions: [], withheld: 0, notes: [] });
    cards.set(card('assist-working', 'assisting', 5));
    for (let i = 1; i <= 3; i += 1) cards.set(card(`assist-s${i}`, 'suggestions', 10 + i));
    expect(cards.list().map((c) => c.id)).toEqual(['assist-working', 'assist-s2', 'assist-s3']);
    cards.set(card('assist-working', 'suggestions', 5));
    expect(cards.list().map((c) => c.id)).toEqual(['assist-working', 'assist-s3']);
    cards.delete('assist-s3');
    expect(cards.list().map((c) => c.id)).toEqual(['assist-working']);
  });
});
