import { describe, expect, it } from 'vitest';
import { parseClientMessage } from './protocol.ts';

const parse = (value: unknown): boolean => parseClientMessage(JSON.stringify(value), false).ok;
const hello = { t: 'hello', userId: 'tab-0123456789ab', name: 'Ada', locale: 'en-US' };

describe('browser message validation', () => {
  it('accepts the four messages the page sends', () => {
    expect(parse(hello)).toBe(true);
    expect(parse({ ...hello, name: '李雷' })).toBe(true);
    expect(parse({ t: 'name', name: '韩梅梅' })).toBe(true);
    expect(parse({ t: 'command', ref: 1, text: '/draft a cat' })).toBe(true);
    expect(parse({ t: 'command', ref: 2, text: 'make it blue', replyTo: { jobId: 'abcd1234', index: 3 }, mask: 'a'.repeat(32) })).toBe(true);
    expect(parse({ t: 'command', ref: 3, text: '/edit x', upload: '0123456789abcdef0123456789abcdef' })).toBe(true);
    expect(parse({ t: 'button', ref: 4, id: 'z:refine:abcd1234:0' })).toBe(true);
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
    expect(parse({ t: 'button', ref: 1, id: 'z'.repeat(101) })).toBe(false);
  });
});
