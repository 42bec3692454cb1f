import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { owner, startFakeEngine, testConfig } from '../../test/support/fakes.ts';
import { createPromptFilter } from '../moderation/prompt-filter.ts';
import type { Engine } from './engine.ts';

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.shutdown()));
});

describe('admission', () => {
  it('filters every prompt the prompt matrix expands to, full-width braces included, before anything is queued', async () => {
    const config = testConfig();
    const engine = await startFakeEngine({ config, promptCheck: createPromptFilter(config.moderation) });
    engines.push(engine);
    for (const prompt of ['a {nu|xx}de woman', 'a ｛nu｜xx｝de woman', 'a {red|nude} {cat|dog}']) {
      const result = await engine.submit({ role: 'draft', owner: owner('a'), prompt });
      expect(result.ok ? 'accepted' : result.error.code, prompt).toBe('prompt-blocked');
    }
    expect(engine.history.recent({ limit: 10 })).toEqual([]);
    // A harmless matrix still runs.
    const fine = await engine.submit({ role: 'draft', owner: owner('a'), prompt: 'a {red|blue} cat' });
    expect(fine.ok).toBe(true);
  });

  it('holds the waiting caps when many requests of one user arrive at once (no check-then-insert window)', async () => {
    const config = testConfig({ queue: { maxWaitingPerUser: 2, maxRunningPerUser: 1, updateIntervalMs: 0 } });
    // Long enough steps that the first job is still running while the others arrive, however loaded the machine.
    const engine = await startFakeEngine({ config, stepMs: 200 });
    engines.push(engine);
    const running = await engine.submit({ role: 'draft', owner: owner('a'), prompt: 'first', count: 1, steps: 16 });
    if (!running.ok) throw new Error(running.error.message);
    await new Promise<void>((resolve) => running.value.subscribe((e) => e.type === 'started' && resolve()));
    // Uploads make each submit wait on a file write between its checks and its insert.
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#468' } }).png().toBuffer();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => engine.submit({ role: 'refine', owner: owner('a'), prompt: `refine ${i}`, image: { bytes: png } })),
    );
    const accepted = results.filter((r) => r.ok);
    expect(accepted).toHaveLength(2);
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error.code))).toEqual(['user-queue-full', 'user-queue-full', 'user-queue-full', 'user-queue-full']);
    expect(engine.stats().waiting).toBe(2);
    running.value.cancel();
  });
});
