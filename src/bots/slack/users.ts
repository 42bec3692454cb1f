import type { webApi } from '@slack/bolt';
import { localeFrom, type Locale } from '../core/command.ts';
import type { Logger } from '../../logging.ts';
import { safeError } from './safe-error.ts';

/** What the bot needs to know about a Slack user: their language, whether they administer the workspace, a name. */
export interface SlackUser {
  readonly locale: Locale;
  /** Workspace admins and owners may cancel or delete anyone's job. */
  readonly isAdmin: boolean;
  readonly name: string | null;
}

export interface UserDirectoryOptions {
  /** How long a looked-up user is trusted (ms). */
  readonly ttlMs?: number;
  /** Most users remembered at once. */
  readonly maxEntries?: number;
  /** Values to scrub from logged errors. */
  readonly secrets?: readonly (string | null)[];
}

interface UsersInfoUser {
  readonly locale?: string;
  readonly is_admin?: boolean;
  readonly is_owner?: boolean;
  readonly name?: string;
  readonly real_name?: string;
  readonly profile?: { readonly display_name?: string; readonly real_name?: string };
}

const UNKNOWN: SlackUser = { locale: 'en', isAdmin: false, name: null };

/**
 * users.info (with include_locale) behind a small cache, so a busy channel costs one lookup per user per hour. A
 * failed lookup answers in English with no admin rights rather than failing the command, and is not cached.
 */
export class UserDirectory {
  readonly #client: webApi.WebClient;
  readonly #log: Logger;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #secrets: readonly (string | null)[];
  readonly #cache = new Map<string, { user: SlackUser; until: number }>();
  readonly #pending = new Map<string, Promise<SlackUser>>();

  constructor(client: webApi.WebClient, log: Logger, options: UserDirectoryOptions = {}) {
    this.#client = client;
    this.#log = log;
    this.#ttlMs = options.ttlMs ?? 3_600_000;
    this.#maxEntries = options.maxEntries ?? 5000;
    this.#secrets = options.secrets ?? [];
  }

  get(userId: string): Promise<SlackUser> {
    const cached = this.#cache.get(userId);
    if (cached && cached.until > Date.now()) return Promise.resolve(cached.user);
    let pending = this.#pending.get(userId);
    if (!pending) {
      pending = this.#lookup(userId).finally(() => this.#pending.delete(userId));
      this.#pending.set(userId, pending);
    }
    return pending;
  }

  async #lookup(userId: string): Promise<SlackUser> {
    try {
      const response = await this.#client.users.info({ user: userId, include_locale: true });
      const info = response.user as UsersInfoUser | undefined;
      if (!info) return UNKNOWN;
      const name = info.profile?.display_name || info.profile?.real_name || info.real_name || info.name || null;
      const user: SlackUser = { locale: localeFrom(info.locale), isAdmin: info.is_admin === true || info.is_owner === true, name };
      if (this.#cache.size >= this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(userId, { user, until: Date.now() + this.#ttlMs });
      return user;
    } catch (error) {
      this.#log.warn({ user: userId, err: safeError(error, this.#secrets) }, 'users.info failed; answering in English');
      return UNKNOWN;
    }
  }
}
