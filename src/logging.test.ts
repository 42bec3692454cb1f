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

  it('logs an error by its own words, never the request a client error carries inside it', async () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const log = createLogger('info', out);
    // The shape of @slack/web-api's WebAPIRequestError around an axios error, as Socket Mode's start throws it.
    const error = Object.assign(new Error('A request error occurred: connect ECONNREFUSED'), {
      code: 'slack_webapi_request_error',
      original: { config: { headers: { Authorization: 'Bearer xapp-1-A0-secret' } } },
    });
    log.error({ err: new Error('could not start', { cause: error }) }, 'start failed');
    log.flush();
    await new Promise((r) => setImmediate(r));
    const record = JSON.parse(lines.join('')) as { err: { message: string; cause: { code: string; message: string } } };
    expect(record.err.message).toBe('could not start');
    expect(record.err.cause).toMatchObject({ code: 'slack_webapi_request_error', message: 'A request error occurred: connect ECONNREFUSED' });
    expect(lines.join('')).not.toContain('xapp-1-A0-secret');
  });

  it('scrubs secret values out of free text', () => {
    expect(scrubSecrets('GET https://x/api?token=abcdef123 failed', ['abcdef123', null])).toBe('GET https://x/api?token=[redacted] failed');
    expect(scrubSecrets('PATCH /webhooks/123/aW50ZXJhY3Rpb24.tok/messages/@original failed')).toBe('PATCH /webhooks/123/[token]/messages/@original failed');
    expect(scrubSecrets('POST /interactions/99/aW50.x-y/callback')).toBe('POST /interactions/99/[token]/callback');
  });
});
