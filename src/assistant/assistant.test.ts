import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOpenAI, type FakeOpenAIOptions } from '../../test/support/fake-openai.ts';
import { ROOT, testConfig } from '../../test/support/fakes.ts';
import type { Config } from '../config/schema.ts';
import type { DeepPartial } from '../config/load.ts';
import { engineError } from '../engine/errors.ts';
import { createLogger } from '../logging.ts';
import type { InputCheck } from '../moderation/input-check.ts';
import { createPromptFilter } from '../moderation/prompt-filter.ts';
import { Assistant, AssistantSetupError, type AssistantGate, type AssistantOptions } from './assistant.ts';

const KEY = 'sk-proj-Zx81Lq0aVb3Nc7Tr2Wy5';
const ANN = { platform: 'studio', userId: 'ann' };
const BOB = { platform: 'discord', userId: 'bob' };

let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  fake = await FakeOpenAI.start(options);
  return fake;
}

function assistantFor(
  url: string | null,
  assistant: DeepPartial<Config['assistant']> = {},
  extra: Partial<AssistantOptions> & { limits?: DeepPartial<Config['limits']> } = {},
): { assistant: Assistant; logs: () => string } {
  const config = testConfig({ assistant: { url, model: url ? 'qwen2.5:3b' : null, ...assistant }, ...(extra.limits ? { limits: extra.limits } : {}) } as DeepPartial<Config>);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const options: AssistantOptions = {
    config,
    env: { ASSISTANT_API_KEY: KEY },
    promptFilter: createPromptFilter(config.moderation),
    log: createLogger('debug', sink),
    ...extra,
  };
  return { assistant: new Assistant(options), logs: () => lines.join('') };
}

const png = (width: number, height: number, background = '#d22'): Promise<Buffer> => sharp({ create: { width, height, channels: 3, background } }).png().toBuffer();

describe('Assistant without a URL', () => {
  it('is not configured, says how to turn it on, and refuses every call', async () => {
    const { assistant } = assistantFor(null);
    expect(assistant.configured).toBe(false);
    expect(assistant.endpoints).toBeNull();
    expect(assistant.setupHint).toMatch(/ASSISTANT_URL.*ASSISTANT_MODEL/);
    // The line docs/assistant.md quotes is the one users get.
    expect(readFileSync(join(ROOT, 'docs/assistant.md'), 'utf8')).toContain(assistant.setupHint);
    expect(await assistant.enhance('a fox', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-not-configured', message: assistant.setupHint } });
    expect(await assistant.describe(await png(8, 8), 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-not-configured' } });
  });
});

describe('Assistant.enhance', () => {
  it('rewrites the prompt through the server, with our system prompt, the key and the model, and keeps the original', async () => {
    const server = await start({ apiKey: KEY });
    const { assistant } = assistantFor(server.url);
    expect(assistant.endpoints).toEqual({ enhance: `${server.url}/chat/completions (qwen2.5:3b)`, describe: `${server.url}/chat/completions (qwen2.5:3b)` });
    const result = await assistant.enhance('  a café sign reading "OPEN 24h"  ', 'en', ANN);
    expect(result).toEqual({
      ok: true,
      value: {
        original: 'a café sign reading "OPEN 24h"',
        prompt: 'a café sign reading "OPEN 24h", shown in rich detail: the subject in the centre of the frame, soft morning light from the left, a shallow depth of field and a calm, muted palette.',
        cut: false,
      },
    });
    const request = server.requests[0]!;
    expect(request.model).toBe('qwen2.5:3b');
    expect(request.texts).toEqual(['a café sign reading "OPEN 24h"']);
    expect(request.system).toMatch(/Z-Image/);
    expect(request.system).toMatch(/quotation marks/);
    expect(request.system).toMatch(/If you cannot tell, write in English/);
    expect(request.maxTokens).toBe(1500);
  });

  it('asks for Simplified Chinese as the fallback language of a Chinese-speaking user', async () => {
    const server = await start();
    const { assistant } = assistantFor(server.url);
    expect((await assistant.enhance('🦊', 'zh-CN', ANN)).ok).toBe(true);
    expect(server.requests[0]!.system).toMatch(/If you cannot tell, write in Simplified Chinese/);
  });

  it('refuses an empty, too long or filtered prompt before anything is sent', async () => {
    const server = await start();
    const { assistant } = assistantFor(server.url, { maxPromptChars: 20 });
    expect(await assistant.enhance('   ', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'empty-prompt' } });
    expect(await assistant.enhance('a fox in the snow at dawn', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'prompt-too-long', params: { length: 25, max: 20 } } });
    expect(await assistant.enhance('a nude fox', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'prompt-blocked', params: { category: 'sexual' } } });
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a rewrite the prompt filter refuses', async () => {
    const server = await start({ answer: () => 'A fox, and a naked man behind it.' });
    const { assistant } = assistantFor(server.url);
    expect(await assistant.enhance('a fox', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-output-blocked', params: { category: 'sexual' } } });
  });

  it('refuses a rewrite that changed the text to be drawn', async () => {
    const server = await start({ answer: () => 'A neon sign reading “OPEN 24 hours” above a café door at night.' });
    const { assistant } = assistantFor(server.url);
    expect(await assistant.enhance('a café sign reading "OPEN 24h"', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-changed-text', params: { text: 'OPEN 24h' } } });
    server.answer = () => '夜晚的咖啡馆门口，一块霓虹招牌上写着“OPEN 24h”。';
    expect(await assistant.enhance('a café sign reading "OPEN 24h"', 'zh-CN', ANN)).toMatchObject({ ok: true });
    // A passage over two lines, or with braces, is kept as the rewrite is made drafting-safe.
    server.answer = (request) => `A poster that reads ${request.texts[0]!.slice(request.texts[0]!.indexOf('"'))} in bold letters.`;
    expect(await assistant.enhance('a poster "{BIG}\n SALE"', 'en', ANN)).toMatchObject({ ok: true, value: { prompt: 'A poster that reads "(BIG) SALE" in bold letters.' } });
    // A passage that opens with a dash run: kept after its quote, where the rewrite leaves it as it is.
    server.answer = () => 'A red poster reading "--SALE--" in bold letters.';
    expect(await assistant.enhance('a poster reading "--SALE--"', 'en', ANN)).toMatchObject({ ok: true, value: { prompt: 'A red poster reading "--SALE--" in bold letters.' } });
  });

  it('cuts a long rewrite at a sentence end within the output cap and the draft limit, and one cut at max_tokens', async () => {
    const long = Array.from({ length: 60 }, (_, i) => `Sentence number ${i} adds one more detail.`).join(' ');
    const server = await start({ answer: () => long });
    const { assistant } = assistantFor(server.url, { maxOutputChars: 400 }, { limits: { maxPromptChars: 300 } });
    const result = await assistant.enhance('a fox', 'en', ANN);
    expect(result.ok && result.value.cut).toBe(true);
    const prompt = result.ok ? result.value.prompt : '';
    expect(prompt.length).toBeLessThanOrEqual(300);
    expect(prompt).toMatch(/detail\.$/);
    expect(server.requests[0]!.maxTokens).toBe(300);

    server.answer = () => 'A fox in snow. Its tail curls around its paws while the light';
    const short = assistantFor(server.url).assistant;
    expect(await short.enhance('a fox', 'en', ANN)).toEqual({ ok: true, value: { original: 'a fox', prompt: 'A fox in snow. Its tail curls around its paws while the light', cut: false } });
    server.answer = () => `${'A fox in snow. '.repeat(200)}Its tail curls around`;
    const atLimit = await short.enhance('a fox', 'en', ANN);
    expect(atLimit.ok && atLimit.value).toMatchObject({ cut: true, prompt: expect.stringMatching(/snow\.$/) });
  });

  it('returns a rewrite that drafts as it reads: no flags, no prompt matrix', async () => {
    const server = await start({ answer: () => 'Enhanced prompt: "A fox in a {red|blue} scarf --ar 16:9, wide shot."' });
    const { assistant } = assistantFor(server.url);
    expect(await assistant.enhance('a fox in a scarf', 'en', ANN)).toEqual({ ok: true, value: { original: 'a fox in a scarf', prompt: 'A fox in a (red|blue) scarf - ar 16:9, wide shot.', cut: false } });
  });

  it('tells a server that answers with no prompt from one that answers nothing', async () => {
    const server = await start({ answer: () => '<think>The user wants' });
    const { assistant } = assistantFor(server.url);
    expect(await assistant.enhance('a fox', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-bad-reply', params: { reason: 'no prompt in the answer' } } });
  });

  it('reports the server’s failures as one typed error each', async () => {
    const server = await start({ mode: { kind: 'error', status: 503, message: 'Loading model' } });
    const { assistant } = assistantFor(server.url, { enhanceTimeoutMs: 300 });
    expect(await assistant.enhance('a fox', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-http-error', params: { status: 503, reason: 'Loading model' } } });
    server.mode = { kind: 'slow', ms: 20_000 };
    expect(await assistant.enhance('a fox', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-timeout', params: { seconds: 0.3 } } });
    server.mode = { kind: 'malformed' };
    expect(await assistant.enhance('a fox', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-bad-reply' } });
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const down = assistantFor(`http://127.0.0.1:${port}/v1`).assistant;
    expect(await down.enhance('a fox', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-unreachable', params: { reason: 'ECONNREFUSED' } } });
  });

  it('never logs the key or puts it in an error, even when the server repeats it', async () => {
    const server = await start({ apiKey: KEY, mode: { kind: 'error', status: 401, message: `Incorrect API key provided: ${KEY}` } });
    const { assistant, logs } = assistantFor(server.url);
    const result = await assistant.enhance('a fox', 'en', ANN);
    expect(result).toMatchObject({ ok: false, error: { code: 'assistant-http-error', params: { status: 401 } } });
    server.mode = { kind: 'normal' };
    expect((await assistant.enhance('a fox', 'en', ANN)).ok).toBe(true);
    expect(server.requests.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    expect(logs()).toContain('prompt assistant failed');
    expect(logs()).toContain('prompt assistant answered');
    expect(logs()).toContain('[redacted]');
    expect(logs() + JSON.stringify(result)).not.toContain(KEY);
  });
});

describe('Assistant.describe', () => {
  it('sends the image checked and re-encoded as an edit input, shrunk to imageMaxSide, to the vision model, and returns four prompts', async () => {
    const server = await start();
    const { assistant } = assistantFor(server.url, { imageMaxSide: 100, vision: { model: 'qwen2.5vl:3b' } });
    const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#d22' } }).jpeg().toBuffer();
    const result = await assistant.describe(jpeg, 'zh-CN', ANN);
    expect(result.ok && result.value.withheld).toBe(0);
    const prompts = result.ok ? result.value.prompts : [];
    expect(prompts).toHaveLength(4);
    expect(prompts[0]).toBe('A 100×67 picture filled with a flat red colour, seen straight on in even light.');
    const request = server.requests[0]!;
    expect(request.model).toBe('qwen2.5vl:3b');
    expect(request.images[0]!.mime).toBe('image/png');
    expect(await sharp(request.images[0]!.bytes).metadata()).toMatchObject({ format: 'png', width: 100, height: 67 });
    expect(request.system).toMatch(/JSON array/);
    expect(request.system).toMatch(/in Simplified Chinese/);
  });

  it('sends a vision server of its own its own key, and never the main one', async () => {
    const text = await start();
    const vision = await FakeOpenAI.start();
    try {
      const own = { url: vision.url, model: 'qwen2.5vl:3b', apiKeyEnv: null };
      const { assistant: keyless } = assistantFor(text.url, { vision: own });
      expect((await keyless.enhance('a fox', 'en', ANN)).ok).toBe(true);
      expect((await keyless.describe(await png(8, 8), 'en', ANN)).ok).toBe(true);
      expect(text.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(vision.requests[0]!.headers.authorization).toBeUndefined();
      const { assistant: keyed } = assistantFor(text.url, { vision: { ...own, apiKeyEnv: 'VISION_KEY' } }, { env: { ASSISTANT_API_KEY: KEY, VISION_KEY: 'vk-local-4b1d9e' } });
      expect((await keyed.describe(await png(8, 8), 'en', ANN)).ok).toBe(true);
      expect(vision.requests[1]!.headers.authorization).toBe('Bearer vk-local-4b1d9e');
    } finally {
      await vision.close();
    }
  });

  it('sends a small image at its own size', async () => {
    const server = await start();
    const { assistant } = assistantFor(server.url);
    await assistant.describe(await png(40, 30), 'en', ANN);
    expect(await sharp(server.requests[0]!.images[0]!.bytes).metadata()).toMatchObject({ width: 40, height: 30 });
  });

  it('leaves out a suggestion the prompt filter refuses, and refuses when it refuses them all', async () => {
    const server = await start({ answer: () => '1. A red fox in snow.\n2. A nude figure by a lake.\n3. A fox at dusk.' });
    const { assistant } = assistantFor(server.url);
    expect(await assistant.describe(await png(8, 8), 'en', ANN)).toEqual({ ok: true, value: { prompts: ['A red fox in snow.', 'A fox at dusk.'], withheld: 1 } });
    server.answer = () => JSON.stringify(['A nude figure.', 'Porn.']);
    expect(await assistant.describe(await png(8, 8), 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-output-blocked', params: { category: 'sexual' } } });
  });

  it('keeps at most four distinct suggestions', async () => {
    const server = await start({ answer: () => JSON.stringify(['A fox.', 'a fox.', 'B.', 'C.', 'D.', 'E.']) });
    const { assistant } = assistantFor(server.url);
    expect(await assistant.describe(await png(8, 8), 'en', ANN)).toEqual({ ok: true, value: { prompts: ['A fox.', 'B.', 'C.', 'D.'], withheld: 0 } });
  });

  it('says so when the model takes no images', async () => {
    const server = await start({ noVision: 'llama.cpp' });
    const { assistant } = assistantFor(server.url);
    expect(await assistant.describe(await png(8, 8), 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-no-vision', params: { model: 'qwen2.5:3b' } } });
  });

  it('refuses an unreadable, oversized or refused image before anything is sent', async () => {
    const server = await start();
    const refuse: InputCheck = async () => engineError('input-blocked', 'refused by the classifier');
    const { assistant } = assistantFor(server.url, {}, { limits: { maxInputBytes: 2000 }, inputCheck: refuse });
    expect(await assistant.describe(Buffer.from('not an image'), 'en', ANN)).toMatchObject({ ok: false, error: { code: 'bad-image' } });
    const noisy = await sharp(randomBytes(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    expect(await assistant.describe(noisy, 'en', ANN)).toMatchObject({ ok: false, error: { code: 'image-too-large' } });
    expect(await assistant.describe(await png(8, 8), 'en', ANN)).toMatchObject({ ok: false, error: { code: 'input-blocked' } });
    expect(server.requests).toHaveLength(0);
  });
});

describe('Assistant limits', () => {
  it('lets one request per user run, refuses a second, and lets others through up to maxConcurrent', async () => {
    const server = await start();
    server.hold();
    const { assistant } = assistantFor(server.url, { maxConcurrent: 2, perUser: 1 });
    const first = assistant.enhance('a fox', 'en', ANN);
    await server.whenInFlight(1);
    expect(await assistant.enhance('a cat', 'en', ANN)).toMatchObject({ ok: false, error: { code: 'assistant-busy', params: { scope: 'user', max: 1 } } });
    const bob = assistant.enhance('a cat', 'en', BOB);
    await server.whenInFlight(2);
    server.release();
    expect((await first).ok && (await bob).ok).toBe(true);
    expect(server.maxInFlight).toBe(2);
  });

  it('refuses past maxWaiting, and times a waiting request out with its own deadline', async () => {
    const server = await start();
    server.hold();
    const { assistant } = assistantFor(server.url, { maxConcurrent: 1, maxWaiting: 1, perUser: 1, enhanceTimeoutMs: 400, describeTimeoutMs: 60_000 });
    // A describe holds the only slot well past the enhance deadline.
    const running = assistant.describe(await png(8, 8), 'en', ANN);
    await server.whenInFlight(1);
    const waiting = assistant.enhance('a cat', 'en', BOB);
    expect(await assistant.enhance('an owl', 'en', { platform: 'slack', userId: 'cy' })).toMatchObject({ ok: false, error: { code: 'assistant-busy', params: { scope: 'all', max: 1 } } });
    expect(await waiting).toMatchObject({ ok: false, error: { code: 'assistant-timeout', params: { seconds: 0.4 } } });
    server.release();
    expect((await running).ok).toBe(true);
    // The request that timed out waiting was never sent.
    expect(server.requests.map((r) => r.images.length)).toEqual([1]);
  });

  it('runs through the gate when the model shares the GPU, and will not start without one', async () => {
    const server = await start();
    expect(() => assistantFor(server.url, { sharesGpu: true })).toThrow(AssistantSetupError);
    const seen: string[] = [];
    const gate: AssistantGate = async (call, run) => {
      seen.push(`${call.task}:${call.user.userId}:${call.signal.aborted}`);
      return run();
    };
    const { assistant } = assistantFor(server.url, { sharesGpu: true }, { gate });
    expect(assistant.sharesGpu).toBe(true);
    expect((await assistant.enhance('a fox', 'en', ANN)).ok).toBe(true);
    expect((await assistant.describe(await png(8, 8), 'en', BOB)).ok).toBe(true);
    expect(seen).toEqual(['enhance:ann:false', 'describe:bob:false']);
  });

  it('answers with the refusal a gate gives (the engine shutting down), and sends nothing', async () => {
    const server = await start();
    const refusal = { code: 'shutting-down' as const, message: 'The engine is shutting down' };
    const gate: AssistantGate = async () => {
      throw Object.assign(new Error(refusal.message), { error: refusal });
    };
    const { assistant } = assistantFor(server.url, { sharesGpu: true }, { gate });
    expect(await assistant.enhance('a fox', 'en', ANN)).toEqual({ ok: false, error: refusal });
    expect(await assistant.describe(await png(8, 8), 'en', BOB)).toEqual({ ok: false, error: refusal });
    expect(server.requests).toHaveLength(0);
  });
});

describe('Assistant.close', () => {
  const restarting = { ok: false, error: { code: 'shutting-down' } };

  it('ends every call at once, sent or waiting for a slot, as shutting-down, and refuses later ones without sending them', async () => {
    const server = await start();
    server.hold();
    // Deadlines no test outlives: only close() can end these calls.
    const { assistant, logs } = assistantFor(server.url, { maxConcurrent: 1, maxWaiting: 1, perUser: 1, enhanceTimeoutMs: 600_000, describeTimeoutMs: 600_000 });
    const sent = assistant.describe(await png(8, 8), 'en', ANN);
    await server.whenInFlight(1);
    const waiting = assistant.enhance('a cat', 'en', BOB);
    expect(assistant.closed).toBe(false);
    await assistant.close();
    expect(assistant.closed).toBe(true);
    expect(await sent).toMatchObject(restarting);
    expect(await waiting).toMatchObject(restarting);
    expect(await assistant.enhance('an owl', 'en', ANN)).toMatchObject(restarting);
    expect(await assistant.describe(await png(8, 8), 'en', BOB)).toMatchObject(restarting);
    expect(server.requests).toHaveLength(1);
    // A shutdown is no server failure: nothing is logged as one.
    expect(logs()).toContain('"code":"shutting-down"');
    expect(logs()).not.toMatch(/"level":(40|50)/);
    await assistant.close();
  });

  it('ends a call waiting for the GPU at the gate', async () => {
    const server = await start();
    let waited = (): void => undefined;
    const atGate = new Promise<void>((resolve) => (waited = resolve));
    const gate: AssistantGate = (call) =>
      new Promise((_, reject) => {
        call.signal.addEventListener('abort', () => reject(call.signal.reason));
        waited();
      });
    const { assistant } = assistantFor(server.url, { sharesGpu: true, enhanceTimeoutMs: 600_000 }, { gate });
    const queued = assistant.enhance('a fox', 'en', ANN);
    await atGate;
    await assistant.close();
    expect(await queued).toMatchObject(restarting);
    expect(server.requests).toHaveLength(0);
  });
});
