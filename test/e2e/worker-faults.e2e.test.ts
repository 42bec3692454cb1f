import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import type { JobHandle, TerminalEvent } from '../../src/engine/job-handle.ts';
import { NsfwClassifier } from '../../src/moderation/nsfw-classifier.ts';
import { owner, startFakeEngine, testConfig } from '../support/fakes.ts';

/**
 * Faults under load: the inference worker thread dies while one job runs and others wait, and the classifier thread
 * dies again and again with images in flight. Every job must end delivered, failed with the reason or withheld as
 * unchecked — none stays waiting or running — and the process keeps serving afterwards.
 */
let engine: Engine | undefined;
let classifier: NsfwClassifier | undefined;

afterAll(async () => {
  await engine?.shutdown();
  await classifier?.close();
});

describe('worker and classifier faults under load', () => {
  it('ends every job delivered, failed or withheld while both threads die mid-work, and keeps serving', async () => {
    const config = testConfig({ queue: { maxWaitingPerUser: 20, updateIntervalMs: 0 } });
    classifier = await NsfwClassifier.start({ ...config.moderation, timeoutMs: 60_000 }, () => undefined, {
      runner: new URL('../support/crashing-nsfw-runner.ts', import.meta.url),
    });
    engine = await startFakeEngine({ config, moderator: classifier, stepMs: 20 });
    const e = engine;
    const submit = async (user: string, prompt: string): Promise<JobHandle> => {
      const result = await e.submit({ role: 'draft', owner: owner(user), prompt, count: 2, steps: 8 });
      if (!result.ok) throw new Error(result.error.message);
      return result.value;
    };
    const jobs: { handle: JobHandle; crashes: boolean }[] = [];
    for (let i = 0; i < 16; i++) {
      // Two of them take the inference worker down with them, one early, one late.
      const crashes = i === 3 || i === 11;
      jobs.push({ handle: await submit(`user${i % 4}`, crashes ? `job ${i} [crash]` : `job ${i}`), crashes });
    }
    const ends = await Promise.all(jobs.map((job) => job.handle.settled));
    ends.forEach((end: TerminalEvent, i) => {
      if (jobs[i]!.crashes) {
        expect(end, `job ${i}`).toMatchObject({ type: 'failed', error: { code: 'worker-crashed' } });
        return;
      }
      expect(['done', 'blocked'], `job ${i}`).toContain(end.type);
      if (end.type === 'done' || end.type === 'blocked') {
        for (const image of end.result.images) {
          // Either judged and delivered, or withheld as unchecked because its classifier thread died: never shown unjudged.
          if (image.withheld) expect(image.verdict).toMatchObject({ flagged: true, reason: 'unavailable' });
          else expect(image.verdict.flagged).toBe(false);
        }
      }
    });
    // Some images were lost to the dying classifier threads, and most were delivered.
    const images = ends.flatMap((end) => (end.type === 'done' || end.type === 'blocked' ? end.result.images : []));
    expect(images.some((i) => i.withheld)).toBe(true);
    expect(images.filter((i) => !i.withheld).length).toBeGreaterThan(images.length / 2);
    // Nothing is left waiting or running in the journal, and both threads were replaced.
    expect(e.history.recent({ limit: 50 }).filter((r) => r.status === 'waiting' || r.status === 'running')).toEqual([]);
    expect(e.stats().workers[0]!.restarts).toBe(2);
    expect(classifier.info.restarts).toBeGreaterThan(0);
    // Still serving.
    const after = await submit('late', 'after the faults');
    expect((await after.settled).type).toMatch(/^(done|blocked)$/);
  }, 180_000);
});
