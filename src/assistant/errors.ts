import type { EngineErrorCode } from '../engine/errors.ts';

/**
 * What can go wrong with the prompt assistant, as values. `message` is English for logs and the CLI (the key scrubbed
 * out of it); adapters turn the code and params into a sentence in the user's language.
 */
export type AssistantErrorCode =
  /** No assistant.url: the features are absent. */
  | 'assistant-not-configured'
  /** The asker already has `perUser` requests in flight (scope `user`), or `maxWaiting` wait already (scope `all`). */
  | 'assistant-busy'
  /** Nothing answered at the address: refused, reset, unknown host. */
  | 'assistant-unreachable'
  /** No answer within the timeout (waiting for a slot included). */
  | 'assistant-timeout'
  /** The server answered with an error status (a wrong key, an unknown model, an overloaded server). */
  | 'assistant-http-error'
  /** The model (or the server as started) takes no image input. */
  | 'assistant-no-vision'
  /** The answer was not a chat completion, or held no usable prompt. */
  | 'assistant-bad-reply'
  /** What the assistant wrote is refused by the prompt filter. */
  | 'assistant-output-blocked'
  /** The rewritten prompt lost or changed text the user quoted (text Z-Image would draw). */
  | 'assistant-changed-text';

/**
 * An assistant refusal or failure. Checks it shares with the draft and edit paths (an empty or too long prompt, the
 * prompt filter on the user's words, an unreadable, oversized or refused image) keep the engine's codes and params,
 * so they read as they do there.
 */
export interface AssistantError {
  readonly code: AssistantErrorCode | EngineErrorCode;
  /** English, for logs and the CLI; never the key. */
  readonly message: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

export function assistantError(code: AssistantErrorCode, message: string, params?: Record<string, string | number>): AssistantError {
  return params === undefined ? { code, message } : { code, message, params };
}

/** The one line that says how to turn the assistant on (logs, the CLI's refusal). */
export const ASSISTANT_SETUP_HINT =
  'The prompt assistant is off: set ASSISTANT_URL to an OpenAI-compatible server (e.g. http://localhost:11434/v1 for Ollama) and ASSISTANT_MODEL, or assistant.url and assistant.model in config/local.yaml (docs/assistant.md).';

export const notConfigured = (): AssistantError => assistantError('assistant-not-configured', ASSISTANT_SETUP_HINT);
