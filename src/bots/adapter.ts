import type { JobRecord } from '../engine/history.ts';
import type { ResumeDecision } from '../engine/recovery.ts';

/**
 * A platform adapter as main.ts sees it: started over the shared runtime, asked about jobs found unfinished at
 * start-up, stopped on SIGTERM (after the core has paused and the engine drained).
 */
export interface Adapter {
  readonly platform: string;
  /** Can this job, found waiting or running at start-up, still be delivered? If so, attach its lifecycle. */
  resume(record: JobRecord): ResumeDecision;
  /** Best effort: tell the user about a job that could not be recovered. */
  reportLost(record: JobRecord): Promise<void>;
  /** Close connections and servers. */
  stop(): Promise<void>;
}
