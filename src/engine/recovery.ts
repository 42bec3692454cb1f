import type { Logger } from '../logging.ts';
import { engineError } from './errors.ts';
import type { JobHandle } from './job-handle.ts';
import type { JobRecord } from './job.ts';
import type { JournalWriter } from './journal/journal-writer.ts';

/** What an adapter says about a job found unfinished at start-up. */
export type ResumeDecision =
  | { readonly resume: true; readonly attach: (handle: JobHandle) => void }
  | { readonly resume: false; readonly reason: string };

export interface RecoveryDeps {
  readonly unfinished: () => readonly JobRecord[];
  readonly journal: JournalWriter;
  readonly isLive: (id: string) => boolean;
  readonly enqueue: (record: JobRecord) => JobHandle;
  readonly log: Logger;
}

/**
 * Start-up recovery: jobs that were waiting or running when the process died. Whoever asked for each (its adapter)
 * decides whether it can still deliver; those are queued again, the rest failed with the reason, so none vanishes
 * silently.
 */
export function recoverJobs(deps: RecoveryDeps, decide: (record: JobRecord) => ResumeDecision): { resumed: JobHandle[]; failed: JobRecord[] } {
  const resumed: JobHandle[] = [];
  const failed: JobRecord[] = [];
  for (const record of deps.unfinished()) {
    if (deps.isLive(record.id)) continue;
    let decision: ResumeDecision;
    try {
      decision = decide(record);
    } catch (error) {
      decision = { resume: false, reason: `recovery failed: ${(error as Error).message}` };
    }
    if (!decision.resume) {
      const error = engineError('lost-on-restart', `The bot restarted and cannot deliver this job any more: ${decision.reason}`, {
        reason: decision.reason,
      });
      deps.journal.finish(record.id, 'failed', { error });
      failed.push({ ...record, status: 'failed', error });
      continue;
    }
    deps.journal.markWaiting(record.id);
    const handle = deps.enqueue({ ...record, status: 'waiting' });
    decision.attach(handle);
    resumed.push(handle);
  }
  if (resumed.length + failed.length > 0) deps.log.info({ resumed: resumed.length, failed: failed.length }, 'recovered unfinished jobs');
  return { resumed, failed };
}
