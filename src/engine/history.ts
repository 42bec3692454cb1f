import type { Role } from '../config/schema.ts';
import type { JobRecord, JobScope } from './job.ts';
import type { JobOwner } from './request.ts';

export type { JobRecord, JobResultRecord, JobScope, JobStatus } from './job.ts';

export interface LatestQuery {
  readonly owner: JobOwner;
  /** Any of these roles (the newest of them wins). */
  readonly roles: readonly Role[];
  readonly scope: JobScope;
}

export interface RecentQuery {
  readonly limit: number;
  /** Only jobs asked for on this platform (and, when given, in this workspace and channel). */
  readonly platform?: string;
  readonly scope?: JobScope;
}

/**
 * The engine's jobs, read-only: what adapters and the core may look up (a job by id, a user's latest result in a
 * channel, a channel's recent jobs). Writes stay with the engine.
 */
export interface JobHistory {
  get(id: string): JobRecord | undefined;
  /** The owner's newest finished (done) job of one of the roles, in one scope. */
  latestDone(query: LatestQuery): JobRecord | undefined;
  /** Newest first. */
  recent(query: RecentQuery): JobRecord[];
  /** The jobs made from a job (its refines, varies, edits, rerolls), oldest first. */
  children(jobId: string): JobRecord[];
}
