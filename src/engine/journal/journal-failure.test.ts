import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { owner, startFakeEngine, testConfig } from '../../../test/support/fakes.ts';
import type { Engine } from '../engine.ts';
import type { JobHandle } from '../job-handle.ts';

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.shutdown()));
});

const started = (handle: JobHandle): Promise<void> => new Promise((resolve) => handle.subscribe((e) => e.type === 'started' && resolve()));

async function until<T>(probe: () => T | undefined | false, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a journal that cannot be written', () => {
  it('strands no job while another connection holds the write lock, refuses new jobs at once, and catches up after', async () => {
    const config = testConfig({ queue: { maxRunningPerUser: 1, updateIntervalMs: 0 } });
    // 16 steps of 100 ms: the first job is still running when the lock is taken, however loaded the machine.
    const engine = await startFakeEngine({ config, stepMs: 100 });
    engines.push(engine);
    const submit = async (user: string, prompt: string): Promise<JobHandle> => {
      const result = await engine.submit({ role: 'draft', owner: owner(user), prompt, count: 1, steps: 16 });
      if (!result.ok) throw new Error(result.error.message);
      return result.value;
    };
    const running = await submit('a', 'running when locked');
    const waiting = await submit('b', 'queued when locked');
    const cancelled = await submit('c', 'cancelled while locked');
    await started(running);

    const other = new Database(join(config.dataDir, 'zimage.db'));
    other.exec('BEGIN EXCLUSIVE');
    try {
      // Cancel still knows the job; the running ones finish and are delivered.
      expect(cancelled.cancel()).toBe(true);
      expect((await running.settled).type).toBe('done');
      expect((await waiting.settled).type).toBe('done');
      expect((await cancelled.settled).type).toBe('cancelled');
      // A new job is refused plainly, and fast: no seconds-long busy wait on the event loop.
      const before = Date.now();
      const refused = await engine.submit({ role: 'draft', owner: owner('d'), prompt: 'while locked', count: 1 });
      expect(Date.now() - before).toBeLessThan(2500);
      expect(refused.ok ? 'accepted' : refused.error.code).toBe('journal-unavailable');
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    // Unlocked: every state change that waited is written, in order, and new jobs are taken again.
    await until(() => [running, waiting].every((h) => engine.history.get(h.id)?.status === 'done') && engine.history.get(cancelled.id)?.status === 'cancelled', 'the journal to catch up');
    expect(engine.history.get(waiting.id)!.startedAt).not.toBeNull();
    const again = await engine.submit({ role: 'draft', owner: owner('d'), prompt: 'after the lock', count: 1 });
    if (!again.ok) throw new Error(again.error.message);
    expect((await again.value.settled).type).toBe('done');
  });

  it('keeps DATA_DIR and the database files private to their owner', async () => {
    const config = testConfig();
    const engine = await startFakeEngine({ config });
    engines.push(engine);
    const job = await engine.submit({ role: 'draft', owner: owner('a'), prompt: 'private', count: 1 });
    if (!job.ok) throw new Error(job.error.message);
    await job.value.settled;
    const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);
    expect(mode(config.dataDir)).toBe('700');
    for (const file of ['zimage.db', 'zimage.db-wal', 'zimage.db-shm']) expect(mode(join(config.dataDir, file)), file).toBe('600');
    expect(mode(join(config.dataDir, 'outputs', job.value.id))).toBe('700');
    expect(mode(join(config.dataDir, 'outputs', job.value.id, '0.png'))).toBe('600');
  });
});
