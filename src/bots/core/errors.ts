import type { EngineError } from '../../engine/errors.ts';

/** What the core refuses before the engine sees a request (the grammar, attachments, permissions). */
export type CoreErrorCode =
  | 'unknown-flag'
  | 'flag-not-for-role'
  | 'duplicate-flag'
  | 'missing-value'
  | 'not-a-number'
  | 'option-out-of-range'
  | 'unsupported-attachment'
  | 'attachment-too-large'
  | 'attachment-host'
  | 'attachment-fetch'
  | 'no-image'
  | 'no-draft'
  | 'not-owner'
  | 'unknown-job'
  | 'expired-button';

export interface CoreError {
  readonly code: CoreErrorCode;
  readonly params?: Readonly<Record<string, string | number>>;
}

/** Anything a user can be told went wrong: a core refusal or an engine error. */
export type UserError = CoreError | EngineError;
