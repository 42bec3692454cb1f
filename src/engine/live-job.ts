import type { Backend } from './backend.ts';
import type { JobHandle } from './job-handle.ts';
import type { JobRecord } from './job.ts';
import type { SchedulerItem } from './scheduler.ts';

/** A job the engine holds in memory while it waits or runs. */
export interface LiveJob extends SchedulerItem {
  readonly record: JobRecord;
  readonly handle: JobHandle;
  readonly enqueuedAt: number;
  /** What was last announced to it while waiting (positions.ts sends only changes). */
  lastPosition: number;
  lastEtaMs: number;
  lastSentAt: number;
}

/** A live job on a backend. */
export interface RunningJob {
  readonly job: LiveJob;
  readonly backend: Backend;
  readonly run: number;
  readonly startedAt: number;
  step: number;
  total: number;
  cancelRequested: boolean;
}

/** What is left of a running job, if the remaining steps take as long as the done ones (same unit as `elapsed`). */
export const remainingByProgress = (elapsed: number, step: number, total: number): number => (elapsed / step) * (total - step);
