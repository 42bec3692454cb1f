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
  /** Uploads one user may have waiting at once (config studio.uploadsPerUser). */
  readonly perUser: number;
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
 * it streams in, sniffed before it is kept, owned by the user that sent it, used once, and forgotten after two
 * minutes; the engine then normalises what a command hands it. Room is shared fairly: a user past their quota makes
 * room with their own oldest upload, and when the store is full the user holding the most gives up their oldest, so
 * one tab can never push out another's only upload.
 */
export class UploadStore {
  readonly #limits: UploadLimits;
  readonly #uploads: LRUCache<string, Upload>;
  /** Each user's uploads, oldest first. */
  readonly #byUser = new Map<string, string[]>();

  constructor(limits: UploadLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#uploads = new LRUCache({
      ttl: TTL_MS,
      ttlResolution: 0,
      perf: { now },
      // Room is managed by the fair rule in #makeRoom; `max` is only the backstop lru-cache requires with a TTL.
      max: MAX_ENTRIES + 1,
      dispose: (upload, id) => this.#forget(upload.userId, id),
    });
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
    this.#makeRoom(userId);
    this.#uploads.set(id, { userId, bytes });
    this.#byUser.set(userId, [...(this.#byUser.get(userId) ?? []), id]);
    return ok(id);
  }

  #makeRoom(userId: string): void {
    this.#uploads.purgeStale();
    const own = this.#byUser.get(userId) ?? [];
    if (own.length >= this.#limits.perUser) {
      this.#uploads.delete(own[0]!);
      return;
    }
    if (this.#uploads.size < MAX_ENTRIES) return;
    let largest: string[] = [];
    for (const ids of this.#byUser.values()) if (ids.length > largest.length) largest = ids;
    if (largest.length > 0) this.#uploads.delete(largest[0]!);
  }

  #forget(userId: string, id: string): void {
    const left = (this.#byUser.get(userId) ?? []).filter((each) => each !== id);
    if (left.length > 0) this.#byUser.set(userId, left);
    else this.#byUser.delete(userId);
  }

  /** The upload's bytes, once, and only for the tab that sent it. */
  take(id: string, userId: string): Uint8Array | undefined {
    const upload = this.#uploads.get(id);
    if (!upload || upload.userId !== userId) return undefined;
    this.#uploads.delete(id);
    return upload.bytes;
  }
}
