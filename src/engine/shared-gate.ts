import { engineError, type EngineError } from './errors.ts';
import type { LiveJob } from './live-job.ts';
import { userKeyOf } from './request.ts';
import type { Scheduler, SchedulerItem } from './scheduler.ts';

/**
 * Work that is not a job but uses this machine's GPU (a prompt-assistant model served on the same GPU) waits in the
 * same fair queue as the jobs, by the same user key, at a cost of its own. It is not journaled: it lives only as long
 * as its caller waits, so its caller's signal ends it (waiting: it leaves the queue; running: its slot is freed).
 */

/** Who asks and what for; `signal` ends the wait or frees the slot when it aborts. */
export interface SharedCallRequest {
  readonly user: { readonly platform: string; readonly userId: string };
  readonly task: string;
  readonly signal: AbortSignal;
}

/** A shared call waiting in the fair queue. */
export interface SharedCall extends SchedulerItem {
  readonly kind: 'shared';
  readonly task: string;
  /** The dispatcher gave it a slot: it runs now, and calls `release` (once) when it ends. */
  start(release: () => void): void;
  /** It can no longer be served: its caller is told why. */
  refuse(error: EngineError): void;
}

/** Job ids are letters and digits only; a shared call's id has a colon, so the two never meet. */
const SHARED_ID_PREFIX = 'shared:';

/** What waits in the fair queue: jobs, and shared calls among them. */
export type QueueItem = LiveJob | SharedCall;

export const isSharedCall = (item: QueueItem): item is SharedCall => 'kind' in item && item.kind === 'shared';

/** A shared call the engine will not run (it is shutting down, or no local device exists); `error` says why. */
export class SharedCallRefused extends Error {
  override readonly name = 'SharedCallRefused';
  constructor(readonly error: EngineError) {
    super(error.message);
  }
}

export interface SharedGateOptions {
  readonly scheduler: Scheduler<QueueItem>;
  /** What one call costs in the fair queue, in the jobs' cost units. */
  readonly cost: number;
  /** Gives free slots the next work (the dispatcher's pump). */
  readonly pump: () => void;
}

/**
 * Puts shared calls into the fair queue and keeps track of the waiting ones, so that an aborted call leaves the queue
 * and a halt refuses every waiting call rather than leaving it to its deadline. The dispatcher decides when one runs.
 */
export class SharedGate {
  readonly #options: SharedGateOptions;
  readonly #waiting = new Map<string, SharedCall>();
  readonly #waitingByUser = new Map<string, number>();
  #closed: EngineError | undefined;
  #seq = 0;

  constructor(options: SharedGateOptions) {
    if (!(options.cost > 0) || !Number.isFinite(options.cost)) throw new TypeError(`Expected a positive shared-call cost, got ${options.cost}`);
    this.#options = options;
  }

  /** Calls waiting in the queue. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Calls of one user waiting in the queue. */
  waitingOf(userKey: string): number {
    return this.#waitingByUser.get(userKey) ?? 0;
  }

  /**
   * Waits for the dispatcher to give the call a slot, runs `run` holding it, and frees it when `run` settles. Rejects
   * with `signal.reason` when the signal aborts first (waiting or running), with SharedCallRefused after `close`.
   */
  run<T>(request: SharedCallRequest, run: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new SharedCallRefused(this.#closed));
    const { signal } = request;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      let release: (() => void) | undefined;
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        release?.();
        outcome();
      };
      const onAbort = (): void => {
        if (this.#forget(call)) this.#options.scheduler.remove(call.id);
        settle(() => reject(signal.reason));
      };
      const call: SharedCall = {
        kind: 'shared',
        id: `${SHARED_ID_PREFIX}${++this.#seq}`,
        userKey: userKeyOf(request.user),
        cost: this.#options.cost,
        task: request.task,
        start: (free) => {
          this.#forget(call);
          release = free;
          // Settled already (it cannot be: an aborted call left the queue): the slot goes straight back.
          if (settled) return free();
          let result: Promise<T>;
          try {
            result = run();
          } catch (error) {
            result = Promise.reject(error);
          }
          result.then(
            (value) => settle(() => resolve(value)),
            (error: unknown) => settle(() => reject(error)),
          );
        },
        refuse: (error) => {
          this.#forget(call);
          settle(() => reject(new SharedCallRefused(error)));
        },
      };
      this.#waiting.set(call.id, call);
      this.#waitingByUser.set(call.userKey, this.waitingOf(call.userKey) + 1);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#options.scheduler.enqueue(call);
      this.#options.pump();
    });
  }

  /** Refuses every waiting call and every later one with `error`; running calls go on until they end. */
  close(error: EngineError): void {
    this.#closed ??= error;
    for (const call of [...this.#waiting.values()]) {
      this.#options.scheduler.remove(call.id);
      call.refuse(this.#closed);
    }
  }

  /** Takes a call off the waiting list; false when it was not on it (it started, or was refused). */
  #forget(call: SharedCall): boolean {
    if (!this.#waiting.delete(call.id)) return false;
    const left = this.waitingOf(call.userKey) - 1;
    if (left > 0) this.#waitingByUser.set(call.userKey, left);
    else this.#waitingByUser.delete(call.userKey);
    return true;
  }
}

/**
 * The fair queue as job code sees it (queue positions, the waiting caps, stats): the jobs alone, the shared calls
 * among them left out. Shared calls have caps of their own, where they are made.
 */
export function jobsOnly(scheduler: Scheduler<QueueItem>, gate: Pick<SharedGate, 'waiting' | 'waitingOf'>): Scheduler<LiveJob> {
  const isJob = (item: QueueItem | undefined): item is LiveJob => item !== undefined && !isSharedCall(item);
  return {
    get size() {
      return scheduler.size - gate.waiting;
    },
    sizeOf: (userKey) => scheduler.sizeOf(userKey) - gate.waitingOf(userKey),
    enqueue: (job) => scheduler.enqueue(job),
    // A shared call's id is never a job's: only the gate removes one.
    remove: (id) => (id.startsWith(SHARED_ID_PREFIX) ? undefined : (scheduler.remove(id) as LiveJob | undefined)),
    next: (eligible = () => true) => {
      const item = scheduler.next((i) => isJob(i) && eligible(i));
      return isJob(item) ? item : undefined;
    },
    refund: (userKey, cost) => scheduler.refund(userKey, cost),
    order: () => scheduler.order().filter(isJob),
  };
}

/** The refusal of a shared call where no local device runs work (every device is a ComfyUI server). */
export const NO_LOCAL_DEVICE = engineError(
  'no-backend',
  'No local device runs image jobs here, so nothing shares a GPU with the prompt assistant; set assistant.sharesGpu to false',
);
