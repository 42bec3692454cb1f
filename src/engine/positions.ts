import { startTimes, type EtaModel } from './eta.ts';
import { remainingByProgress, type LiveJob, type RunningJob } from './live-job.ts';
import type { Scheduler } from './scheduler.ts';

export interface PositionsOptions {
  readonly scheduler: Scheduler<LiveJob>;
  readonly eta: EtaModel;
  readonly running: () => Iterable<RunningJob>;
  /** Slots the backends have in all, busy or not. */
  readonly slots: () => number;
  /** ETA changes are re-sent at most this often per job (ms); a change of place always goes out. */
  readonly updateIntervalMs: number;
}

/**
 * Tells every waiting job its place in the queue and when it should start: the running jobs' remaining time by
 * their progress, then each waiting job, in the scheduler's order, on the earliest free slot. Only changes are
 * sent, and refreshes asked for in one turn of the event loop are done once.
 */
export class Positions {
  readonly #options: PositionsOptions;
  #pending = false;

  constructor(options: PositionsOptions) {
    this.#options = options;
  }

  /** A refresh on the next turn of the event loop (coalesced). */
  schedule(): void {
    if (this.#pending) return;
    this.#pending = true;
    setImmediate(() => {
      this.#pending = false;
      this.refresh(false);
    });
  }

  /** `force`: also announce jobs that were never told anything (a job just queued). */
  refresh(force: boolean): void {
    const { scheduler, eta, updateIntervalMs } = this.#options;
    const now = Date.now();
    const order = scheduler.order();
    const remaining = [...this.#options.running()].map((r) => {
      const estimate = eta.seconds(r.job.record.role, r.job.cost);
      const elapsed = (now - r.startedAt) / 1000;
      const byProgress = r.step > 0 ? remainingByProgress(elapsed, r.step, r.total) : estimate - elapsed;
      return Math.max(0, byProgress);
    });
    const starts = startTimes(
      remaining,
      this.#options.slots(),
      order.map((job) => eta.seconds(job.record.role, job.cost)),
    );
    order.forEach((job, i) => {
      const position = i + 1;
      const etaMs = Math.round(starts[i]! * 1000);
      const moved = position !== job.lastPosition;
      const drifted = Math.abs(etaMs - job.lastEtaMs) > 1000 && now - job.lastSentAt >= updateIntervalMs;
      if (!moved && !drifted && !(force && job.lastSentAt === 0)) return;
      job.lastPosition = position;
      job.lastEtaMs = etaMs;
      job.lastSentAt = now;
      job.handle.emit({ type: 'queued', position, etaMs });
    });
  }
}
