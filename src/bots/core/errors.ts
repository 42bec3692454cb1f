import type { AssistantError } from '../../assistant/errors.ts';
import type { EngineError } from '../../engine/errors.ts';

/** What the core refuses before the engine sees a request (the grammar, attachments, permissions). */
export type CoreErrorCode =
  | 'unknown-command'
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
  | 'image-not-for-draft'
  | 'no-image'
  | 'no-draft'
  | 'not-owner'
  | 'unknown-job'
  | 'expired-button'
  | 'wrong-message'
  | 'no-such-candidate'
  | 'candidate-withheld'
  | 'not-a-result'
  | 'others-may-not-press'
  | 'settings-usage'
  | 'unknown-setting'
  | 'bad-setting'
  | 'channel-only-setting'
  | 'policy-not-allowed'
  | 'spoiler-needs-nsfw'
  | 'not-allowed-to-configure'
  | 'bad-window'
  /** --enhance on a prompt matrix: the assistant rewrites one prompt, and {a|b} makes several. */
  | 'enhance-matrix'
  /** A Draft button of describe suggestions that are not stored (any more). */
  | 'expired-suggestion';

export interface CoreError {
  readonly code: CoreErrorCode;
  readonly params?: Readonly<Record<string, string | number>>;
}

/** Anything a user can be told went wrong: a core refusal, an engine error, or the prompt assistant's. */
export type UserError = CoreError | EngineError | AssistantError;

/** Something failed that the user could not have caused; the details go to the log, never to the user. */
export const INTERNAL_ERROR: EngineError = { code: 'internal', message: 'internal error' };

/**
 * A platform API call that failed (Discord REST, Slack Web API), in one shape whatever the SDK: each adapter turns
 * its SDK's errors into this, with every token and token-bearing URL already scrubbed, so it is safe to log.
 */
export interface PlatformFailure {
  /** The platform's own code: Discord's JSON error code (10062, 50027…), Slack's error string (`not_in_channel`…). */
  readonly code: string | number | null;
  readonly status: number | null;
  readonly message: string;
}

/** A PlatformFailure thrown through code that expects an Error (a reply sink, a listener). */
export class PlatformError extends Error {
  override readonly name = 'PlatformError';
  constructor(readonly failure: PlatformFailure) {
    super(`${failure.message} (code ${failure.code ?? '-'}, status ${failure.status ?? '-'})`);
  }
}
