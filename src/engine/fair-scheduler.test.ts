import { describe, expect, it } from 'vitest';
import { FairScheduler, type FairItem } from './fair-scheduler.ts';

let counter = 0;
const item = (userKey: string, cost = 1): FairItem => ({ id: `j${++counter}`, userKey, cost });

function drain(scheduler: FairScheduler<FairItem>): FairItem[] {
  const out: FairItem[] = [];
  for (let next = scheduler.next(); next; next = scheduler.next()) out.push(next);
  return out;
}

describe('FairScheduler', () => {
  it('serves one user in FIFO order', () => {
    const s = new FairScheduler<FairItem>({ quantum: 1 });
    const items = [item('a'), item('a'), item('a')];
    items.forEach((i) => s.enqueue(i));
    expect(drain(s)).toEqual(items);
    expect(s.size).toBe(0);
  });

  it('alternates between users with equal costs', () => {
    const s = new FairScheduler<FairItem>({ quantum: 1 });
    for (let i = 0; i < 3; i++) s.enqueue(item('a'));
    for (let i = 0; i < 3; i++) s.enqueue(item('b'));
    expect(drain(s).map((i) => i.userKey).join('')).toBe('ababab');
  });

  it('lets a newcomer in before a flooding user runs again', () => {
    const s = new FairScheduler<FairItem>({ quantum: 1 });
    for (let i = 0; i < 50; i++) s.enqueue(item('flood'));
    expect(s.next()?.userKey).toBe('flood');
    for (let u = 0; u < 9; u++) {
      s.enqueue(item(`light${u}`));
      s.enqueue(item(`light${u}`));
    }
    const firstTen = Array.from({ length: 10 }, () => s.next()!.userKey);
    expect(firstTen.filter((u) => u === 'flood').length).toBeLessThanOrEqual(1);
    expect(new Set(firstTen.filter((u) => u !== 'flood')).size).toBe(9);
  });

  it('shares by cost, not by count, and skips unaffordable rounds', () => {
    const s = new FairScheduler<FairItem>({ quantum: 0.1 });
    for (let i = 0; i < 400; i++) s.enqueue(item('cheap', 1));
    for (let i = 0; i < 100; i++) s.enqueue(item('dear', 4));
    const served = { cheap: 0, dear: 0 };
    for (let i = 0; i < 200; i++) {
      const next = s.next()!;
      served[next.userKey as 'cheap' | 'dear'] += next.cost;
    }
    expect(Math.abs(served.cheap - served.dear) / (served.cheap + served.dear)).toBeLessThan(0.05);
  });

  it('predicts exactly the order it then serves', () => {
    const s = new FairScheduler<FairItem>({ quantum: 0.7 });
    const costs = [1, 3, 0.5, 2, 4, 1.5];
    for (let i = 0; i < 30; i++) s.enqueue(item(`u${i % 4}`, costs[i % costs.length]));
    s.next();
    s.next();
    const predicted = s.order().map((i) => i.id);
    expect(predicted).toHaveLength(28);
    expect(drain(s).map((i) => i.id)).toEqual(predicted);
  });

  it('skips users that are not eligible without giving them credit', () => {
    const s = new FairScheduler<FairItem>({ quantum: 1 });
    s.enqueue(item('a'));
    s.enqueue(item('a'));
    s.enqueue(item('b'));
    expect(s.next((item) => item.userKey !== 'a')?.userKey).toBe('b');
    expect(s.next((item) => item.userKey !== 'a')).toBeUndefined();
    expect(s.next()?.userKey).toBe('a');
  });

  it('removes a waiting item and forgets an emptied user', () => {
    const s = new FairScheduler<FairItem>({ quantum: 1 });
    const a = item('a');
    const b = item('b');
    s.enqueue(a);
    s.enqueue(b);
    expect(s.remove(a.id)).toBe(a);
    expect(s.remove(a.id)).toBeUndefined();
    expect(s.sizeOf('a')).toBe(0);
    expect(drain(s)).toEqual([b]);
  });

  it('refuses nonsense options and costs', () => {
    expect(() => new FairScheduler({ quantum: 0 })).toThrowError('Expected quantum to be a positive number, got 0');
    const s = new FairScheduler<FairItem>({ quantum: 1 });
    expect(() => s.enqueue({ id: 'x', userKey: 'a', cost: Number.NaN })).toThrowError(/positive finite/);
  });
});
