import { createServer, type Server } from 'node:http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchImage, hostAllowed } from './attachments.ts';

let server: Server;
let base: string;
let png: Buffer;

beforeAll(async () => {
  png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
  server = createServer((req, res) => {
    if (req.url === '/image.png') return void res.end(png);
    if (req.url === '/big') return void res.end(Buffer.alloc(5000, 1));
    if (req.url === '/text') return void res.end('<svg></svg>');
    if (req.url === '/redirect-out') return void res.writeHead(302, { location: 'http://example.com/x.png' }).end();
    if (req.url === '/redirect-in') return void res.writeHead(302, { location: '/image.png' }).end();
    if (req.url === '/redirect-bad') return void res.writeHead(302, { location: 'http://[not-a-host' }).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const policy = { allowedHosts: ['127.0.0.1'], insecureHosts: ['127.0.0.1'], maxBytes: 4096 };

describe('fetchImage', () => {
  it('downloads and sniffs an image from an allowed host', async () => {
    const result = await fetchImage(`${base}/image.png`, policy);
    expect(result.ok && result.value.type).toBe('png');
  });

  it('refuses other hosts, plain http elsewhere, redirects off the allow-list, oversize files and non-images', async () => {
    expect(await fetchImage('https://evil.example/x.png', policy)).toMatchObject({ ok: false, error: { code: 'attachment-host' } });
    expect(await fetchImage(`${base}/image.png`, { ...policy, insecureHosts: [] })).toMatchObject({ ok: false, error: { code: 'attachment-host' } });
    expect(await fetchImage(`${base}/redirect-out`, policy)).toMatchObject({ ok: false, error: { code: 'attachment-host' } });
    expect((await fetchImage(`${base}/redirect-in`, policy)).ok).toBe(true);
    expect(await fetchImage(`${base}/redirect-bad`, policy)).toMatchObject({ ok: false, error: { code: 'attachment-fetch' } });
    expect(await fetchImage(`${base}/big`, policy)).toMatchObject({ ok: false, error: { code: 'attachment-too-large' } });
    expect(await fetchImage(`${base}/text`, policy)).toMatchObject({ ok: false, error: { code: 'unsupported-attachment' } });
    expect(await fetchImage(`${base}/missing`, policy)).toMatchObject({ ok: false, error: { code: 'attachment-fetch' } });
    expect(await fetchImage('not a url', policy)).toMatchObject({ ok: false, error: { code: 'attachment-host' } });
  });

  it('matches hosts exactly or by a dotted suffix', () => {
    expect(hostAllowed('cdn.discordapp.com', ['cdn.discordapp.com'])).toBe(true);
    expect(hostAllowed('files.slack-edge.com', ['.slack-edge.com'])).toBe(true);
    expect(hostAllowed('evilslack-edge.com', ['.slack-edge.com'])).toBe(false);
    expect(hostAllowed('cdn.discordapp.com.evil.io', ['cdn.discordapp.com'])).toBe(false);
  });
});
