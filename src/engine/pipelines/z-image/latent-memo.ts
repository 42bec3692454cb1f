import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { RgbFrame } from './vae.ts';

/**
 * The latents each recent output of one model was decoded from, found again by its pixels. A refine or an edit of a
 * picture the model drew then starts from those exact latents instead of the encoder's estimate of them: a VAE's
 * round trip is lossy (the mini model's rounds corners off; any VAE drifts a little), and a chain of edits would
 * otherwise pay it at every link. Keyed by a SHA-256 of the pixels and the size, so only the identical picture hits;
 * a resized, recompressed, blurred or composited one is encoded as before, and so is everything after a restart.
 */
export class LatentMemo {
  readonly #cache: LRUCache<string, Float32Array> | null;

  /** Holds at most `maxBytes` of latents, dropping the least recently used; 0 remembers nothing. */
  constructor(maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`Expected a latent memo size in bytes (an integer ≥ 0), got ${maxBytes}`);
    this.#cache = maxBytes === 0 ? null : new LRUCache({ maxSize: maxBytes, sizeCalculation: (latents) => latents.byteLength });
  }

  /**
   * Records that `frame` is what `latents` decode to (the memo keeps `latents`: the caller must not change them).
   * Latents with a NaN or an infinity are not kept: they decode to black, and would poison every later edit of a black
   * picture of that size.
   */
  remember(frame: RgbFrame, latents: Float32Array): void {
    if (this.#cache && latents.every(Number.isFinite)) this.#cache.set(keyOf(frame), latents);
  }

  /** A copy of the latents `frame` was decoded from, if it is one of the remembered outputs and has `values` values. */
  recall(frame: RgbFrame, values: number): Float32Array | undefined {
    const latents = this.#cache?.get(keyOf(frame));
    return latents?.length === values ? latents.slice() : undefined;
  }
}

function keyOf(frame: RgbFrame): string {
  return `${frame.width}x${frame.height}:${createHash('sha256').update(frame.data).digest('base64')}`;
}
