import { afterAll, describe, expect, it } from 'vitest';
import type { DeliveryEnvelope } from '../../../src/bots/core/core.ts';
import { startStudio, type StudioAdapter, type StudioDelivery } from '../../../src/bots/studio/index.ts';
import { FakeComfyUI } from '../../support/fake-comfyui.ts';
import { startComfyRuntime, START_TIMEOUT_MS, TEST_TIMEOUT_MS, waitUntil, type ComfyRuntime } from './comfy-runtime.ts';

/**
 * A crash with jobs on a ComfyUI server: one running there (its prompt accepted, the GPU busy), one waiting in the
 * bot's queue. The next start re-queues both from the journal, its adapter re-attaches them, and they run on the
 * server and are delivered; the journal says which server ran them.
 */
const open: { comfy: ComfyRuntime; studio: StudioAdapter }[] = [];
let server: FakeComfyUI | undefined;

afterAll(async () => {
  for (const { comfy, studio } of open.reverse()) {
    await studio.stop();
    await comfy.close();
  }
  await server?.close();
}, START_TIMEOUT_MS);

async function start(dataDir?: string): Promise<{ comfy: ComfyRuntime; studio: StudioAdapter }> {
  const comfy = await startComfyRuntime({ reuse: [server!], config: { studio: { port: 0 } }, ...(dataDir ? { dataDir } : {}) });
  const studio = await startStudio(comfy.runtime);
  const pair = { comfy, studio };
  open.push(pair);
  return pair;
}

describe('a restart with jobs for a ComfyUI server', () => {
  it('re-queues the running and the waiting job from the journal and delivers both from the server', async () => {
    server = await FakeComfyUI.start({ stepMs: 2 });
    server.pause();
    const first = await start();
    const dataDir = first.comfy.runtime.config.dataDir;
    const delivery: DeliveryEnvelope = { locale: 'en', place: { platform: 'studio', channelId: 'studio', channelIsNsfw: false }, data: { studio: 1 } satisfies StudioDelivery };
    const submit = async (prompt: string): Promise<string> => {
      const handle = await first.comfy.runtime.engine.submit(
        { role: 'draft', owner: { platform: 'studio', userId: `u-${prompt}`, name: 'Ada' }, prompt, count: 1, seed: 3 },
        { scope: { platform: 'studio', workspace: null, channel: 'studio' }, delivery, policy: 'block' },
      );
      if (!handle.ok) throw new Error(handle.error.message);
      return handle.value.id;
    };
    const running = await submit('a lighthouse in fog');
    const waiting = await submit('a harbour at night');
    await waitUntil(() => first.comfy.runtime.core.history.get(running)?.status === 'running', 'the first job running on the server');
    expect(first.comfy.runtime.core.history.get(running)!.backend).toBe('gpu1');
    expect(first.comfy.runtime.core.history.get(waiting)!.status).toBe('waiting');

    // The crash: nothing is finished or written any more.
    await first.comfy.runtime.engine.kill();
    await first.comfy.runtime.classifier.close();
    await first.studio.stop();
    open.pop();
    server.resume();

    const second = await start(dataDir);
    const { resumed, failed } = second.comfy.runtime.engine.recover((record) => second.studio.resume(record));
    expect(resumed.map((h) => h.id).sort()).toEqual([running, waiting].sort());
    expect(failed).toEqual([]);
    const results = await Promise.all(resumed.map((h) => h.settled));
    expect(results.map((r) => r.type)).toEqual(['done', 'done']);
    for (const id of [running, waiting]) {
      const record = second.comfy.runtime.core.history.get(id)!;
      expect(record).toMatchObject({ status: 'done', backend: 'gpu1', spec: { modelName: 'Z-Image-Turbo' } });
      expect(record.result!.images[0]!.path).not.toBeNull();
    }
  }, TEST_TIMEOUT_MS);
});
