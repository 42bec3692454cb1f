import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { owner, ROOT, startFakeEngine, tempDir, testConfig } from '../../test/support/fakes.ts';
import type { Engine } from './engine.ts';
import { JobJournal } from './journal/journal.ts';

const CHILD = join(ROOT, 'test/support/engine-child.ts');
const children: ChildProcess[] = [];
const engines: Engine[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(engines.splice(0).map((e) => e.shutdown()));
});

/** Starts the child and resolves once it printed `ready` and the first job started. */
function startChild(dataDir: string, count: number, stepMs: number, platforms = 'test'): Promise<{ child: ChildProcess; ids: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(count), String(stepMs), platforms], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const ids: string[] = [];
  return new Promise((resolve, reject) => {
    let ready = false;
    let started = false;
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('queued ')) ids.push(line.slice(7));
      if (line === 'ready') ready = true;
      if (line.startsWith('started ')) started = true;
      if (ready && started) {
        child.removeAllListeners('exit');
        resolve({ child, ids });
      }
    });
  });
}

describe('restarts', () => {
  it('after SIGKILL with 20 jobs waiting, every job completes or is reported on the next start', async () => {
    const dataDir = tempDir();
    const { child, ids } = await startChild(dataDir, 22, 40, 'test,test,test,test,test,test,test,test,test,test,gone');
    expect(ids).toHaveLength(22);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const engine = await startFakeEngine({ config: testConfig({ dataDir, queue: { maxWaitingPerUser: 100, updateIntervalMs: 0 } }) });
    engines.push(engine);
    const { resumed, failed } = engine.recover((record) =>
      record.owner.platform === 'test' ? { resume: true, attach: () => undefined } : { resume: false, reason: 'the gone adapter is not running' },
    );
    expect(resumed.length + failed.length).toBeGreaterThanOrEqual(20);
    expect(failed.map((r) => r.owner.platform)).toEqual(['gone', 'gone']);
    const outcomes = await Promise.all(resumed.map((h) => h.settled));
    expect(outcomes.every((o) => o.type === 'done')).toBe(true);
    for (const id of ids) {
      const record = engine.history.get(id)!;
      expect(['done', 'failed'], `job ${id}`).toContain(record.status);
      if (record.status === 'failed') expect(record.error).toMatchObject({ code: 'lost-on-restart', params: { reason: 'the gone adapter is not running' } });
    }
  }, 60_000);

  it('on SIGTERM finishes the running job, keeps the waiting ones, and exits cleanly', async () => {
    const dataDir = tempDir();
    const { child, ids } = await startChild(dataDir, 5, 60);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const journal = new JobJournal(join(dataDir, 'zimage.db'));
    const statuses = ids.map((id) => journal.get(id)!.status);
    journal.close();
    expect(statuses.filter((s) => s === 'done').length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 'running')).toEqual([]);
    expect(statuses.filter((s) => s === 'waiting').length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('refuses new jobs while shutting down', async () => {
    const engine = await startFakeEngine({ stepMs: 50 });
    const first = await engine.submit({ role: 'draft', owner: owner('a'), prompt: 'x', count: 1 });
    expect(first.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    const stopping = engine.shutdown();
    const refused = await engine.submit({ role: 'draft', owner: owner('a'), prompt: 'x', count: 1 });
    expect(refused.ok ? 'accepted' : refused.error.code).toBe('shutting-down');
    await stopping;
  });
});
