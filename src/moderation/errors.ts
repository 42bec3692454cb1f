/**
 * Moderation that cannot start (an unreadable term file, a model that does not load). Start-up
 * stops with it, as it does with a ConfigError: a bot that cannot moderate must not run. Failures while running are
 * verdicts and EngineErrors, never thrown.
 */
export class ModerationSetupError extends Error {
  override readonly name = 'ModerationSetupError';
}
