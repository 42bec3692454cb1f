import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubSecrets } from './logging.ts';

describe('logging', () => {
  it('never writes a token, wherever it sits in a record', async () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const log = createLogger('info', out);
    log.info({ token: 'discord-token-123', slack: { botToken: 'xoxb-1-2', signingSecret: 's3cr3t!!' }, headers: { authorization: 'Bot abc' } }, 'starting');
    log.flush();
    await new Promise((r) => setImmediate(r));
    const text = lines.join('');
    expect(text).toContain('starting');
    for (const secret of ['discord-token-123', 'xoxb-1-2', 's3cr3t!!', 'Bot abc']) expect(text).not.toContain(secret);
  });

  it('scrubs secret values out of free text', () => {
    expect(scrubSecrets('GET https://x/api?token=abcdef123 failed', ['abcdef123', null])).toBe('GET https://x/api?token=[redacted] failed');
  });
});
