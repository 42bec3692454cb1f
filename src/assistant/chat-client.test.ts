import { createServer } from 'node:net';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOpenAI, type FakeOpenAIOptions } from '../../test/support/fake-openai.ts';
import { chatCompletion, endpointUrl, type ChatEndpoint, type ChatMessage } from './chat-client.ts';

let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  fake = await FakeOpenAI.start(options);
  return fake;
}

const KEY = 'sk-live-7f3a9c2e5b1d4a6f8e0c';
const text: ChatMessage[] = [
  { role: 'system', content: 'rewrite' },
  { role: 'user', content: 'a red fox' },
];

async function withImage(): Promise<ChatMessage[]> {
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00f' } }).png().toBuffer();
  return [{ role: 'user', content: [{ type: 'text', text: 'describe' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } }] }];
}

function call(endpoint: ChatEndpoint, messages: ChatMessage[], timeoutMs = 30_000): ReturnType<typeof chatCompletion> {
  return chatCompletion(endpoint, { messages, temperature: 0.7, maxTokens: 400, signal: AbortSignal.timeout(timeoutMs), timeoutMs });
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('chatCompletion', () => {
  it('posts the model, messages, temperature and max_tokens with the key as a Bearer token, and reads the content', async () => {
    const server = await start({ apiKey: KEY });
    const reply = await call({ url: server.url, model: 'qwen2.5:3b', apiKey: KEY }, text);
    expect(reply).toEqual({ ok: true, value: { content: expect.stringContaining('a red fox'), finishReason: 'stop' } });
    const request = server.requests[0]!;
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.body).toMatchObject({ model: 'qwen2.5:3b', temperature: 0.7, max_tokens: 400, stream: false, messages: text });
  });

  it('sends no Authorization header without a key', async () => {
    const server = await start();
    expect((await call({ url: server.url, model: 'm', apiKey: null }, text)).ok).toBe(true);
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('accepts the base URL with or without a trailing slash or the route itself', () => {
    expect(endpointUrl('http://localhost:11434/v1')).toBe('http://localhost:11434/v1/chat/completions');
    expect(endpointUrl('http://localhost:11434/v1/')).toBe('http://localhost:11434/v1/chat/completions');
    expect(endpointUrl('http://localhost:8080/v1/chat/completions')).toBe('http://localhost:8080/v1/chat/completions');
  });

  it('turns an error status into assistant-http-error with the server’s own words', async () => {
    const server = await start({ mode: { kind: 'error', status: 404, message: "model 'qwen9:1b' not found", type: 'not_found_error' } });
    const reply = await call({ url: server.url, model: 'qwen9:1b', apiKey: null }, text);
    expect(reply).toEqual({
      ok: false,
      error: { code: 'assistant-http-error', message: expect.stringContaining("HTTP 404: model 'qwen9:1b' not found"), params: { status: 404, reason: "model 'qwen9:1b' not found" } },
    });
  });

  it('recognises a model that takes no images, as llama-server, Ollama and vLLM say it', async () => {
    const messages = await withImage();
    for (const flavor of ['llama.cpp', 'ollama', 'vllm'] as const) {
      const server = await start({ noVision: flavor });
      const reply = await call({ url: server.url, model: 'qwen2.5:3b', apiKey: null }, messages);
      expect(reply, flavor).toMatchObject({ ok: false, error: { code: 'assistant-no-vision', params: { model: 'qwen2.5:3b' } } });
      await server.close();
      fake = undefined;
    }
  });

  it('keeps a 500 that names images as a plain HTTP error when no image was sent', async () => {
    const server = await start({ mode: { kind: 'error', status: 500, message: 'image input is not supported' } });
    expect(await call({ url: server.url, model: 'm', apiKey: null }, text)).toMatchObject({ ok: false, error: { code: 'assistant-http-error', params: { status: 500 } } });
  });

  it('turns a body that is not JSON, a completion without choices and an empty message into assistant-bad-reply', async () => {
    const server = await start({ mode: { kind: 'malformed' } });
    const endpoint = { url: server.url, model: 'm', apiKey: null };
    expect(await call(endpoint, text)).toMatchObject({ ok: false, error: { code: 'assistant-bad-reply', params: { reason: expect.stringContaining('not JSON') } } });
    server.mode = { kind: 'no-choices' };
    expect(await call(endpoint, text)).toMatchObject({ ok: false, error: { code: 'assistant-bad-reply', params: { reason: 'no choices' } } });
    server.mode = { kind: 'normal' };
    server.answer = () => '   ';
    expect(await call(endpoint, text)).toMatchObject({ ok: false, error: { code: 'assistant-bad-reply', params: { reason: 'an empty message' } } });
  });

  it('refuses an answer larger than 1 MiB without reading it all', async () => {
    const server = await start({ answer: () => 'x'.repeat(1_100_000) });
    expect(await call({ url: server.url, model: 'm', apiKey: null }, text)).toMatchObject({ ok: false, error: { code: 'assistant-bad-reply', params: { reason: expect.stringContaining('larger than') } } });
  });

  it('times out on a server that does not answer in time', async () => {
    const server = await start({ mode: { kind: 'slow', ms: 20_000 } });
    expect(await call({ url: server.url, model: 'm', apiKey: null }, text, 300)).toEqual({
      ok: false,
      error: { code: 'assistant-timeout', message: expect.stringContaining('within 0.3 s'), params: { seconds: 0.3 } },
    });
  });

  it('reports a refused connection and a dropped one as assistant-unreachable', async () => {
    const port = await closedPort();
    expect(await call({ url: `http://127.0.0.1:${port}/v1`, model: 'm', apiKey: null }, text)).toMatchObject({ ok: false, error: { code: 'assistant-unreachable', params: { reason: 'ECONNREFUSED' } } });
    const server = await start({ mode: { kind: 'drop' } });
    expect(await call({ url: server.url, model: 'm', apiKey: null }, text)).toMatchObject({ ok: false, error: { code: 'assistant-unreachable' } });
  });

  it('never puts the key in a message, even when the server repeats it', async () => {
    const server = await start({ apiKey: KEY, mode: { kind: 'error', status: 502, message: `upstream refused the key ${KEY}` } });
    const reply = await call({ url: server.url, model: 'm', apiKey: KEY }, text);
    expect(reply.ok).toBe(false);
    expect(JSON.stringify(reply)).not.toContain(KEY);
    expect(JSON.stringify(reply)).toContain('[redacted]');
  });

  it('never puts part of the key in a message either, where the server\'s words are cut short around it', async () => {
    // The key straddles the cut a long reason gets: it must be taken out before the cut, not looked for after.
    const padding = 'x'.repeat(260);
    const server = await start({ apiKey: KEY, mode: { kind: 'error', status: 401, message: `${padding} Invalid token: Bearer ${KEY}` } });
    const reply = await call({ url: server.url, model: 'm', apiKey: KEY }, text);
    expect(reply.ok).toBe(false);
    expect(JSON.stringify(reply)).not.toContain(KEY.slice(0, 8));
  });
});
