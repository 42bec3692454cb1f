import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOpenAI, LLAMA_CPP_NO_VISION, type FakeOpenAIOptions } from './fake-openai.ts';

/**
 * The fake answers as OpenAI-compatible servers do, so the assistant's tests mean something: the completion's shape,
 * the request checks, OpenAI-shaped errors, and a text-only model's refusal of images as llama-server, Ollama and vLLM
 * word and number it.
 */
let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  fake = await FakeOpenAI.start(options);
  return fake;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: () => Record<string, unknown> }> {
  const response = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

const png = (colour: { r: number; g: number; b: number }, width = 40, height = 30): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer();
const imagePart = (bytes: Buffer): unknown => ({ type: 'image_url', image_url: { url: `data:image/png;base64,${bytes.toString('base64')}` } });

describe('fake OpenAI-compatible server', () => {
  it('answers a chat completion derived from the user message, with OpenAI’s fields', async () => {
    const server = await start();
    const reply = await post(server.url, { model: 'm', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'a sign reading "OPEN"' }], max_tokens: 500 });
    expect(reply.status).toBe(200);
    const body = reply.json();
    expect(body).toMatchObject({ object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: 'stop' }] });
    expect(String((body.choices as { message: { content: string } }[])[0]!.message.content)).toContain('a sign reading "OPEN"');
    expect(body.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
    expect(server.requests[0]).toMatchObject({ system: 'be brief', texts: ['a sign reading "OPEN"'], maxTokens: 500 });
  });

  it('cuts an answer at max_tokens and says so in finish_reason', async () => {
    const server = await start();
    const body = (await post(server.url, { model: 'm', messages: [{ role: 'user', content: 'a fox' }], max_tokens: 3 })).json();
    expect(body.choices).toMatchObject([{ message: { content: 'a fox, shown' }, finish_reason: 'length' }]);
  });

  it('reads image parts (data: URLs) and describes the image by its size and colour', async () => {
    const server = await start();
    const red = await png({ r: 230, g: 30, b: 30 }, 40, 30);
    const reply = await post(server.url, { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'describe' }, imagePart(red)] }] });
    expect(reply.status).toBe(200);
    const content = (reply.json().choices as { message: { content: string } }[])[0]!.message.content;
    const prompts = JSON.parse(content) as string[];
    expect(prompts).toHaveLength(4);
    expect(prompts[0]).toContain('40×30');
    expect(prompts[0]).toContain('red');
    expect(server.requests[0]!.images[0]!.mime).toBe('image/png');
    expect(server.requests[0]!.images[0]!.bytes.equals(red)).toBe(true);
  });

  it('refuses malformed requests with 400 and an OpenAI-shaped error', async () => {
    const server = await start();
    for (const body of ['{not json', { messages: [{ role: 'user', content: 'x' }] }, { model: 'm', messages: [] }, { model: 'm', messages: [{ role: 'robot', content: 'x' }] }, { model: 'm', messages: [{ role: 'user', content: [{ type: 'audio', data: '' }] }] }, { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/x.png' } }] }] }, { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] }, { model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }]) {
      const reply = await post(server.url, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.json()).toMatchObject({ error: { message: expect.any(String), type: 'invalid_request_error', param: null } });
    }
    expect(server.requests).toHaveLength(0);
  });

  it('asks for the key when one is set, as OpenAI does, masking a wrong one', async () => {
    const server = await start({ apiKey: 'sk-test-0123456789abcdef' });
    const missing = await post(server.url, { model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(missing.status).toBe(401);
    expect(missing.json()).toMatchObject({ error: { type: 'invalid_request_error', code: null } });
    const wrong = await post(server.url, { model: 'm', messages: [{ role: 'user', content: 'x' }] }, { authorization: 'Bearer sk-wrong-key-9999' });
    expect(wrong.status).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: 'invalid_api_key', message: expect.stringContaining('sk-**********9999') } });
    const right = await post(server.url, { model: 'm', messages: [{ role: 'user', content: 'x' }] }, { authorization: 'Bearer sk-test-0123456789abcdef' });
    expect(right.status).toBe(200);
  });

  it('refuses image parts as a text-only model does on llama-server, Ollama and vLLM, and still answers text', async () => {
    const image = imagePart(await png({ r: 0, g: 0, b: 255 }));
    const withImage = { model: 'qwen3:4b', messages: [{ role: 'user', content: [{ type: 'text', text: 'describe' }, image] }] };
    const llama = await start({ noVision: 'llama.cpp' });
    expect(await post(llama.url, withImage)).toMatchObject({ status: 500 });
    expect((await post(llama.url, withImage)).json()).toEqual(LLAMA_CPP_NO_VISION);
    expect((await post(llama.url, { model: 'm', messages: [{ role: 'user', content: 'text only' }] })).status).toBe(200);
    await llama.close();

    const ollama = await start({ noVision: 'ollama' });
    const fromOllama = await post(ollama.url, withImage);
    expect(fromOllama.status).toBe(500);
    expect(fromOllama.json()).toMatchObject({ error: { type: 'api_error', param: null, code: null } });
    expect(JSON.parse(String((fromOllama.json().error as { message: string }).message))).toEqual(LLAMA_CPP_NO_VISION);
    await ollama.close();

    const vllm = await start({ noVision: 'vllm' });
    const fromVllm = await post(vllm.url, withImage);
    expect(fromVllm.status).toBe(400);
    expect(fromVllm.json()).toEqual({ error: { message: 'qwen3:4b is not a multimodal model', type: 'BadRequestError', param: null, code: 400 } });
  });

  it('plays an error status, a body that is not JSON, a completion without choices and a dropped connection', async () => {
    const server = await start({ mode: { kind: 'error', status: 503, message: 'Loading model' } });
    const body = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
    const failed = await post(server.url, body);
    expect(failed.status).toBe(503);
    expect(failed.json()).toEqual({ error: { message: 'Loading model', type: 'server_error', param: null, code: null } });

    server.mode = { kind: 'malformed' };
    const malformed = await post(server.url, body);
    expect(malformed.status).toBe(200);
    expect(() => malformed.json()).toThrow(SyntaxError);

    server.mode = { kind: 'no-choices' };
    expect((await post(server.url, body)).json()).toMatchObject({ object: 'chat.completion', choices: [] });

    server.mode = { kind: 'drop' };
    await expect(post(server.url, body)).rejects.toThrow(/fetch failed/);
  });

  it('answers a slow request, and lets a request wait until released', async () => {
    const server = await start({ mode: { kind: 'slow', ms: 50 } });
    const body = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
    expect((await post(server.url, body)).status).toBe(200);

    server.mode = { kind: 'normal' };
    server.hold();
    let answered = false;
    const pending = post(server.url, body).then((reply) => {
      answered = true;
      return reply;
    });
    await server.whenInFlight(1);
    expect(answered).toBe(false);
    server.release();
    expect((await pending).status).toBe(200);
    expect(server.maxInFlight).toBe(1);
  });

  it('serves the model list and 404s other routes', async () => {
    const server = await start();
    const models = await fetch(`${server.url}/models`);
    expect(await models.json()).toMatchObject({ object: 'list', data: [{ id: 'fake-model', object: 'model' }] });
    const missing = await fetch(`${server.url}/embeddings`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(404);
  });
});
