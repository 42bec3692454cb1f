import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/support/fakes.ts';
import { errorText } from '../core/texts.ts';
import { boardCommand } from './commands/board.ts';
import { settingsCommand } from './commands/settings.ts';
import type { OptionReader } from './commands/slash-options.ts';
import { EditForms } from './edit-forms.ts';
import { voteOfReaction } from './events/reaction-vote.ts';
import type { HandlerContext } from './intent.ts';
import { candidateOfEmoji, VOTE_EMOJI } from './reactions.ts';

/** The team's gestures on Discord as plain decisions: which reaction is a vote, what /board and /settings ask for. */
const ctx = (locale: HandlerContext['locale'] = 'en'): HandlerContext => ({ locale, config: testConfig(), botUserId: '42', forms: new EditForms() });

function reader(values: Record<string, string | number | boolean>): OptionReader {
  const get = <T>(name: string, type: string): T | null => (typeof values[name] === type ? (values[name] as T) : null);
  return {
    string: (name) => get<string>(name, 'string'),
    integer: (name) => get<number>(name, 'number'),
    number: (name) => get<number>(name, 'number'),
    boolean: (name) => get<boolean>(name, 'boolean'),
    attachment: () => null,
  };
}

describe('vote reactions', () => {
  it('reads 1️⃣–4️⃣ as candidates 1–4, with or without the variation selector, and nothing else', () => {
    expect(VOTE_EMOJI.map((name) => candidateOfEmoji({ id: null, name }))).toEqual([0, 1, 2, 3]);
    expect(candidateOfEmoji({ id: null, name: '2\u20E3' })).toBe(1);
    for (const name of ['5️⃣', '👍', '1', '#️⃣', '']) expect(candidateOfEmoji({ id: null, name })).toBeUndefined();
    // A custom emoji that someone named like a keycap is not one.
    expect(candidateOfEmoji({ id: '1234567890', name: '1️⃣' })).toBeUndefined();
    expect(candidateOfEmoji({ id: null, name: null })).toBeUndefined();
  });

  it('ignores the bot’s own reactions and other bots’, counts a person’s even when Discord sent only their id', () => {
    const view = { messageId: '7', emoji: { id: null, name: '3️⃣' } };
    expect(voteOfReaction({ ...view, userId: '42', userIsBot: true }, '42')).toBeUndefined();
    expect(voteOfReaction({ ...view, userId: '42', userIsBot: null }, '42')).toBeUndefined();
    expect(voteOfReaction({ ...view, userId: '99', userIsBot: true }, '42')).toBeUndefined();
    expect(voteOfReaction({ ...view, userId: '5', userIsBot: false }, '42')).toBe(2);
    expect(voteOfReaction({ ...view, userId: '5', userIsBot: null }, '42')).toBe(2);
  });
});

describe('/board', () => {
  it('takes the window as written, or the default, and refuses one that is no window before anything is posted', () => {
    expect(boardCommand.handle(ctx(), reader({}))).toEqual({ kind: 'board', window: '' });
    expect(boardCommand.handle(ctx(), reader({ since: ' 7d ' }))).toEqual({ kind: 'board', window: '7d' });
    expect(boardCommand.handle(ctx(), reader({ since: '2小时' }))).toEqual({ kind: 'board', window: '2小时' });
    expect(boardCommand.handle(ctx('zh-CN'), reader({ since: '91d' }))).toEqual({ kind: 'refuse', text: errorText('zh-CN', { code: 'bad-window', params: { value: '91d' } }) });
  });
});

describe('/settings', () => {
  it('shows the settings when nothing would change (no options, or only a scope)', () => {
    expect(settingsCommand.handle(ctx(), reader({}))).toEqual({ kind: 'settings', command: { kind: 'show' } });
    expect(settingsCommand.handle(ctx(), reader({ scope: 'channel' }))).toEqual({ kind: 'settings', command: { kind: 'show' } });
  });

  it('changes one level: the scope chosen, or without one the person’s — the channel’s when only a channel has the option', () => {
    expect(settingsCommand.handle(ctx(), reader({ scope: 'channel', count: 2, ar: '16:9', style: 'ink', others: false, policy: 'spoiler' }))).toEqual({
      kind: 'settings',
      command: { kind: 'change', target: 'channel', set: { count: 2, ar: '16:9', style: 'ink', othersMayPress: false, policy: 'spoiler' }, clear: [] },
    });
    expect(settingsCommand.handle(ctx(), reader({ count: 1 }))).toMatchObject({ command: { target: 'personal', set: { count: 1 } } });
    expect(settingsCommand.handle(ctx(), reader({ others: true }))).toMatchObject({ command: { target: 'channel', set: { othersMayPress: true } } });
    // An explicit "me" stays the person's (the core then refuses the channel-only option).
    expect(settingsCommand.handle(ctx(), reader({ scope: 'me', policy: 'block' }))).toMatchObject({ command: { target: 'personal', set: { policy: 'block' } } });
  });

  it('resets one setting, and refuses a reset of the setting it also sets', () => {
    expect(settingsCommand.handle(ctx(), reader({ scope: 'me', reset: 'ar', count: 2 }))).toEqual({
      kind: 'settings',
      command: { kind: 'change', target: 'personal', set: { count: 2 }, clear: ['ar'] },
    });
    expect(settingsCommand.handle(ctx(), reader({ reset: 'others' }))).toMatchObject({ command: { target: 'channel', clear: ['othersMayPress'] } });
    expect(settingsCommand.handle(ctx('zh-CN'), reader({ reset: 'count', count: 2 }))).toEqual({ kind: 'refuse', text: errorText('zh-CN', { code: 'duplicate-flag', params: { flag: '数量' } }) });
  });

  it('refuses a value the core cannot read, in the person’s language', () => {
    expect(settingsCommand.handle(ctx(), reader({ scope: 'channel', policy: 'loose' }))).toEqual({
      kind: 'refuse',
      text: errorText('en', { code: 'bad-setting', params: { flag: '--policy', value: 'loose', allowed: 'block spoiler' } }),
    });
  });
});
