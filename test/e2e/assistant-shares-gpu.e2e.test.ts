import { afterEach, describe, expect, it } from 'vitest';
import { AssistantSetupError } from '../../src/assistant/assistant.ts';
import type { Who } from '../../src/bots/core/command.ts';
import type { Config } from '../../src/config/schema.ts';
import type { DeepPartial } from '../../src/config/load.ts';
import { createLogger } from '../../src/logging.ts';
import { startRuntime, type Runtime } from '../../src/runtime.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { tempDir, testConfig } from '../support/fakes.ts';
import { startTestRuntime } from './support/test-runtime.ts';

/**
 * assistant.sharesGpu in the real runtime (oracle fixture model on one local device, nsfwjs, SQLite journal): the
 * prompt assistant's requests wait in the engine's fair queue and hold the device while the model answers. The fake
 * server's hold keeps a request in flight for as long as the test needs.
 */
const START_TIMEOUT_MS = 120_000;
const ANN: Who = { actor: { platform: 'studio', userId: 'ann', locale: 'en' }, place: { platform: 'studio', channelId: 'studio', channelIsNsfw: false } };

let runtime: Runtime | undefined;
let openai: FakeOpenAI | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await openai?.close();
  openai = undefined;
});

describe('the prompt assistant sharing the image GPU', () => {
  it(
    'starts, and an enhance holds the local device while the model answers: a draft waits for it',
    async () => {
      openai = await FakeOpenAI.start();
      runtime = await startTestRuntime({ config: { assistant: { url: openai.url, model: 'qwen2.5:3b', sharesGpu: true } } as DeepPartial<Config> });
      const { engine, core } = runtime;

      openai.hold();
      const enhanced = core.assistant.enhance('a fox in the snow', ANN);
      await openai.whenInFlight(1);
      expect(engine.stats().shared).toEqual({ waiting: 0, running: 1 });

      const events: string[] = [];
      const submitted = await engine.submit({ role: 'draft', owner: { platform: 'studio', userId: 'bob' }, prompt: 'a red square', count: 1 }, { onEvent: (e) => events.push(e.type) });
      if (!submitted.ok) throw new Error(submitted.error.message);
      const job = submitted.value;
      // Queued, and the dispatcher has looked for a free slot (the same turn): none, the enhance holds the device.
      await new Promise<void>((resolve) => job.subscribe((e) => e.type === 'queued' && resolve()));
      await new Promise((resolve) => setImmediate(resolve));
      expect(engine.stats()).toMatchObject({ waiting: 1, running: 0 });
      expect(events).not.toContain('started');

      openai.release();
      expect((await enhanced).ok).toBe(true);
      expect((await job.settled).type).toBe('done');
      expect(engine.stats().shared).toEqual({ waiting: 0, running: 0 });
    },
    START_TIMEOUT_MS,
  );

  it(
    'refuses to start where every device is a ComfyUI server: there is no GPU here to share',
    async () => {
      openai = await FakeOpenAI.start();
      const config = testConfig({
        dataDir: tempDir('zimage-shares-gpu-'),
        devices: [{ name: 'gpu1', provider: 'comfyui', url: 'http://127.0.0.1:9' }],
        assistant: { url: openai.url, model: 'qwen2.5:3b', sharesGpu: true },
      } as DeepPartial<Config>);
      await expect(startRuntime(config, createLogger('silent'))).rejects.toBeInstanceOf(AssistantSetupError);
    },
    START_TIMEOUT_MS,
  );
});
