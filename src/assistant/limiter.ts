import PQueue from 'p-queue';
import { fail, ok, type Result } from '../result.ts';

/** Why a call was not admitted: the asker has `perUser` calls in flight, or `maxWaiting` calls wait already. */
export interface LimitRefusal {
  readonly scope: 'user' | 'all';
  readonly max: number;
}

export interface LimiterOptions {
  /** Calls running at once. */
  readonly maxConcurrent: number;
  /** Calls waiting for a slot at once; past it a call is refused at once. */
  readonly maxWaiting: number;
  /** Calls of one key (user) at once, waiting ones included. */
  readonly perUser: number;
}

/** The call's signal ended it, waiting for a slot or running. */
export class CallAborted extends Error {
  override readonly name = 'CallAborted';
  constructor(readonly reason: unknown) {
    super('the call was aborted');
  }
}

/**
 * A global concurrency limit (p-queue, first come first served) with a per-user cap counted on admission, so one
 * person cannot fill the queue and a slow server makes people wait in a bounded line rather than pile up.
 */
export class KeyedLimiter {
  readonly #queue: PQueue;
  readonly #options: LimiterOptions;
  readonly #inFlight = new Map<string, number>();

  constructor(options: LimiterOptions) {
    this.#options = options;
    this.#queue = new PQueue({ concurrency: options.maxConcurrent });
  }

  /** Calls running now. */
  get running(): number {
    return this.#queue.pending;
  }

  /** Calls waiting for a slot now. */
  get waiting(): number {
    return this.#queue.size;
  }

  /**
   * Runs `task` once a slot is free, or refuses at once. A `signal` that aborts ends the call, waiting or running
   * (the promise rejects with CallAborted, and the slot is free at once): the task should end on it too.
   */
  async run<T>(key: string, task: () => Promise<T>, signal?: AbortSignal): Promise<Result<T, LimitRefusal>> {
    const { perUser, maxWaiting, maxConcurrent } = this.#options;
    const mine = this.#inFlight.get(key) ?? 0;
    if (mine >= perUser) return fail({ scope: 'user', max: perUser });
    if (this.#queue.pending >= maxConcurrent && this.#queue.size >= maxWaiting) return fail({ scope: 'all', max: maxWaiting });
    this.#inFlight.set(key, mine + 1);
    try {
      const value = await this.#queue.add(task, signal ? { signal } : {}).catch((error: unknown) => {
        if (signal?.aborted && error === signal.reason) throw new CallAborted(signal.reason);
        throw error;
      });
      return ok(value);
    } finally {
      const left = (this.#inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(key, left);
      else this.#inFlight.delete(key);
    }
  }
}
