import type { Result as SharedResult } from '../result.ts';

/**
 * Errors the engine reports, as values. Adapters turn a code (and its params) into a user-facing message in the
 * user's language; nothing here is shown to users verbatim except `message`, which is for logs and the CLI.
 */
export type EngineErrorCode =
  // refused before queueing
  | 'invalid-request'
  | 'unknown-role'
  | 'empty-prompt'
  | 'prompt-too-long'
  | 'out-of-range'
  | 'bad-size'
  | 'bad-image'
  | 'image-too-large'
  | 'bad-mask'
  | 'unknown-region'
  | 'unknown-style'
  | 'missing-image'
  | 'no-denoising-steps'
  | 'prompt-blocked'
  | 'input-blocked'
  | 'user-queue-full'
  | 'user-running-cap'
  | 'queue-full'
  | 'shutting-down'
  | 'journal-unavailable'
  | 'storage-unavailable'
  | 'unknown-job'
  | 'backend-unsupported'
  | 'no-backend'
  // after queueing
  | 'model-error'
  | 'worker-crashed'
  | 'moderation-unavailable'
  | 'lost-on-restart'
  | 'backend-failed'
  | 'backend-lost'
  | 'backend-hung'
  | 'backend-bad-output'
  | 'internal';

export interface EngineError {
  readonly code: EngineErrorCode;
  /** English, for logs and the CLI. */
  readonly message: string;
  /** Structured details for localized messages (the setting, the allowed range, the value...). */
  readonly params?: Readonly<Record<string, string | number>>;
}

export function engineError(
  code: EngineErrorCode,
  message: string,
  params?: Record<string, string | number>,
): EngineError {
  return params === undefined ? { code, message } : { code, message, params };
}

/** The error of a write that failed for want of a writable disk (full, read-only, not ours). */
export function isStorageFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'EDQUOT';
}

/** A file the engine could not write (a full or read-only disk), as the refusal or failure users are told. */
export function storageError(error: unknown): EngineError {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return engineError('storage-unavailable', `Could not write under DATA_DIR: ${reason}`, { reason });
}

/** Thrown inside the worker and pipelines; crosses the thread boundary as its code and message. */
export class EngineFailure extends Error {
  override readonly name = 'EngineFailure';
  constructor(readonly error: EngineError) {
    super(error.message);
  }
}

export function isEngineError(value: unknown): value is EngineError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as EngineError).code === 'string' &&
    typeof (value as EngineError).message === 'string'
  );
}

/** The product's one Result, with the engine's error as the default failure. */
export type Result<T, E = EngineError> = SharedResult<T, E>;
export { fail, ok } from '../result.ts';
