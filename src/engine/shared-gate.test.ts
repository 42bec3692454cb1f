import { afterEach, describe, expect, it } from 'vitest';
import { FakeOpenAI } from '../../test/support/fake-openai.ts';
import { owner, startFakeEngine, testConfig } from '../../test/support/fakes.ts';
import { Assistant } from '../assistant/assistant.ts';
import type { Config } from '../config/schema.ts';
import type { DeepPartial } from '../config/load.ts';
import { createLogger } from '../logging.ts';
import { createPromptFilter } from '../moderation/prompt-filter.ts';
import { SharedCallRefused, type Engine } from './engine.ts';
import type { JobHandle } from './job-handle.ts';

/**
 * Shared calls (a prompt-assistant model on this machine's GPU) in the engine's fair queue, with the fake pipeline on
 * local worker threads. A call whose run waits for the test holds a slot for as long as a test needs, so what waits
 * meanwhile is read without racing anything.
 */
const engines: Engine[] = [];
let openai: FakeOpenAI | undefined;
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.shutdown()));
  await openai?.close();
  openai = undefined;
});

async function start(config: DeepPartial<Config> = {}): Promise<Engine> {
  const engine = await startFakeEngine({ config: testConfig(config) });
  engines.push(engine);
  return engine;
}

interface Held {
  /** Resolves once the call holds a slot and runs. */
  readonly running: Promise<void>;
  readonly result: Promise<string>;
  /** Ends the call's run: it answers, and its slot is freed. */
  finish(): void;
  abort(reason: unknown): void;
  readonly ran: () => boolean;
}

/** A shared call of `user` whose run lasts until finish(); `log` gets `call:<user>` when it starts running. */
function held(engine: Engine, user: string, log: string[] = []): Held {
  let started = false;
  let onRunning!: () => void;
  const running = new Promise<void>((resolve) => (onRunning = resolve));
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const controller = new AbortController();
  const result = engine.runShared({ user: owner(user), task: 'enhance', signal: controller.signal }, async () => {
    started = true;
    log.push(`call:${user}`);
    onRunning();
    await finished;
    return user;
  });
  // Tests that expect a rejection await it themselves; this only keeps an unawaited one from being reported.
  result.catch(() => undefined);
  return { running, result, finish, abort: (reason) => controller.abort(reason), ran: () => started };
}

async function submit(engine: Engine, user: string, prompt = 'a fox', onEvent?: Parameters<JobHandle['subscribe']>[0]): Promise<JobHandle> {
  const result = await engine.submit({ role: 'draft', owner: owner(user), prompt, count: 1 }, onEvent ? { onEvent } : {});
  if (!result.ok) throw new Error(`refused: ${result.error.code} ${result.error.message}`);
  return result.value;
}

/** Waits for a condition the engine reaches on its own (no deadline here: the test's timeout is the bound). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('Engine.runShared', () => {
  it('waits behind a running job on the only local device, and runs once its slot frees', async () => {
    const engine = await start();
    const log: string[] = [];
    const job = await submit(engine, 'ann', 'a fox [step=20]', (event) => {
      if (event.type === 'started' || event.type === 'done') log.push(`job:${event.type}`);
      if (event.type === 'progress') log.push(`job:${event.step}/${event.total}`);
    });
    await new Promise<void>((resolve) => job.subscribe((event) => event.type === 'started' && resolve()));
    // The job's outcome comes back from its worker thread in a later turn: the call is queued while the job runs.
    const call = engine.runShared({ user: owner('bob'), task: 'enhance', signal: new AbortController().signal }, async () => {
      log.push('call:bob');
      return engine.stats();
    });
    expect(engine.stats().shared).toEqual({ waiting: 1, running: 0 });
    const during = await call;
    expect(during.running).toBe(0);
    expect(during.shared).toEqual({ waiting: 0, running: 1 });
    expect((await job.settled).type).toBe('done');
    expect(log.indexOf('call:bob')).toBeGreaterThan(log.indexOf('job:8/8'));
    expect(log.slice(0, 9)).toEqual(['job:started', ...Array.from({ length: 8 }, (_, i) => `job:${i + 1}/8`)]);
    // The slot is back: a job runs after it.
    expect((await (await submit(engine, 'ann')).settled).type).toBe('done');
    expect(engine.stats().shared).toEqual({ waiting: 0, running: 0 });
  });

  it('holds the slot while it runs: a job waits for it', async () => {
    const engine = await start();
    const log: string[] = [];
    const call = held(engine, 'bob', log);
    await call.running;
    const job = await submit(engine, 'ann', 'a fox', (event) => event.type === 'started' && log.push('job:started'));
    await new Promise<void>((resolve) => job.subscribe((event) => event.type === 'queued' && resolve()));
    expect(engine.stats()).toMatchObject({ waiting: 1, running: 0, shared: { waiting: 0, running: 1 } });
    log.push('finish:bob');
    call.finish();
    expect(await call.result).toBe('bob');
    expect((await job.settled).type).toBe('done');
    expect(log).toEqual(['call:bob', 'finish:bob', 'job:started']);
  });

  it('takes turns with jobs by user, as one fair queue', async () => {
    const engine = await start();
    const order: string[] = [];
    const blocker = held(engine, 'cy');
    await blocker.running;
    // While cy holds the only slot: ann queues three one-image drafts, bob three calls (a call costs one such draft).
    const jobs: JobHandle[] = [];
    for (let i = 0; i < 3; i++) jobs.push(await submit(engine, 'ann', `a fox ${i}`, (event) => event.type === 'started' && order.push('A')));
    const calls = Array.from({ length: 3 }, () =>
      engine.runShared({ user: owner('bob'), task: 'enhance', signal: new AbortController().signal }, async () => {
        order.push('B');
        return true;
      }),
    );
    expect(engine.stats()).toMatchObject({ waiting: 3, shared: { waiting: 3, running: 1 } });
    blocker.finish();
    await Promise.all([...calls, ...jobs.map((job) => job.settled)]);
    expect(order.join('')).toMatch(/^(AB){3}$|^(BA){3}$/);
  });

  it('takes an aborted waiting call out of the queue, and frees the slot of an aborted running one', async () => {
    const engine = await start();
    const first = held(engine, 'cy');
    await first.running;
    const waiting = held(engine, 'bob');
    expect(engine.stats().shared).toEqual({ waiting: 1, running: 1 });
    const reason = new Error('timed out');
    waiting.abort(reason);
    await expect(waiting.result).rejects.toBe(reason);
    // Gone from the fair queue itself: a call left in it would count among the waiting jobs (and be charged).
    expect(engine.stats()).toMatchObject({ waiting: 0, shared: { waiting: 0, running: 1 } });

    // A running call that aborts frees its slot at once, though its run never ends.
    first.abort(reason);
    await expect(first.result).rejects.toBe(reason);
    expect(engine.stats().shared).toEqual({ waiting: 0, running: 0 });
    expect((await (await submit(engine, 'ann')).settled).type).toBe('done');
    // The aborted call never ran, not even once the slot was free.
    expect(waiting.ran()).toBe(false);
  });

  it('counts a running call in its user’s running cap, and runs another user’s on a second device meanwhile', async () => {
    const engine = await start({
      queue: { maxRunningPerUser: 1 },
      devices: [
        { name: 'cpu0', provider: 'cpu', threads: 1, deviceId: 0 },
        { name: 'cpu1', provider: 'cpu', threads: 1, deviceId: 0 },
      ],
    } as DeepPartial<Config>);
    const log: string[] = [];
    const ann1 = held(engine, 'ann', log);
    await ann1.running;
    const ann2 = held(engine, 'ann', log);
    const bob = held(engine, 'bob', log);
    await bob.running;
    // A device was free, yet ann's second call waits for her first; bob's took the free device.
    expect(engine.stats().shared).toEqual({ waiting: 1, running: 2 });
    const job = await submit(engine, 'cy');
    await new Promise<void>((resolve) => job.subscribe((event) => event.type === 'queued' && resolve()));
    expect(engine.stats().running).toBe(0);
    ann1.finish();
    await ann2.running;
    expect(log).toEqual(['call:ann', 'call:bob', 'call:ann']);
    ann2.finish();
    bob.finish();
    expect((await job.settled).type).toBe('done');
    expect(await Promise.all([ann1.result, ann2.result, bob.result])).toEqual(['ann', 'ann', 'bob']);
  });

  it('refuses waiting calls, and every later one, when the engine shuts down', async () => {
    const engine = await start();
    const running = held(engine, 'cy');
    await running.running;
    const waiting = held(engine, 'bob');
    const stopped = engine.shutdown();
    const refusal = await waiting.result.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(SharedCallRefused);
    expect((refusal as SharedCallRefused).error.code).toBe('shutting-down');
    expect(waiting.ran()).toBe(false);
    await expect(held(engine, 'dee').result).rejects.toBeInstanceOf(SharedCallRefused);
    // A running call ends as it would have.
    running.finish();
    expect(await running.result).toBe('cy');
    await stopped;
  });
});

describe('the prompt assistant on the image GPU', () => {
  it('starts with sharesGpu and the engine’s gate, and its requests wait for the GPU in the fair queue', async () => {
    const engine = await start();
    openai = await FakeOpenAI.start();
    const config = testConfig({ assistant: { url: openai.url, model: 'qwen2.5:3b', sharesGpu: true } } as DeepPartial<Config>);
    const assistant = new Assistant({
      config,
      env: {},
      promptFilter: createPromptFilter(config.moderation),
      log: createLogger('silent'),
      gate: (call, run) => engine.runShared(call, run),
    });
    expect(assistant.sharesGpu).toBe(true);

    const blocker = held(engine, 'cy');
    await blocker.running;
    const enhanced = assistant.enhance('a fox in the snow', 'en', { platform: 'test', userId: 'ann' });
    await until(() => engine.stats().shared.waiting === 1);
    expect(openai.requests).toHaveLength(0);
    blocker.finish();
    const result = await enhanced;
    expect(result.ok).toBe(true);
    expect(openai.requests).toHaveLength(1);
    expect(engine.stats().shared).toEqual({ waiting: 0, running: 0 });
  });
});
