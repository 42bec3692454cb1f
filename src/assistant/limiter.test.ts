import { describe, expect, it } from 'vitest';
import { CallAborted, KeyedLimiter } from './limiter.ts';

/** A task that runs until its gate is opened, recording that it started. */
function gated(started: string[], name: string): { task: () => Promise<string>; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return {
    task: async () => {
      started.push(name);
      await gate;
      return name;
    },
    open,
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KeyedLimiter', () => {
  it('runs at most maxConcurrent at once, the rest in arrival order', async () => {
    const limiter = new KeyedLimiter({ maxConcurrent: 2, maxWaiting: 10, perUser: 5 });
    const started: string[] = [];
    const tasks = ['a', 'b', 'c', 'd'].map((name) => gated(started, name));
    const runs = tasks.map((t, i) => limiter.run(`user${i}`, t.task));
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect([limiter.running, limiter.waiting]).toEqual([2, 2]);
    tasks[1]!.open();
    await runs[1];
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    for (const t of tasks) t.open();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c', 'd'].map((value) => ({ ok: true, value })));
    expect([limiter.running, limiter.waiting]).toEqual([0, 0]);
  });

  it('refuses a user past perUser (waiting calls count), and frees the place when a call ends, even by throwing', async () => {
    const limiter = new KeyedLimiter({ maxConcurrent: 1, maxWaiting: 10, perUser: 2 });
    const started: string[] = [];
    const first = gated(started, 'first');
    const second = gated(started, 'second');
    const one = limiter.run('ann', first.task);
    const two = limiter.run('ann', second.task);
    expect(await limiter.run('ann', async () => 'third')).toEqual({ ok: false, error: { scope: 'user', max: 2 } });
    // Another user is not held by ann's cap.
    const bob = limiter.run('bob', async () => 'bob');
    first.open();
    second.open();
    expect(await Promise.all([one, two, bob])).toEqual([{ ok: true, value: 'first' }, { ok: true, value: 'second' }, { ok: true, value: 'bob' }]);
    await expect(limiter.run('ann', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run('ann', async () => 'again')).toEqual({ ok: true, value: 'again' });
  });

  it('refuses at once when maxWaiting calls already wait', async () => {
    const limiter = new KeyedLimiter({ maxConcurrent: 1, maxWaiting: 1, perUser: 1 });
    const started: string[] = [];
    const running = gated(started, 'running');
    const waiting = gated(started, 'waiting');
    const a = limiter.run('a', running.task);
    const b = limiter.run('b', waiting.task);
    expect(await limiter.run('c', async () => 'c')).toEqual({ ok: false, error: { scope: 'all', max: 1 } });
    running.open();
    waiting.open();
    expect((await a).ok && (await b).ok).toBe(true);
  });

  it('takes a waiting call out of the line when its signal aborts, and ends a running one', async () => {
    const limiter = new KeyedLimiter({ maxConcurrent: 1, maxWaiting: 5, perUser: 1 });
    const started: string[] = [];
    const running = gated(started, 'running');
    const controller = new AbortController();
    const head = limiter.run('a', running.task, controller.signal);
    const waiter = new AbortController();
    const queued = limiter.run('b', async () => 'never', waiter.signal);
    waiter.abort(new DOMException('gone', 'TimeoutError'));
    await expect(queued).rejects.toBeInstanceOf(CallAborted);
    expect(limiter.waiting).toBe(0);
    // b's place is free again.
    controller.abort(new DOMException('gone', 'TimeoutError'));
    await expect(head).rejects.toBeInstanceOf(CallAborted);
    running.open();
    expect(await limiter.run('b', async () => 'b')).toEqual({ ok: true, value: 'b' });
    expect(started).toEqual(['running']);
  });
});
