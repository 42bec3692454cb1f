import { startTimesOnSlots, type EtaModel, type Slot } from './eta.ts';
import { remainingByProgress, type LiveJob, type RunningJob } from './live-job.ts';
import type { Scheduler } from './scheduler.ts';

/** A backend as queue positions see it: its slots, and whether it can take a job. */
export interface SlotSource {
  readonly name: string;
  readonly capacity: number;
  serves(job: LiveJob): boolean;
}

export interface PositionsOptions {
  readonly scheduler: Scheduler<LiveJob>;
  readonly eta: EtaModel;
  readonly running: () => Iterable<RunningJob>;
  /** The backends, each with its slots (busy or not). */
  readonly backends: () => readonly SlotSource[];
  /** ETA changes are re-sent at most this often per job (ms); a change of place always goes out. */
  readonly updateIntervalMs: number;
}

/**
 * Tells every waiting job its place in the queue and when it should start: each backend's slots are free once their
 * running jobs' remaining time (by progress) has passed, then each waiting job, in the scheduler's order, takes the
 * slot where it would finish first, at that backend's own speed. Only changes are sent, and refreshes asked for in
 * one turn of the event loop are done once.
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
    if (order.length === 0) return;
    const backends = this.#options.backends();
    const busy = new Map<string, number[]>();
    for (const r of this.#options.running()) {
      const estimate = eta.seconds(r.job.record.role, r.job.cost, r.backend.name);
      const elapsed = (now - r.startedAt) / 1000;
      const byProgress = r.step > 0 ? remainingByProgress(elapsed, r.step, r.total) : estimate - elapsed;
      busy.set(r.backend.name, [...(busy.get(r.backend.name) ?? []), Math.max(0, byProgress)]);
    }
    const slots: Slot[] = backends.flatMap((b) => {
      const remaining = busy.get(b.name) ?? [];
      return Array.from({ length: Math.max(1, b.capacity, remaining.length) }, (_, i) => ({ freeAt: remaining[i] ?? 0, backend: b.name }));
    });
    const byName = new Map(backends.map((b) => [b.name, b]));
    const starts = startTimesOnSlots(
      slots,
      order,
      (job, backend) => eta.seconds(job.record.role, job.cost, backend || undefined),
      (job, backend) => byName.get(backend)?.serves(job) ?? false,
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
