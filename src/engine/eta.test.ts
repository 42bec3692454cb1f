import { describe, expect, it } from 'vitest';
import { EtaModel, startTimesOnSlots } from './eta.ts';

describe('ETAs per backend', () => {
  it('learns each backend’s speed from its own runs, and uses the role’s average for a backend with none yet', () => {
    const eta = new EtaModel({ initialSecondsPerCost: 0.5, smoothing: 1 });
    expect(eta.seconds('draft', 2, 'fast')).toBe(1);
    eta.observe('draft', 2, 1, 'fast');
    eta.observe('draft', 2, 4, 'slow');
    expect(eta.seconds('draft', 2, 'fast')).toBe(1);
    expect(eta.seconds('draft', 2, 'slow')).toBe(4);
    // Never seen: the role's latest average over every backend.
    expect(eta.seconds('draft', 2, 'new')).toBe(4);
    expect(eta.seconds('refine', 2, 'fast')).toBe(1);
  });

  it('places each waiting job where it would finish first, among the backends that serve it', () => {
    const slots = [
      { freeAt: 0, backend: 'fast' },
      { freeAt: 0, backend: 'slow' },
    ];
    const seconds: Record<string, number> = { fast: 1, slow: 3 };
    // Three equal jobs: a on the fast one at 0; b there too at 1 (it ends at 2, on the slow one at 3); c ends at 3
    // either way, and starts sooner on the slow one, at 0.
    expect(startTimesOnSlots(slots, ['a', 'b', 'c'], (_, backend) => seconds[backend]!, () => true)).toEqual([0, 1, 0]);
    // A job only the slow backend serves waits for it.
    const only = startTimesOnSlots([{ freeAt: 2, backend: 'fast' }, { freeAt: 5, backend: 'slow' }], ['x'], (_, b) => seconds[b]!, (_, b) => b === 'slow');
    expect(only).toEqual([5]);
  });
});
