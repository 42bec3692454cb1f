import type { webApi } from '@slack/bolt';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../logging.ts';
import { localeFrom, type Locale } from '../core/command.ts';
import { slackError } from './failure.ts';

/** What the bot needs to know about a Slack user: their language, whether they administer the workspace, a name. */
export interface SlackUser {
  readonly locale: Locale;
  /** Workspace admins and owners (users.info is_admin, is_owner): they may cancel or delete anyone's job and set a channel's settings. */
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
  readonly #secrets: readonly (string | null)[];
  /** Concurrent look-ups of one user share one call (lru-cache's fetch); a failed one is not cached. */
  readonly #cache: LRUCache<string, SlackUser>;

  constructor(client: webApi.WebClient, log: Logger, options: UserDirectoryOptions = {}) {
    this.#client = client;
    this.#log = log;
    this.#secrets = options.secrets ?? [];
    this.#cache = new LRUCache<string, SlackUser>({
      max: options.maxEntries ?? 5000,
      ttl: options.ttlMs ?? 3_600_000,
      fetchMethod: (userId) => this.#lookup(userId),
    });
  }

  async get(userId: string): Promise<SlackUser> {
    return (await this.#cache.fetch(userId)) ?? UNKNOWN;
  }

  /** The user within a deadline (a modal must open within 3 s of the click); unknown (English, no rights) past it. */
  async within(userId: string, ms: number): Promise<SlackUser> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<SlackUser>((resolve) => {
      timer = setTimeout(() => resolve(UNKNOWN), ms);
    });
    try {
      return await Promise.race([this.get(userId), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** undefined: not cached (the next request asks again). */
  async #lookup(userId: string): Promise<SlackUser | undefined> {
    try {
      const response = await this.#client.users.info({ user: userId, include_locale: true });
      const info = response.user as UsersInfoUser | undefined;
      if (!info) return undefined;
      const name = info.profile?.display_name || info.profile?.real_name || info.real_name || info.name || null;
      return { locale: localeFrom(info.locale), isAdmin: info.is_admin === true || info.is_owner === true, name };
    } catch (error) {
      this.#log.warn({ user: userId, err: slackError(error, this.#secrets) }, 'users.info failed; answering in English');
      return undefined;
    }
  }
}
