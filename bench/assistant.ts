// npm run bench:assistant — the prompt assistant's own time per call on loopback, against a fake OpenAI-compatible
// server in a process of its own that answers at once. Each call through the assistant is paired with a bare fetch
// of the same request body, so the difference is what the assistant adds: the checks and the prompt filter on the way
// in, building the messages, the limiter, reading and cleaning the answer, the filter on the way out (and for
// describe: decoding, normalising, shrinking and base64-encoding the image; the NSFW check is left out, as
// bench:moderation measures it). Prints one JSON object.
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Assistant } from '../src/assistant/assistant.ts';
import { describeMessages, enhanceMessages } from '../src/assistant/prompts.ts';
import { createLogger } from '../src/logging.ts';
import { createPromptFilter } from '../src/moderation/prompt-filter.ts';
import { ROOT, testConfig } from '../test/support/fakes.ts';

const WARMUP = 30;
const ENHANCE_CALLS = 400;
const DESCRIBE_CALLS = 150;

const pct = (xs: readonly number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const round = (x: number): number => Number(x.toFixed(2));
const stats = (xs: readonly number[]): { p50: number; p95: number } => ({ p50: round(pct(xs, 0.5)), p95: round(pct(xs, 0.95)) });

async function startFake(): Promise<{ url: string; stop: () => void }> {
  const child = fork(join(ROOT, 'test/support/fake-openai-child.ts'), ['{}'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url: string }) => resolve(m.url));
    child.once('exit', (code) => reject(new Error(`the fake server exited with ${code}`)));
  });
  return { url, stop: () => child.disconnect() };
}

/** A bare POST of the body and a read of its JSON: the loopback trip and the server's own time. */
async function bare(url: string, body: string): Promise<void> {
  const response = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
  const json = (await response.json()) as { choices?: unknown[] };
  if (!response.ok || !json.choices?.length) throw new Error(`bare call failed: ${response.status}`);
}

async function paired(calls: number, bareCall: () => Promise<void>, assistantCall: () => Promise<{ ok: boolean }>): Promise<Record<string, unknown>> {
  const bareMs: number[] = [];
  const assistantMs: number[] = [];
  const overheadMs: number[] = [];
  for (let i = 0; i < WARMUP + calls; i++) {
    const t0 = performance.now();
    await bareCall();
    const t1 = performance.now();
    const result = await assistantCall();
    const t2 = performance.now();
    if (!result.ok) throw new Error(`an assistant call failed: ${JSON.stringify(result)}`);
    if (i < WARMUP) continue;
    bareMs.push(t1 - t0);
    assistantMs.push(t2 - t1);
    overheadMs.push(t2 - t1 - (t1 - t0));
  }
  return { calls, bareFetchMs: stats(bareMs), assistantMs: stats(assistantMs), addedMs: stats(overheadMs) };
}

const fake = await startFake();
const config = testConfig({ assistant: { url: fake.url, model: 'bench-model', perUser: 4 } } as never);
const assistant = new Assistant({ config, env: {}, promptFilter: createPromptFilter(config.moderation), log: createLogger('silent') });
const user = { platform: 'bench', userId: 'u1' };
const cap = Math.min(config.assistant.maxOutputChars, config.limits.maxPromptChars);
const request = (messages: unknown, maxTokens: number): string => JSON.stringify({ model: 'bench-model', messages, temperature: 0.7, max_tokens: maxTokens, stream: false });

const prompt = 'a red fox in the snow at dawn, a wooden sign reading "NORTH TRAIL"';
const enhance = await paired(ENHANCE_CALLS, () => bare(fake.url, request(enhanceMessages(prompt, 'en', cap), cap)), () => assistant.enhance(prompt, 'en', user));

// A 512² picture with detail (a gradient with noise), as a user's upload would be: PNG in, PNG out.
const side = 512;
const pixels = Buffer.alloc(side * side * 3);
for (let i = 0; i < pixels.length; i++) pixels[i] = ((i % (side * 3)) / 6 + ((i * 2654435761) >>> 27)) & 0xff;
const png = await sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
const describeBody = request(describeMessages(`data:image/png;base64,${png.toString('base64')}`, 'en', cap), Math.min(4096, cap * 4));
const describe = await paired(DESCRIBE_CALLS, () => bare(fake.url, describeBody), () => assistant.describe(png, 'en', user));

fake.stop();
console.log(
  JSON.stringify(
    {
      bench: 'assistant',
      node: process.version,
      cpus: cpus().length,
      server: 'fake OpenAI-compatible server in its own process on 127.0.0.1, answering at once',
      enhance: { prompt, ...enhance },
      describe: { image: `${side}x${side} PNG, ${png.length} bytes`, ...describe },
    },
    null,
    2,
  ),
);
