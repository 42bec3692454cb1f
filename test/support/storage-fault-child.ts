// The engine on a disk that fills up under it, or on a journal it can only open read-only, for
// test/e2e/storage-faults.e2e.test.ts. For `full` it runs in a mount namespace of its own whose DATA_DIR is a small
// tmpfs (the test starts it through `unshare`), so it can fill that disk for real; `readonly` runs as an ordinary
// user, to whom a 0444 file really is read-only. It prints one JSON line with what happened to each job.
import { chmodSync, closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { EngineErrorCode } from '../../src/engine/errors.ts';
import type { Engine } from '../../src/engine/engine.ts';
import type { JobHandle } from '../../src/engine/job-handle.ts';
import { errorText } from '../../src/bots/core/texts.ts';
import { owner, startFakeEngine, testConfig } from './fakes.ts';

const [dataDir, scenario] = process.argv.slice(2) as [string, 'full' | 'readonly'];
const config = testConfig({ dataDir, queue: { updateIntervalMs: 0, maxRunningPerUser: 1 } });
const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#468' } }).png().toBuffer();

type Settled = { type: string; delivered: number; stored: number };

const submitTo = async (engine: Engine, user: string, prompt: string, upload = false): Promise<JobHandle | string> => {
  const result = await engine.submit(
    upload ? { role: 'refine', owner: owner(user), prompt, image: { bytes: png } } : { role: 'draft', owner: owner(user), prompt, count: 2, steps: 16 },
  );
  return result.ok ? result.value : result.error.code;
};
const handle = (job: JobHandle | string): JobHandle => {
  if (typeof job === 'string') throw new Error(`refused: ${job}`);
  return job;
};
const settle = async (job: JobHandle): Promise<Settled> => {
  const end = await job.settled;
  const images = end.type === 'done' || end.type === 'blocked' ? end.result.images : [];
  return { type: end.type, delivered: images.filter((i) => i.png !== null).length, stored: images.filter((i) => i.path !== null).length };
};
const until = async (probe: () => boolean, what: string): Promise<void> => {
  for (const end = Date.now() + 60_000; !probe(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
};
const textOf = (refused: JobHandle | string): string => (typeof refused === 'string' ? errorText('en', { code: refused as EngineErrorCode, message: '' }) : '');
const report = (outcome: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(outcome)}\n`);

if (scenario === 'full') {
  const engine = await startFakeEngine({ config, stepMs: 60 });
  const before = await settle(handle(await submitTo(engine, 'a', 'before the fault')));
  const during = handle(await submitTo(engine, 'b', 'running through the fault'));
  await new Promise<void>((resolve) => during.subscribe((e) => e.type === 'started' && resolve()));
  // Fill the disk to the last byte while the job runs.
  const ballast = join(dataDir, 'ballast');
  const fd = openSync(ballast, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full.
  }
  closeSync(fd);
  const through = await settle(during);
  const refused = await submitTo(engine, 'c', 'a new job on a full disk', true);
  rmSync(ballast);
  await until(() => engine.history.get(during.id)?.status === 'done', 'the journal to catch up');
  let after: JobHandle | string = '';
  for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    after = await submitTo(engine, 'd', 'after the fault');
    if (typeof after !== 'string') break;
  }
  const afterResult = await settle(handle(after));
  const stranded = engine.history.recent({ limit: 50 }).filter((r) => r.status === 'waiting' || r.status === 'running').length;
  await engine.shutdown();
  report({ before, through, refused, refusedText: textOf(refused), after: afterResult, stranded });
} else {
  // A journal that can only be opened read-only (restored from a backup as 0444, say): the bot starts, reads its
  // history, and refuses new jobs plainly instead of failing them half-way.
  const first = await startFakeEngine({ config, stepMs: 10 });
  const before = handle(await submitTo(first, 'a', 'before the fault'));
  const beforeResult = await settle(before);
  await first.shutdown();
  chmodSync(join(dataDir, 'zimage.db'), 0o444);
  const second = await startFakeEngine({ config, stepMs: 10 });
  const history = second.history.get(before.id)?.status;
  const refused = await submitTo(second, 'c', 'a new job on a read-only journal');
  const stranded = second.history.recent({ limit: 50 }).filter((r) => r.status === 'waiting' || r.status === 'running').length;
  await second.shutdown();
  report({ before: beforeResult, history, refused, refusedText: textOf(refused), stranded });
}
