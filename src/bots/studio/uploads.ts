import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { sniffImageType } from '../../engine/image/input.ts';
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
  readonly expiresAt: number;
}

export type UploadResult = { readonly ok: true; readonly id: string } | { readonly ok: false; readonly status: 413 | 415 | 400; readonly error: CoreError };

/**
 * Images a tab uploaded for its next command (an image to edit or refine, a painted mask). Each is capped while
 * it streams in, sniffed before it is kept, owned by the tab that sent it, used once, and forgotten after two
 * minutes; the engine then normalises what a command hands it.
 */
export class UploadStore {
  readonly #limits: UploadLimits;
  readonly #uploads = new Map<string, Upload>();
  readonly #now: () => number;

  constructor(limits: UploadLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  get maxBytes(): number {
    return this.#limits.maxBytes;
  }

  /** Reads a request body into the store. `declaredLength` is the Content-Length header, when there is one. */
  async receive(body: Readable, declaredLength: number | undefined, userId: string): Promise<UploadResult> {
    const max = byteSize(this.#limits.maxBytes);
    const tooLarge = { ok: false, status: 413, error: { code: 'attachment-too-large', params: { max } } } as const;
    if (declaredLength !== undefined && declaredLength > this.#limits.maxBytes) return tooLarge;
    const read = await readCapped(body, this.#limits.maxBytes);
    if (read === 'too-large') return tooLarge;
    if (read === 'aborted') return { ok: false, status: 400, error: { code: 'attachment-fetch' } };
    const bytes = new Uint8Array(read);
    if (sniffImageType(bytes) === null) return { ok: false, status: 415, error: { code: 'unsupported-attachment' } };
    this.#sweep();
    const id = randomBytes(16).toString('hex');
    this.#uploads.set(id, { userId, bytes, expiresAt: this.#now() + TTL_MS });
    while (this.#uploads.size > MAX_ENTRIES) this.#uploads.delete(this.#uploads.keys().next().value!);
    return { ok: true, id };
  }

  /** The upload's bytes, once, and only for the tab that sent it. */
  take(id: string, userId: string): Uint8Array | undefined {
    this.#sweep();
    const upload = this.#uploads.get(id);
    if (!upload || upload.userId !== userId) return undefined;
    this.#uploads.delete(id);
    return upload.bytes;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, upload] of this.#uploads) if (upload.expiresAt <= now) this.#uploads.delete(id);
  }
}

/**
 * The body, or 'too-large' as soon as it passes the cap. The stream is paused there, not destroyed, so the caller
 * can still answer 413 before closing the connection.
 */
function readCapped(body: Readable, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (value: Buffer | 'too-large' | 'aborted'): void => {
      body.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onError);
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size > max) {
        body.pause();
        done('too-large');
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = (): void => done(Buffer.concat(chunks, size));
    const onError = (): void => done('aborted');
    body.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onError);
  });
}

/** 20 MiB, 512 KiB: unit symbols read the same in every language. */
export function byteSize(bytes: number): string {
  return bytes >= 2 ** 20 ? `${Math.round(bytes / 2 ** 20)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
