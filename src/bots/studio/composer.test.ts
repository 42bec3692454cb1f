import { describe, expect, it } from 'vitest';
import { commandFromComposer } from './composer.ts';

const candidate = { jobId: 'abcd1234', index: 1 };
const upload = { bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) };

describe('composer text → command', () => {
  it('reads /draft, /refine and /edit with their inline flags left for the core grammar', () => {
    expect(commandFromComposer({ text: '/draft a red fox --seed 42' })).toEqual({ ok: true, value: { kind: 'draft', text: 'a red fox --seed 42' } });
    expect(commandFromComposer({ text: '  /refine --steps 30 ' })).toEqual({ ok: true, value: { kind: 'refine', text: '--steps 30' } });
    expect(commandFromComposer({ text: '/refine', image: candidate })).toEqual({ ok: true, value: { kind: 'refine', text: '', image: candidate } });
    expect(commandFromComposer({ text: '/edit make it blue', image: upload, mask: upload })).toEqual({
      ok: true,
      value: { kind: 'edit', text: 'make it blue', image: upload, mask: upload },
    });
  });

  it('treats plain text as a reply-to-image edit when there is an image, else as a draft', () => {
    expect(commandFromComposer({ text: 'make it blue', image: candidate })).toEqual({ ok: true, value: { kind: 'edit', text: 'make it blue', image: candidate } });
    expect(commandFromComposer({ text: 'a lighthouse' })).toEqual({ ok: true, value: { kind: 'draft', text: 'a lighthouse' } });
  });

  it('turns the Enhance toggle into a draft\'s --enhance, and refuses it on a refine or an edit', () => {
    expect(commandFromComposer({ text: 'a lighthouse', enhance: true })).toEqual({ ok: true, value: { kind: 'draft', text: 'a lighthouse', options: { enhance: true } } });
    expect(commandFromComposer({ text: '/draft a lighthouse --seed 3', enhance: true })).toEqual({
      ok: true,
      value: { kind: 'draft', text: 'a lighthouse --seed 3', options: { enhance: true } },
    });
    expect(commandFromComposer({ text: 'make it blue', image: candidate, enhance: true })).toEqual({
      ok: false,
      error: { code: 'flag-not-for-role', params: { flag: '--enhance', role: 'edit' } },
    });
    expect(commandFromComposer({ text: '/refine', image: candidate, enhance: true })).toEqual({
      ok: false,
      error: { code: 'flag-not-for-role', params: { flag: '--enhance', role: 'refine' } },
    });
  });

  it('takes the full-width slash and letters a Chinese input method types', () => {
    expect(commandFromComposer({ text: '／ｄｒａｆｔ 一只猫 ——seed 7' })).toEqual({ ok: true, value: { kind: 'draft', text: '一只猫 ——seed 7' } });
  });

  it('refuses what it cannot do, saying why', () => {
    expect(commandFromComposer({ text: '/edit make it blue' })).toEqual({ ok: false, error: { code: 'no-image' } });
    expect(commandFromComposer({ text: '/draft a cat', image: upload })).toEqual({ ok: false, error: { code: 'image-not-for-draft' } });
    expect(commandFromComposer({ text: '/imagine a cat' })).toEqual({ ok: false, error: { code: 'unknown-command', params: { command: '/imagine' } } });
    expect(commandFromComposer({ text: '/refine', image: candidate, mask: upload })).toEqual({
      ok: false,
      error: { code: 'flag-not-for-role', params: { flag: 'mask', role: 'refine' } },
    });
  });
});
