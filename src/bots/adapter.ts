import type { ResumeDecision } from '../engine/engine.ts';
import type { JobRecord } from '../engine/journal.ts';

/**
 * A platform adapter as main.ts sees it: started over the shared runtime, asked about jobs found unfinished at
 * start-up, stopped on SIGTERM.
 */
export interface Adapter {
  readonly platform: string;
  /** Can this job, found waiting or running at start-up, still be delivered? If so, attach its lifecycle. */
  resume(record: JobRecord): ResumeDecision;
  /** Best effort: tell the user about a job that could not be recovered. */
  reportLost(record: JobRecord): Promise<void>;
  /** Stop taking new commands (before the engine drains). */
  pause(): Promise<void>;
  /** Close connections and servers (after the engine has drained). */
  stop(): Promise<void>;
}
