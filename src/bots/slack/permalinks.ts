import type { webApi } from '@slack/bolt';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../logging.ts';
import { slackFailure } from './failure.ts';

/** A Slack permalink we are willing to put inside `<…|…>` markup: https, and none of the characters that end it. */
const SAFE_URL = /^https:\/\/[^\s<>|]+$/;

/**
 * chat.getPermalink behind a cache: a message's permalink never changes, and a busy thread links the same parent
 * card again and again. A failure (the message deleted, the channel gone) is logged, answered with undefined (the
 * caller shows plain text) and not cached, so a later result asks again.
 */
export class Permalinks {
  readonly #client: webApi.WebClient;
  readonly #log: Logger;
  readonly #secrets: readonly (string | null)[];
  readonly #cache: LRUCache<string, string>;

  constructor(client: webApi.WebClient, log: Logger, secrets: readonly (string | null)[], maxEntries = 2000) {
    this.#client = client;
    this.#log = log;
    this.#secrets = secrets;
    this.#cache = new LRUCache<string, string>({
      max: maxEntries,
      fetchMethod: (key) => this.#lookup(key),
    });
  }

  async of(channel: string, ts: string): Promise<string | undefined> {
    return this.#cache.fetch(`${channel} ${ts}`);
  }

  async #lookup(key: string): Promise<string | undefined> {
    const [channel, ts] = key.split(' ') as [string, string];
    try {
      const answer = await this.#client.chat.getPermalink({ channel, message_ts: ts });
      if (answer.permalink && SAFE_URL.test(answer.permalink)) return answer.permalink;
      this.#log.warn({ channel }, 'chat.getPermalink gave no usable link');
    } catch (error) {
      this.#log.warn({ err: slackFailure(error, this.#secrets), channel }, 'chat.getPermalink failed; the parent is named without a link');
    }
    return undefined;
  }
}
