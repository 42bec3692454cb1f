import { describe, expect, it } from 'vitest';
import { LatentMemo } from './latent-memo.ts';
import type { RgbFrame } from './vae.ts';

const frame = (fill: number, width = 4, height = 4): RgbFrame => ({ width, height, data: new Uint8Array(width * height * 3).fill(fill) });
const latents = (value: number, length = 16): Float32Array => new Float32Array(length).fill(value);

describe('LatentMemo', () => {
  it('gives back a copy of the latents of exactly the remembered pixels', () => {
    const memo = new LatentMemo(1024);
    memo.remember(frame(10), latents(1.5));
    const recalled = memo.recall(frame(10), 16)!;
    expect(Array.from(recalled)).toEqual(Array.from(latents(1.5)));
    recalled[0] = 99;
    expect(memo.recall(frame(10), 16)![0]).toBe(1.5);
    const touched = frame(10);
    touched.data[5] = 11;
    expect(memo.recall(touched, 16)).toBeUndefined();
    // Same bytes at another size, or latents of another shape, are not the same picture.
    expect(memo.recall(frame(10, 8, 2), 16)).toBeUndefined();
    expect(memo.recall(frame(10), 32)).toBeUndefined();
  });

  it('keeps at most its size in bytes, dropping the least recently used', () => {
    const memo = new LatentMemo(3 * 64); // three 16-value latents
    for (const fill of [1, 2, 3]) memo.remember(frame(fill), latents(fill));
    memo.recall(frame(1), 16); // 1 is now the most recently used
    memo.remember(frame(4), latents(4));
    expect([1, 2, 3, 4].map((fill) => memo.recall(frame(fill), 16)?.[0])).toEqual([1, undefined, 3, 4]);
    memo.remember(frame(5), latents(5, 64)); // larger than the whole memo: not kept, nothing else dropped
    expect([1, 3, 4, 5].map((fill) => memo.recall(frame(fill), fill === 5 ? 64 : 16)?.[0])).toEqual([1, 3, 4, undefined]);
  });

  it('does not keep latents with a NaN or an infinity', () => {
    const memo = new LatentMemo(1024);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const poisoned = latents(0.5);
      poisoned[3] = bad;
      memo.remember(frame(0), poisoned);
      expect(memo.recall(frame(0), 16)).toBeUndefined();
    }
  });

  it('remembers nothing at size 0 and refuses a size that is not a whole number of bytes', () => {
    const memo = new LatentMemo(0);
    memo.remember(frame(1), latents(1));
    expect(memo.recall(frame(1), 16)).toBeUndefined();
    expect(() => new LatentMemo(-1)).toThrow(/an integer ≥ 0\), got -1/);
    expect(() => new LatentMemo(1.5)).toThrow(/got 1.5/);
  });
});
