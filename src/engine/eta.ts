import type { Role } from '../config/schema.ts';

/**
 * Seconds per cost unit as exponential moving averages of observed runs: per role (model profile), and per role on
 * each backend, since two GPU servers (or a server and a CPU) run the same job at different speeds. A backend with no
 * history of a role yet is estimated from the role's average over every backend. ETAs are estimated durations of the
 * work ahead, laid onto the backends' slots in queue order.
 */
export class EtaModel {
  readonly #rate = new Map<string, number>();
  readonly #initial: number;
  readonly #smoothing: number;

  constructor(options: { readonly initialSecondsPerCost: number; readonly smoothing: number }) {
    this.#initial = options.initialSecondsPerCost;
    this.#smoothing = options.smoothing;
  }

  observe(role: Role, cost: number, seconds: number, backend?: string): void {
    if (!(cost > 0) || !(seconds >= 0)) return;
    const sample = seconds / cost;
    for (const key of backend === undefined ? [role] : [role, `${backend}\u0000${role}`]) {
      const current = this.#rate.get(key);
      this.#rate.set(key, current === undefined ? sample : current + this.#smoothing * (sample - current));
    }
  }

  seconds(role: Role, cost: number, backend?: string): number {
    return this.secondsPerCost(role, backend) * cost;
  }

  secondsPerCost(role: Role, backend?: string): number {
    return (backend === undefined ? undefined : this.#rate.get(`${backend}\u0000${role}`)) ?? this.#rate.get(role) ?? this.#initial;
  }
}

/**
 * When each waiting job would start, in seconds from now: workers become free after their running job's remaining
 * time, and each job in order takes the earliest free worker.
 */
export function startTimes(runningRemaining: readonly number[], workers: number, durations: readonly number[]): number[] {
  const free = Array.from({ length: Math.max(1, workers) }, (_, i) => runningRemaining[i] ?? 0);
  return durations.map((duration) => {
    let best = 0;
    for (let i = 1; i < free.length; i++) if (free[i]! < free[best]!) best = i;
    const start = free[best]!;
    free[best] = start + duration;
    return start;
  });
}

/** One slot of a backend: when it is free (seconds from now) and how long a job takes there. */
export interface Slot {
  freeAt: number;
  readonly backend: string;
}

/**
 * The same over backends of different speeds that may not serve every job: each job in order takes the slot, among
 * those whose backend serves it, where it would finish first (the earlier start between equal finishes), and starts
 * when that slot is free. A job no slot
 * serves (its servers are down) is placed as if any could take it.
 */
export function startTimesOnSlots<J>(slots: Slot[], jobs: readonly J[], duration: (job: J, backend: string) => number, serves: (job: J, backend: string) => boolean): number[] {
  if (slots.length === 0) slots.push({ freeAt: 0, backend: '' });
  return jobs.map((job) => {
    const candidates = slots.filter((slot) => serves(job, slot.backend));
    let best: Slot | undefined;
    let bestEnd = Infinity;
    for (const slot of candidates.length > 0 ? candidates : slots) {
      const end = slot.freeAt + duration(job, slot.backend);
      // The earliest finish; between equal finishes, the earlier start.
      if (end < bestEnd || (end === bestEnd && best !== undefined && slot.freeAt < best.freeAt)) {
        bestEnd = end;
        best = slot;
      }
    }
    const start = best!.freeAt;
    best!.freeAt = bestEnd;
    return start;
  });
}
