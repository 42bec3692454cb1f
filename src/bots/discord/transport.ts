import { DiscordAPIError, HTTPError, RateLimitError, Routes, type REST, type RequestData } from 'discord.js';
import { scrubSecrets } from '../../logging.ts';
import { fail, ok, type Result } from '../../result.ts';
import type { PlatformFailure } from '../core/errors.ts';
import type { MessageBody, RenderedMessage } from './render.ts';
import { messageBody, NO_MENTIONS } from './render.ts';

/**
 * The few Discord calls a job's messages need, over discord.js's REST client (its rate-limit queues and retries).
 * Raw routes rather than discord.js structures, because a job recovered after a restart has ids and a token, not
 * cached objects. Failures come back as values that name Discord's JSON error code (10062 unknown interaction,
 * 50027 invalid webhook token, 40005 too large…) and never quote a URL (interaction tokens are part of webhook URLs).
 */
export type Sent<T> = Result<T, PlatformFailure>;

export interface InteractionRef {
  readonly applicationId: string;
  readonly token: string;
}

export interface DiscordTransport {
  /** The interaction's own response message (`@original`). */
  editOriginal(ref: InteractionRef, message: RenderedMessage): Promise<Sent<{ id: string }>>;
  fetchOriginal(ref: InteractionRef): Promise<Sent<{ id: string }>>;
  deleteOriginal(ref: InteractionRef): Promise<Sent<void>>;
  followUp(ref: InteractionRef, message: RenderedMessage): Promise<Sent<{ id: string }>>;
  postMessage(channelId: string, message: RenderedMessage, replyTo?: string): Promise<Sent<{ id: string }>>;
  editMessage(channelId: string, messageId: string, message: RenderedMessage): Promise<Sent<void>>;
  /** Removes a message's buttons and nothing else. */
  stripButtons(channelId: string, messageId: string): Promise<Sent<void>>;
  deleteMessage(channelId: string, messageId: string): Promise<Sent<void>>;
  /** Adds the bot's own reaction (a unicode emoji) to a message. */
  react(channelId: string, messageId: string, emoji: string): Promise<Sent<void>>;
}

/** Error codes that mean "this interaction token can no longer be used": switch to channel messages. */
export const EXPIRED_TOKEN_CODES: ReadonlySet<number> = new Set([10062, 10015, 50027]);

export function isExpiredToken(failure: PlatformFailure): boolean {
  return (typeof failure.code === 'number' && EXPIRED_TOKEN_CODES.has(failure.code)) || failure.status === 401;
}

/** Any discord.js failure as the core's PlatformFailure: Discord's code, the status, scrubbed words. */
export function failureOf(error: unknown): PlatformFailure {
  if (error instanceof DiscordAPIError) {
    return { code: typeof error.code === 'number' ? error.code : null, status: error.status, message: scrubSecrets(error.message) };
  }
  if (error instanceof HTTPError) return { code: null, status: error.status, message: scrubSecrets(error.message) };
  if (error instanceof RateLimitError) return { code: null, status: 429, message: `rate limited on ${scrubSecrets(error.route)}` };
  const message = error instanceof Error ? error.message : String(error);
  return { code: null, status: null, message: scrubSecrets(message) };
}

async function attempt<T>(call: () => Promise<T>): Promise<Sent<T>> {
  try {
    return ok(await call());
  } catch (error) {
    return fail(failureOf(error));
  }
}

const idOf = (response: unknown): { id: string } => ({ id: String((response as { id?: unknown } | null)?.id ?? '') });

function send(body: MessageBody): RequestData {
  return body.files.length > 0 ? { body: body.json, files: [...body.files] } : { body: body.json };
}

export function restTransport(rest: REST): DiscordTransport {
  // Interaction webhooks authenticate by their token, not the bot's (auth: false, as discord.js does).
  const hook = { auth: false } as const;
  return {
    editOriginal: (ref, message) =>
      attempt(async () => idOf(await rest.patch(Routes.webhookMessage(ref.applicationId, ref.token, '@original'), { ...send(messageBody(message)), ...hook }))),
    fetchOriginal: (ref) => attempt(async () => idOf(await rest.get(Routes.webhookMessage(ref.applicationId, ref.token, '@original'), hook))),
    deleteOriginal: (ref) =>
      attempt(async () => {
        await rest.delete(Routes.webhookMessage(ref.applicationId, ref.token, '@original'), hook);
      }),
    followUp: (ref, message) =>
      attempt(async () =>
        idOf(await rest.post(Routes.webhook(ref.applicationId, ref.token), { ...send(messageBody(message)), query: new URLSearchParams({ wait: 'true' }), ...hook })),
      ),
    postMessage: (channelId, message, replyTo) =>
      attempt(async () => idOf(await rest.post(Routes.channelMessages(channelId), send(messageBody({ ...message, ephemeral: false }, replyTo))))),
    editMessage: (channelId, messageId, message) =>
      attempt(async () => {
        await rest.patch(Routes.channelMessage(channelId, messageId), send(messageBody({ ...message, ephemeral: false })));
      }),
    stripButtons: (channelId, messageId) =>
      attempt(async () => {
        await rest.patch(Routes.channelMessage(channelId, messageId), { body: { components: [], allowed_mentions: NO_MENTIONS } });
      }),
    deleteMessage: (channelId, messageId) =>
      attempt(async () => {
        await rest.delete(Routes.channelMessage(channelId, messageId));
      }),
    react: (channelId, messageId, emoji) =>
      attempt(async () => {
        // The route encodes the emoji itself.
        await rest.put(Routes.channelMessageOwnReaction(channelId, messageId, emoji));
      }),
  };
}
