import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Worker as NodeWorker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { moderationSchema, type NsfwModelName } from './config.ts';
import { ModerationSetupError } from './errors.ts';
import { NsfwClassifier } from './nsfw-classifier.ts';
import type { ModerationLog } from './nsfw-thread.ts';
import type { RgbImage } from './verdict.ts';

const SLOW_RUNNER = new URL('../../test/support/slow-nsfw-runner.ts', import.meta.url);
const CLASSIFIER_CHILD = fileURLToPath(new URL('../../test/support/classifier-child.ts', import.meta.url));

/**
 * Every classifier thread this file starts, and a switch that kills one as an image is sent to it: the thread dies
 * with the image in flight, as in a crash. (Killed before the image reaches it: worker.terminate() in the middle of
 * onnxruntime's native run aborts the whole process, which is why the classifier itself never terminates a thread.)
 */
const threads = vi.hoisted(() => ({ started: [] as NodeWorker[], killAfterNextImage: false }));

vi.mock('node:worker_threads', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:worker_threads')>();
  class TrackedWorker extends actual.Worker {
    constructor(...args: ConstructorParameters<typeof actual.Worker>) {
      super(...args);
      threads.started.push(this);
    }
    override postMessage(...args: Parameters<NodeWorker['postMessage']>): void {
      if (threads.killAfterNextImage && (args[0] as { type?: string }).type === 'classify') {
        threads.killAfterNextImage = false;
        void this.terminate();
      }
      super.postMessage(...args);
    }
  }
  return { ...actual, Worker: TrackedWorker };
});

function image(width: number, height: number, pixel: (x: number, y: number) => readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  return { width, height, data };
}

const flat = (rgb: readonly [number, number, number]): RgbImage => image(256, 256, () => rgb);
const shapes = image(256, 256, (x, y) => {
  if ((x - 80) ** 2 + (y - 80) ** 2 < 40 ** 2) return [200, 40, 40];
  if (x > 140 && x < 220 && y > 140 && y < 220) return [40, 40, 200];
  if (Math.abs(x - y) < 4) return [20, 20, 20];
  return [245, 245, 235];
});

const logs: Parameters<ModerationLog>[] = [];
const log: ModerationLog = (...entry) => void logs.push(entry);
// A generous timeout: the machine is shared, and only the timeout test is about time.
const config = moderationSchema.parse({ timeoutMs: 30_000 });
let classifier: NsfwClassifier;
let impatient: NsfwClassifier;

beforeAll(async () => {
  [classifier, impatient] = await Promise.all([
    NsfwClassifier.start(config, log),
    NsfwClassifier.start({ ...config, timeoutMs: 1 }, log),
  ]);
});

afterAll(async () => {
  await Promise.all([classifier?.close(), impatient?.close()]);
});

describe('NsfwClassifier (real nsfwjs MobileNetV2 as ONNX on onnxruntime)', () => {
  it('runs the ONNX graph in a worker thread on onnxruntime', () => {
    expect(classifier.info).toMatchObject({ model: 'MobileNetV2', backend: 'onnxruntime-cpu', inputSize: 224, execution: 'onnx', restarts: 0 });
    expect(classifier.info.loadMs).toBeGreaterThan(0);
    expect(logs).toContainEqual(['info', 'nsfw classifier ready', expect.objectContaining({ execution: 'onnx' })]);
  });

  it('passes flat colours, gradients and a shapes image, with probabilities', async () => {
    const images: Record<string, RgbImage> = {
      white: flat([255, 255, 255]),
      black: flat([0, 0, 0]),
      grey: flat([128, 128, 128]),
      red: flat([220, 30, 30]),
      skinTone: flat([224, 172, 140]),
      horizontalGradient: image(512, 256, (x) => [x / 2, x / 2, 255 - x / 2]),
      verticalGradient: image(224, 224, (_, y) => [y, 128, 255 - y]),
      shapes,
      large: image(1024, 1024, (x, y) => [x & 255, y & 255, (x ^ y) & 255]),
    };
    // Judged concurrently, as the engine does with a job's candidates; the classifier queues them.
    const verdicts = await Promise.all(Object.values(images).map((img) => classifier.judge(img)));
    for (const [i, name] of Object.keys(images).entries()) {
      const verdict = verdicts[i]!;
      expect([name, verdict.flagged]).toEqual([name, false]);
      if (verdict.flagged) continue;
      const total = Object.values(verdict.scores).reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(1, 3);
    }
  });

  it('fails closed on a timeout', async () => {
    const verdict = await impatient.judge(shapes);
    expect(verdict).toMatchObject({ flagged: true, reason: 'unavailable', rule: expect.stringMatching(/^timeout/) });
  });

  it('retires a thread that overruns the timeout inside onnxruntime, lets it finish and exit, and takes a new one', async () => {
    const slowLogs: Parameters<ModerationLog>[] = [];
    const before = threads.started.length;
    const slow = await NsfwClassifier.start({ ...config, timeoutMs: 500 }, (...entry) => void slowLogs.push(entry), { runner: SLOW_RUNNER });
    try {
      const hung = threads.started[before]!;
      const exited = new Promise<number>((resolve) => hung.once('exit', resolve));
      expect(await slow.judge(shapes)).toMatchObject({ flagged: true, reason: 'unavailable' });
      const readies = (): number => slowLogs.filter(([, message]) => message === 'nsfw classifier ready').length;
      await vi.waitFor(() => expect(readies()).toBe(2), { timeout: 60_000, interval: 50 });
      expect(slowLogs).toContainEqual(['warn', 'nsfw classifier thread hung on one image; replacing it', { timeoutMs: 500 }]);
      expect(slow.info.restarts).toBe(1);
      // It was asked to exit, not terminated: it does once its runs are over (the process is still here to see it).
      expect(await exited).toBe(0);
    } finally {
      await slow.close();
    }
  }, 120_000);

  it('fails closed when its thread dies mid-image, and judges the next image on a new thread', async () => {
    const before = threads.started.length;
    threads.killAfterNextImage = true;
    const lost = await classifier.judge(shapes);
    expect(lost).toMatchObject({ flagged: true, reason: 'unavailable', rule: expect.stringMatching(/thread stopped/) });
    const next = await classifier.judge(shapes);
    expect(next.flagged).toBe(false);
    expect(threads.started.length).toBe(before + 1);
    expect(classifier.info.restarts).toBe(1);
  });

  it('fails closed on a malformed image instead of throwing', async () => {
    const verdict = await classifier.judge({ width: 10, height: 10, data: new Uint8Array(5) });
    expect(verdict).toMatchObject({ flagged: true, reason: 'unavailable', rule: expect.stringContaining('300 bytes') });
  });

  it('refuses to start, with a setup error, when the thread cannot load its model', async () => {
    const failed = NsfwClassifier.start({ ...config, model: 'NoSuchModel' as NsfwModelName }, log);
    await expect(failed).rejects.toThrow(ModerationSetupError);
    await expect(failed).rejects.toThrow(/could not start/);
  });

  it('lets a process that closes it end by itself, exit code 0, once the thread has exited', async () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', CLASSIFIER_CHILD], { encoding: 'utf8', timeout: 120_000 });
    expect({ status: child.status, stdout: child.stdout }).toEqual({ status: 0, stdout: 'verdict passed\nclosed\n' });
  }, 150_000);

  // Last: it closes the shared classifier.
  it('withholds what is still waiting when closed, and everything after', async () => {
    const pending = classifier.judge(shapes);
    await classifier.close();
    expect(await pending).toMatchObject({ flagged: true, reason: 'unavailable', rule: 'classifier closed' });
    expect(await classifier.judge(shapes)).toMatchObject({ flagged: true, reason: 'unavailable', rule: 'classifier closed' });
  });
});
