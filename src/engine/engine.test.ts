import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeModerator, owner, startFakeEngine, testConfig } from '../../test/support/fakes.ts';
import type { Engine } from './engine.ts';
import { readTextChunks } from './image/png-text.ts';
import type { JobEvent, JobHandle } from './job-handle.ts';

const engines: Engine[] = [];
async function start(...args: Parameters<typeof startFakeEngine>): Promise<Engine> {
  const engine = await startFakeEngine(...args);
  engines.push(engine);
  return engine;
}
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.shutdown()));
});

function record(handle: JobHandle): JobEvent[] {
  const events: JobEvent[] = [];
  handle.subscribe((e) => events.push(e));
  return events;
}

async function submitOk(engine: Engine, ...args: Parameters<Engine['submit']>): Promise<JobHandle> {
  const result = await engine.submit(...args);
  if (!result.ok) throw new Error(`refused: ${result.error.code} ${result.error.message}`);
  return result.value;
}

describe('Engine', () => {
  it('runs a job through queued, started, progress and done, with PNGs that carry their parameters', async () => {
    const engine = await start();
    const handle = await submitOk(engine, { role: 'draft', owner: owner('u1'), prompt: 'a fox', seed: 7, count: 2 });
    const events = record(handle);
    const final = await handle.settled;
    expect(final.type).toBe('done');
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('queued');
    expect(types).toContain('started');
    expect(events.filter((e) => e.type === 'progress').map((e) => (e as { step: number }).step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    if (final.type !== 'done') return;
    expect(final.result.images).toHaveLength(2);
    const png = final.result.images[0]!.png!;
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 64]);
    const text = readTextChunks(png);
    expect(JSON.parse(text['zimage-bot']!)).toMatchObject({ prompt: 'a fox', seed: '7', steps: 8, model: 'fake', index: 0 });
    expect(final.result.grid).not.toBeNull();
    expect((await sharp(final.result.grid!).metadata()).width).toBeGreaterThan(64 * 2);
    expect(engine.history.get(handle.id)?.status).toBe('done');
  });

  it('refuses invalid requests before queueing, with typed errors, and journals nothing', async () => {
    const engine = await start();
    const cases = [
      [{ prompt: '   ' }, 'empty-prompt'],
      [{ prompt: 'x', steps: 99 }, 'out-of-range'],
      [{ prompt: 'x', count: 5 }, 'out-of-range'],
      [{ prompt: 'x', width: 70 }, 'bad-size'],
      [{ prompt: 'x', aspectRatio: 'wide' }, 'bad-size'],
      [{ prompt: 'x', style: 'baroque' }, 'unknown-style'],
      [{ prompt: 'x'.repeat(5000) }, 'prompt-too-long'],
    ] as const;
    for (const [fields, code] of cases) {
      const result = await engine.submit({ role: 'draft', owner: owner('u1'), ...fields });
      expect(result.ok ? 'accepted' : result.error.code, JSON.stringify(fields).slice(0, 60)).toBe(code);
    }
    const unknownRole = await engine.submit({ role: 'paint' as 'draft', owner: owner('u1'), prompt: 'x' });
    expect(unknownRole.ok ? 'accepted' : unknownRole.error.code).toBe('unknown-role');
    const refine = await engine.submit({ role: 'refine', owner: owner('u1'), prompt: 'x' });
    expect(refine.ok ? 'accepted' : refine.error.code).toBe('missing-image');
    expect(engine.history.recent({ limit: 10 })).toEqual([]);
  });

  it('enforces per-user and global waiting caps with typed refusals', async () => {
    const config = testConfig({ queue: { maxWaitingPerUser: 2, maxWaitingTotal: 3, updateIntervalMs: 0 } });
    const engine = await start({ config, stepMs: 30 });
    const a1 = await submitOk(engine, { role: 'draft', owner: owner('a'), prompt: 'x', count: 1 });
    await new Promise((r) => a1.subscribe((e) => e.type === 'started' && r(undefined)));
    await submitOk(engine, { role: 'draft', owner: owner('a'), prompt: 'x', count: 1 });
    await submitOk(engine, { role: 'draft', owner: owner('a'), prompt: 'x', count: 1 });
    const third = await engine.submit({ role: 'draft', owner: owner('a'), prompt: 'x', count: 1 });
    expect(third.ok ? 'accepted' : third.error).toMatchObject({ code: 'user-queue-full', params: { max: 2 } });
    await submitOk(engine, { role: 'draft', owner: owner('b'), prompt: 'x', count: 1 });
    const full = await engine.submit({ role: 'draft', owner: owner('c'), prompt: 'x', count: 1 });
    expect(full.ok ? 'accepted' : full.error.code).toBe('queue-full');
  });

  it('serves a newcomer before a flooding user gets more than one more job', async () => {
    const engine = await start({ config: testConfig({ queue: { maxWaitingPerUser: 50, updateIntervalMs: 0 } }), stepMs: 2 });
    const starts: string[] = [];
    const track = (h: JobHandle, who: string): void => void h.subscribe((e) => e.type === 'started' && starts.push(who));
    const flood: JobHandle[] = [];
    for (let i = 0; i < 12; i++) {
      const h = await submitOk(engine, { role: 'draft', owner: owner('flood'), prompt: 'x', count: 1 });
      track(h, 'flood');
      flood.push(h);
    }
    await new Promise((r) => flood[0]!.subscribe((e) => e.type === 'started' && r(undefined)));
    const light: JobHandle[] = [];
    for (let u = 0; u < 3; u++) {
      const h = await submitOk(engine, { role: 'draft', owner: owner(`light${u}`), prompt: 'x', count: 1 });
      track(h, `light${u}`);
      light.push(h);
    }
    await Promise.all([...flood, ...light].map((h) => h.settled));
    const lastLight = Math.max(...['light0', 'light1', 'light2'].map((w) => starts.indexOf(w)));
    const floodBefore = starts.slice(0, lastLight).filter((w) => w === 'flood').length;
    // The flood's first job was already running; at most one more may start before every newcomer has started.
    expect(floodBefore).toBeLessThanOrEqual(2);
  });

  it('cancels a waiting job at once and a running one between steps', async () => {
    const engine = await start({ stepMs: 25 });
    const runningEvents: JobEvent[] = [];
    let atStep2!: () => void;
    const reachedStep2 = new Promise<void>((r) => (atStep2 = r));
    const running = await submitOk(
      engine,
      { role: 'draft', owner: owner('a'), prompt: 'x', count: 1, steps: 16 },
      { onEvent: (e) => (runningEvents.push(e), e.type === 'progress' && e.step === 2 && atStep2()) },
    );
    await reachedStep2;
    const waiting = await submitOk(engine, { role: 'draft', owner: owner('b'), prompt: 'y', count: 1 });
    expect(waiting.cancel()).toBe(true);
    expect((await waiting.settled).type).toBe('cancelled');
    expect(running.cancel()).toBe(true);
    expect((await running.settled).type).toBe('cancelled');
    const steps = runningEvents.filter((e) => e.type === 'progress').map((e) => (e as { step: number }).step);
    expect(Math.max(...steps)).toBeLessThan(16);
    expect(engine.history.get(running.id)?.status).toBe('cancelled');
    expect(engine.history.get(waiting.id)?.status).toBe('cancelled');
    expect(running.cancel()).toBe(false);
    const next = await submitOk(engine, { role: 'draft', owner: owner('a'), prompt: 'x', count: 1 });
    expect((await next.settled).type).toBe('done');
  });

  it('fails a job whose worker crashes, restarts the worker, and runs the next job', async () => {
    const engine = await start();
    const crash = await submitOk(engine, { role: 'draft', owner: owner('a'), prompt: 'boom [crash]', count: 1 });
    const after = await submitOk(engine, { role: 'draft', owner: owner('b'), prompt: 'fine', count: 1 });
    const crashed = await crash.settled;
    expect(crashed).toMatchObject({ type: 'failed', error: { code: 'worker-crashed' } });
    expect((await after.settled).type).toBe('done');
    expect(engine.stats().workers[0]!.restarts).toBe(1);
  });

  it('reports a pipeline error as a failed job and keeps the worker healthy', async () => {
    const engine = await start();
    const bad = await submitOk(engine, { role: 'draft', owner: owner('a'), prompt: '[fail]', count: 1 });
    expect(await bad.settled).toMatchObject({ type: 'failed', error: { code: 'model-error' } });
    const good = await submitOk(engine, { role: 'draft', owner: owner('a'), prompt: 'ok', count: 1 });
    expect((await good.settled).type).toBe('done');
    expect(engine.stats().workers[0]!.restarts).toBe(0);
  });

  it('starts the next job while the previous one is still in post-processing', async () => {
    const moderator = new FakeModerator(() => false, 400);
    const engine = await start({ moderator });
    const first = await submitOk(engine, { role: 'draft', owner: owner('a'), prompt: 'x', count: 1 });
    const second = await submitOk(engine, { role: 'draft', owner: owner('b'), prompt: 'y', count: 1 });
    const order: string[] = [];
    first.subscribe((e) => (e.type === 'done' || e.type === 'started') && order.push(`first:${e.type}`));
    second.subscribe((e) => (e.type === 'done' || e.type === 'started') && order.push(`second:${e.type}`));
    await Promise.all([first.settled, second.settled]);
    expect(order.indexOf('second:started')).toBeLessThan(order.indexOf('first:done'));
  });

  it('withholds flagged candidates one by one, and blocks a job when all are flagged', async () => {
    // The fake pipeline paints candidate colours from the seed; flag the candidate of seed 11.
    const flagSeed11 = (image: { data: Uint8Array }): boolean => image.data[0] === (11 * 37) % 256;
    const engine = await start({ moderator: new FakeModerator(flagSeed11) });
    const mixed = await submitOk(engine, { role: 'draft', owner: owner('a'), prompt: 'x', seed: 10, count: 3 });
    const done = await mixed.settled;
    expect(done.type).toBe('done');
    if (done.type !== 'done') return;
    expect(done.result.images.map((i) => i.withheld)).toEqual([false, true, false]);
    expect(done.result.images[1]!.png).toBeNull();
    expect(done.result.images[1]!.path).toBeNull();
    const stored = engine.history.get(mixed.id)!.result!;
    expect(stored.images[1]).toMatchObject({ withheld: true, path: null, verdict: { flagged: true, rule: 'test rule' } });

    const all = await submitOk(engine, { role: 'draft', owner: owner('a'), prompt: 'x', seed: 11, count: 1 });
    expect((await all.settled).type).toBe('blocked');
    expect(engine.history.get(all.id)?.status).toBe('blocked');
  });

  it('posts a flagged image as a spoiler where the channel policy allows it', async () => {
    const engine = await start({ moderator: new FakeModerator(() => true) });
    const job = await submitOk(engine, { role: 'draft', owner: owner('a'), prompt: 'x', count: 1 }, { policy: 'spoiler' });
    const done = await job.settled;
    expect(done.type).toBe('done');
    if (done.type === 'done') expect(done.result.images[0]).toMatchObject({ withheld: false, spoiler: true });
  });

  it('re-sends queue positions as the queue moves', async () => {
    const engine = await start({ stepMs: 50 });
    const jobs: JobHandle[] = [];
    const positions = new Map<string, number[]>();
    for (let i = 0; i < 4; i++) {
      const h = await submitOk(engine, { role: 'draft', owner: owner(`u${i}`), prompt: 'x', count: 1 });
      positions.set(h.id, []);
      h.subscribe((e) => e.type === 'queued' && positions.get(h.id)!.push(e.position));
      jobs.push(h);
    }
    await Promise.all(jobs.map((j) => j.settled));
    const last = positions.get(jobs[3]!.id)!;
    expect(last[0]).toBeGreaterThanOrEqual(3);
    expect(last.at(-1)).toBe(1);
    expect(last).toEqual([...last].sort((a, b) => b - a));
  });
});
