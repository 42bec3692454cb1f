import type { Role } from '../config/schema.ts';

/**
 * Seconds per cost unit, per role (model profile), as an exponential moving average of observed runs. ETAs are
 * estimated durations of the work ahead, laid onto the workers in queue order.
 */
export class EtaModel {
  readonly #rate = new Map<Role, number>();
  readonly #initial: number;
  readonly #smoothing: number;

  constructor(options: { readonly initialSecondsPerCost: number; readonly smoothing: number }) {
    this.#initial = options.initialSecondsPerCost;
    this.#smoothing = options.smoothing;
  }

  observe(role: Role, cost: number, seconds: number): void {
    if (!(cost > 0) || !(seconds >= 0)) return;
    const sample = seconds / cost;
    const current = this.#rate.get(role);
    this.#rate.set(role, current === undefined ? sample : current + this.#smoothing * (sample - current));
  }

  seconds(role: Role, cost: number): number {
    return (this.#rate.get(role) ?? this.#initial) * cost;
  }

  secondsPerCost(role: Role): number {
    return this.#rate.get(role) ?? this.#initial;
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
