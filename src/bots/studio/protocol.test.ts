import { describe, expect, it } from 'vitest';
import { parseClientMessage } from './protocol.ts';

const parse = (value: unknown): boolean => parseClientMessage(JSON.stringify(value), false).ok;
const hello = { t: 'hello', userId: 'tab-0123456789ab', name: 'Ada', locale: 'en-US' };

describe('browser message validation', () => {
  it('accepts the messages the page sends', () => {
    expect(parse(hello)).toBe(true);
    expect(parse({ ...hello, name: '李雷' })).toBe(true);
    expect(parse({ t: 'name', name: '韩梅梅' })).toBe(true);
    expect(parse({ t: 'command', ref: 1, text: '/draft a cat' })).toBe(true);
    expect(parse({ t: 'command', ref: 2, text: 'make it blue', replyTo: { jobId: 'abcd1234', index: 3 }, mask: 'a'.repeat(32) })).toBe(true);
    expect(parse({ t: 'command', ref: 3, text: '/edit x', upload: '0123456789abcdef0123456789abcdef' })).toBe(true);
    expect(parse({ t: 'button', ref: 4, id: 'z:refine:abcd1234:0' })).toBe(true);
    // A reply to a whole result (every candidate, or the one `#n` names).
    expect(parse({ t: 'command', ref: 5, text: '#2 make it blue', replyTo: { jobId: 'abcd1234' } })).toBe(true);
    expect(parse({ t: 'vote', ref: 6, jobId: 'abcd1234', index: 0 })).toBe(true);
    expect(parse({ t: 'vote', ref: 7, jobId: 'abcd1234', index: 3 })).toBe(true);
    for (const since of ['', '2h', '24h', '7d', '30m', '1w']) expect(parse({ t: 'board', ref: 8, since }), since).toBe(true);
    expect(parse({ t: 'lineage', ref: 9, jobId: 'abcd1234' })).toBe(true);
    expect(parse({ t: 'settings', ref: 10 })).toBe(true);
    expect(parse({ t: 'settings', ref: 11, change: { target: 'channel', values: { count: 2, ar: '16:9', style: 'ink', othersMayPress: false, policy: 'block' } } })).toBe(true);
    expect(parse({ t: 'settings', ref: 12, change: { target: 'personal', values: { count: 'default', ar: 'default', style: 'default' } } })).toBe(true);
    expect(parse({ t: 'settings', ref: 13, change: { target: 'channel', values: { othersMayPress: 'default', policy: 'default' } } })).toBe(true);
  });

  it('refuses votes, board, history and settings messages of any other shape', () => {
    expect(parse({ t: 'vote', ref: 1, jobId: 'abcd1234' })).toBe(false);
    expect(parse({ t: 'vote', ref: 1, jobId: 'abcd1234', index: 4 })).toBe(false);
    expect(parse({ t: 'vote', ref: 1, jobId: 'abcd1234', index: -1 })).toBe(false);
    expect(parse({ t: 'vote', ref: 1, jobId: 'abcd1234', index: 1.5 })).toBe(false);
    expect(parse({ t: 'vote', ref: 1, jobId: '../x', index: 0 })).toBe(false);
    expect(parse({ t: 'vote', ref: 1, jobId: 'abcd1234', index: 0, on: true })).toBe(false);
    expect(parse({ t: 'vote', ref: 1, jobId: 'abcd1234', index: 0, userId: 'tab-0123456789ab' })).toBe(false);
    expect(parse({ t: 'board', ref: 1 })).toBe(false);
    expect(parse({ t: 'board', ref: 1, since: '--since 7d' })).toBe(false);
    expect(parse({ t: 'board', ref: 1, since: '7 days' })).toBe(false);
    expect(parse({ t: 'board', ref: 1, since: '12345h' })).toBe(false);
    expect(parse({ t: 'board', ref: 1, since: '24h', channel: 'general' })).toBe(false);
    expect(parse({ t: 'lineage', ref: 1 })).toBe(false);
    expect(parse({ t: 'lineage', ref: 1, jobId: 'a b' })).toBe(false);
    expect(parse({ t: 'settings', ref: 1, change: { target: 'everyone', values: { count: 2 } } })).toBe(false);
    expect(parse({ t: 'settings', ref: 1, change: { target: 'channel', values: { count: 5 } } })).toBe(false);
    expect(parse({ t: 'settings', ref: 1, change: { target: 'channel', values: { count: '2' } } })).toBe(false);
    expect(parse({ t: 'settings', ref: 1, change: { target: 'channel', values: { policy: 'allow' } } })).toBe(false);
    expect(parse({ t: 'settings', ref: 1, change: { target: 'channel', values: { othersMayPress: 'maybe' } } })).toBe(false);
    expect(parse({ t: 'settings', ref: 1, change: { target: 'channel', values: { ar: 'x'.repeat(41) } } })).toBe(false);
    expect(parse({ t: 'settings', ref: 1, change: { target: 'channel', values: { ar: '  ' } } })).toBe(false);
    expect(parse({ t: 'settings', ref: 1, change: { target: 'channel', values: { admin: true } } })).toBe(false);
    expect(parse({ t: 'settings', ref: 1, change: { target: 'channel', values: {} }, canConfigure: true })).toBe(false);
  });

  it('refuses binary frames, bad JSON and unknown messages', () => {
    expect(parseClientMessage(Buffer.from(JSON.stringify(hello)), true).ok).toBe(false);
    expect(parseClientMessage('{"t":"hello"', false).ok).toBe(false);
    expect(parse(null)).toBe(false);
    expect(parse([hello])).toBe(false);
    expect(parse({ t: 'eval', code: '1' })).toBe(false);
  });

  it('refuses names that would mislead other tabs, and malformed ids', () => {
    expect(parse({ ...hello, name: '' })).toBe(false);
    expect(parse({ ...hello, name: '   ' })).toBe(false);
    expect(parse({ ...hello, name: 'x'.repeat(33) })).toBe(false);
    expect(parse({ ...hello, name: 'Ada\u202Egnp.exe' })).toBe(false);
    expect(parse({ ...hello, name: 'A\nB' })).toBe(false);
    expect(parse({ ...hello, userId: 'short' })).toBe(false);
    expect(parse({ ...hello, userId: '../../etc/passwd' })).toBe(false);
    expect(parse({ ...hello, admin: true })).toBe(false);
    expect(parse({ t: 'name', name: 'Ada\u202Egnp.exe' })).toBe(false);
    expect(parse({ t: 'name', name: ' ' })).toBe(false);
    expect(parse({ t: 'name', name: 'Bea', userId: 'tab-0123456789ab' })).toBe(false);
  });

  it('refuses commands with extra fields, bad references or two images', () => {
    expect(parse({ t: 'command', ref: 1, text: 'x', isAdmin: true })).toBe(false);
    expect(parse({ t: 'command', ref: -1, text: 'x' })).toBe(false);
    expect(parse({ t: 'command', ref: 1, text: 'x'.repeat(16_001) })).toBe(false);
    expect(parse({ t: 'command', ref: 1, text: 'x', replyTo: { jobId: '../x', index: 0 } })).toBe(false);
    expect(parse({ t: 'command', ref: 1, text: 'x', replyTo: { jobId: 'abcd1234', index: 4 } })).toBe(false);
    expect(parse({ t: 'command', ref: 1, text: 'x', upload: 'not-an-id' })).toBe(false);
    expect(parse({ t: 'command', ref: 1, text: 'x', replyTo: { jobId: 'abcd1234', index: 0 }, upload: 'a'.repeat(32) })).toBe(false);
    expect(parse({ t: 'command', ref: 1, text: 'x', mask: 'a'.repeat(32) })).toBe(false);
    // A mask is painted over one image: not over a whole result.
    expect(parse({ t: 'command', ref: 1, text: 'x', replyTo: { jobId: 'abcd1234' }, mask: 'a'.repeat(32) })).toBe(false);
    expect(parse({ t: 'button', ref: 1, id: 'z'.repeat(101) })).toBe(false);
  });

  it('takes the Enhance toggle as a bare true, and describe with exactly one image', () => {
    expect(parse({ t: 'command', ref: 1, text: 'a fox', enhance: true })).toBe(true);
    expect(parse({ t: 'command', ref: 1, text: 'a fox', enhance: false })).toBe(false);
    expect(parse({ t: 'command', ref: 1, text: 'a fox', enhance: 'yes' })).toBe(false);
    expect(parse({ t: 'describe', ref: 2, upload: 'a'.repeat(32) })).toBe(true);
    expect(parse({ t: 'describe', ref: 3, image: { jobId: 'abcd1234', index: 1 } })).toBe(true);
    expect(parse({ t: 'describe', ref: 4 })).toBe(false);
    expect(parse({ t: 'describe', ref: 5, upload: 'a'.repeat(32), image: { jobId: 'abcd1234', index: 1 } })).toBe(false);
    // One candidate, not a whole result; no URL to fetch from.
    expect(parse({ t: 'describe', ref: 6, image: { jobId: 'abcd1234' } })).toBe(false);
    expect(parse({ t: 'describe', ref: 7, image: { jobId: 'abcd1234', index: 0 }, url: 'http://example.com/x.png' })).toBe(false);
    expect(parse({ t: 'describe', ref: 8, upload: 'not-an-id' })).toBe(false);
  });
});
