import { LRUCache } from 'lru-cache';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { sniffImageType } from '../../engine/image/input.ts';
import { formatBytes, readCapped } from '../core/bytes.ts';
import { fail, ok, type Result } from '../../result.ts';
import type { CoreError } from '../core/errors.ts';

/** How long an upload waits for the command that uses it (the page uploads right before it sends). */
const TTL_MS = 120_000;
const MAX_ENTRIES = 64;

export interface UploadLimits {
  /** Bytes per upload (config limits.maxInputBytes). */
  readonly maxBytes: number;
}

interface Upload {
  readonly userId: string;
  readonly bytes: Uint8Array;
}

export interface UploadRefusal {
  readonly status: 413 | 415 | 400;
  readonly error: CoreError;
}

export type UploadResult = Result<string, UploadRefusal>;

/**
 * Images a tab uploaded for its next command (an image to edit or refine, a painted mask). Each is capped while
 * it streams in, sniffed before it is kept, owned by the tab that sent it, used once, and forgotten after two
 * minutes; the engine then normalises what a command hands it.
 */
export class UploadStore {
  readonly #limits: UploadLimits;
  readonly #uploads: LRUCache<string, Upload>;

  constructor(limits: UploadLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#uploads = new LRUCache({ max: MAX_ENTRIES, ttl: TTL_MS, ttlResolution: 0, perf: { now } });
  }

  get maxBytes(): number {
    return this.#limits.maxBytes;
  }

  /** Reads a request body into the store. `declaredLength` is the Content-Length header, when there is one. */
  async receive(body: Readable, declaredLength: number | undefined, userId: string): Promise<UploadResult> {
    const tooLarge = fail({ status: 413, error: { code: 'attachment-too-large', params: { max: formatBytes(this.#limits.maxBytes) } } } as const);
    if (declaredLength !== undefined && declaredLength > this.#limits.maxBytes) return tooLarge;
    // Not destroyed past the cap: the caller still answers 413 before closing the connection.
    const read = await readCapped(body.iterator({ destroyOnReturn: false }), this.#limits.maxBytes);
    if (!read.ok) return read.error === 'too-large' ? tooLarge : fail({ status: 400, error: { code: 'attachment-fetch' } });
    const bytes = read.value;
    if (sniffImageType(bytes) === null) return fail({ status: 415, error: { code: 'unsupported-attachment' } });
    const id = randomBytes(16).toString('hex');
    this.#uploads.set(id, { userId, bytes });
    return ok(id);
  }

  /** The upload's bytes, once, and only for the tab that sent it. */
  take(id: string, userId: string): Uint8Array | undefined {
    const upload = this.#uploads.get(id);
    if (!upload || upload.userId !== userId) return undefined;
    this.#uploads.delete(id);
    return upload.bytes;
  }
}
