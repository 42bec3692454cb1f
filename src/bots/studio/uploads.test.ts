import { Readable } from 'node:stream';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { UploadStore } from './uploads.ts';

const body = (...chunks: Buffer[]): Readable => Readable.from(chunks);
const PNG = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f80' } }).png().toBuffer();

describe('uploads', () => {
  it('keeps a sniffed image for the tab that sent it, once', async () => {
    const store = new UploadStore({ maxBytes: 1024, perUser: 4 });
    const result = await store.receive(body(PNG), PNG.byteLength, 'tab-aaaaaaaa');
    if (!result.ok) throw new Error(JSON.stringify(result));
    expect(store.take(result.value, 'tab-bbbbbbbb')).toBeUndefined();
    expect(Buffer.from(store.take(result.value, 'tab-aaaaaaaa')!)).toEqual(PNG);
    expect(store.take(result.value, 'tab-aaaaaaaa')).toBeUndefined();
  });

  it('refuses a declared or streamed size past the cap, and anything that is not an image', async () => {
    const store = new UploadStore({ maxBytes: 1024, perUser: 4 });
    expect(await store.receive(body(PNG), 4096, 'tab-aaaaaaaa')).toEqual({ ok: false, error: { status: 413, error: { code: 'attachment-too-large', params: { max: '1 KiB' } } } });
    // No (or a lying) Content-Length: the cap holds while the bytes stream in.
    expect(await store.receive(body(PNG, Buffer.alloc(600), Buffer.alloc(600)), undefined, 'tab-aaaaaaaa')).toMatchObject({ ok: false, error: { status: 413 } });
    expect(await store.receive(body(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), undefined, 'tab-aaaaaaaa')).toEqual({
      ok: false,
      error: { status: 415, error: { code: 'unsupported-attachment' } },
    });
    expect(await store.receive(body(Buffer.alloc(0)), 0, 'tab-aaaaaaaa')).toMatchObject({ ok: false, error: { status: 415 } });
  });

  it('forgets uploads nobody used', async () => {
    // lru-cache takes a start time of 0 as "no TTL": the clock starts later.
    let now = 1000;
    const store = new UploadStore({ maxBytes: 1024, perUser: 4 }, () => now);
    const result = await store.receive(body(PNG), undefined, 'tab-aaaaaaaa');
    if (!result.ok) throw new Error(JSON.stringify(result));
    now += 10 * 60_000;
    expect(store.take(result.value, 'tab-aaaaaaaa')).toBeUndefined();
  });

  it('keeps one user from pushing out another’s uploads: a quota per user, and a full store makes room from its largest holder', async () => {
    const store = new UploadStore({ maxBytes: 1024, perUser: 4 });
    const ada = await store.receive(body(PNG), undefined, 'tab-aaaaaaaa');
    if (!ada.ok) throw new Error(JSON.stringify(ada));
    // One flooding tab: only its own oldest make room.
    const flood: string[] = [];
    for (let i = 0; i < 100; i++) {
      const result = await store.receive(body(PNG), undefined, 'tab-ffffffff');
      if (result.ok) flood.push(result.value);
    }
    expect(flood).toHaveLength(100);
    expect(flood.slice(0, 96).map((id) => store.take(id, 'tab-ffffffff'))).toEqual(Array.from({ length: 96 }, () => undefined));
    // Many identities filling the whole store: each new one takes from the largest holder, never Ada's only upload.
    for (let user = 0; user < 20; user++) {
      for (let i = 0; i < 4; i++) await store.receive(body(PNG), undefined, `tab-user${String(user).padStart(4, '0')}`);
    }
    expect(Buffer.from(store.take(ada.value, 'tab-aaaaaaaa')!)).toEqual(PNG);
  });
});
