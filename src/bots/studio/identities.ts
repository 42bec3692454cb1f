import { LRUCache } from 'lru-cache';

export interface IdentityOptions {
  /** New identities welcomed per minute (a sliding window). */
  readonly perMinute: number;
  readonly now?: () => number;
}

const WINDOW_MS = 60_000;
/** Identities remembered as seen; far more than one machine's people, few enough to hold in memory. */
const REMEMBERED = 10_000;

/**
 * The studio's users: every browser names itself (a random id in its storage), so a new id is a new user with caps
 * of its own. A script could mint ids to sidestep the per-user caps; new ids are therefore welcomed at a limited
 * rate, while any id seen before is always welcome, so several real tabs and people keep working side by side.
 */
export class StudioIdentities {
  readonly #perMinute: number;
  readonly #now: () => number;
  readonly #seen = new LRUCache<string, true>({ max: REMEMBERED });
  #recent: number[] = [];

  constructor(options: IdentityOptions) {
    this.#perMinute = options.perMinute;
    this.#now = options.now ?? Date.now;
  }

  /** A tab says who it is: a known id, or a new one while the rate allows. */
  admit(userId: string): boolean {
    if (this.#seen.has(userId)) {
      this.#seen.get(userId);
      return true;
    }
    const now = this.#now();
    this.#recent = this.#recent.filter((at) => now - at < WINDOW_MS);
    if (this.#recent.length >= this.#perMinute) return false;
    this.#recent.push(now);
    this.#seen.set(userId, true);
    return true;
  }

  /** An id a tab has presented to this process (uploads are taken only for these). */
  has(userId: string): boolean {
    return this.#seen.has(userId);
  }
}
