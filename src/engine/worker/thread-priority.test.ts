import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { lowerThreadPriority } from './thread-priority.ts';

const BOOTSTRAP = new URL('./bootstrap.mjs', import.meta.url);
const CHILD = new URL('../../../test/support/thread-priority-child.ts', import.meta.url);

/** This thread's niceness, from /proc (field 19 of stat; the command name before it may hold spaces). */
const ownNice = (): number => Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ')[16]);

describe('lowerThreadPriority', () => {
  it.runIf(process.platform === 'linux')('lowers the calling thread only, and the threads it starts afterwards inherit it', async () => {
    const mainBefore = ownNice();
    const worker = new Worker(BOOTSTRAP, { workerData: { entry: CHILD.href } });
    const seen = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(seen).toEqual({ took: true, own: 10, inherited: 10 });
    expect(ownNice()).toBe(mainBefore);
  });
});
