import type { Logger } from '../../logging.ts';

/**
 * Live vote counts without flooding a platform: the first change to a result is shown at once, later ones at most
 * once per interval per result, always the newest count (it is read when the edit goes out, not when it was asked).
 * An edit that fails is logged; the next change tries again.
 */
export class VoteRefresher {
  readonly #intervalMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #jobs = new Map<string, { lastSent: number; timer?: NodeJS.Timeout; edit?: () => Promise<void>; running?: Promise<void> }>();

  constructor(options: { readonly intervalMs: number; readonly log: Logger; readonly now?: () => number }) {
    this.#intervalMs = options.intervalMs;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  /** Asks for the result to be re-shown; `edit` re-renders from the journal at the moment it runs. */
  schedule(jobId: string, edit: () => Promise<void>): void {
    const state = this.#jobs.get(jobId) ?? { lastSent: Number.NEGATIVE_INFINITY };
    this.#jobs.set(jobId, state);
    state.edit = edit;
    if (state.timer) return;
    const due = Math.max(0, state.lastSent + this.#intervalMs - this.#now());
    state.timer = setTimeout(() => this.#flush(jobId), due);
  }

  #flush(jobId: string): void {
    const state = this.#jobs.get(jobId);
    if (!state?.edit) return;
    const edit = state.edit;
    state.edit = undefined;
    state.timer = undefined;
    state.lastSent = this.#now();
    // One edit of a result at a time, in order: an earlier, slower edit never lands after a newer one.
    state.running = (state.running ?? Promise.resolve())
      .then(edit)
      .catch((error: unknown) => this.#log.warn({ job: jobId, err: error }, 'could not show new votes'))
      .finally(() => {
        if (!state.timer && !state.edit) this.#forgetLater(jobId, state);
      });
  }

  /** Drops a result's state once a whole interval passed with nothing new: memory stays bounded by the active ones. */
  #forgetLater(jobId: string, state: object): void {
    setTimeout(() => {
      const current = this.#jobs.get(jobId);
      if (current === state && !current.timer && !current.edit) this.#jobs.delete(jobId);
    }, this.#intervalMs).unref();
  }

  /** Sends every pending edit now (shutdown). */
  async flushAll(): Promise<void> {
    for (const [jobId, state] of this.#jobs) {
      if (state.timer) {
        clearTimeout(state.timer);
        this.#flush(jobId);
      }
    }
    await Promise.all([...this.#jobs.values()].map((s) => s.running));
  }
}
