import type { JobEvent, JobHandle } from '../../engine/job-handle.ts';
import type { Logger } from '../../logging.ts';
import { renderFinal, renderResult, renderStatus, type JobView } from './render.ts';
import type { Reply, ReplySink } from './reply.ts';

export interface FollowOptions {
  /** Status edits at most this often (platform rate limits; Discord and Slack both like ~2 s). */
  readonly minIntervalMs: number;
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * The job → message lifecycle: queued (position, ETA) → running k/N → done | blocked | failed | cancelled.
 * Status updates are coalesced to one per interval (the latest wins), sink calls never overlap, and the final
 * reply always goes out after every status before it. Resolves when the final reply has been handed to the sink.
 */
export function followJob(handle: JobHandle, view: JobView, sink: ReplySink, options: FollowOptions): Promise<void> {
  const now = options.now ?? Date.now;
  let chain: Promise<void> = Promise.resolve();
  let lastSent = 0;
  let pending: Reply | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastPhase: string | undefined;

  const send = (reply: Reply): void => {
    chain = chain.then(() =>
      sink(reply).catch((error: unknown) => options.log.warn({ job: view.jobId, kind: reply.kind, err: error }, 'could not update the job message')),
    );
  };
  const flush = (): void => {
    timer = undefined;
    if (!pending) return;
    const reply = pending;
    pending = undefined;
    lastSent = now();
    send(reply);
  };

  return new Promise((resolve) => {
    const onEvent = (event: JobEvent): void => {
      if (event.type === 'queued' || event.type === 'started' || event.type === 'progress') {
        pending = renderStatus(event, view, now());
        const phase = event.type === 'queued' ? 'queued' : 'running';
        // A change of phase goes out at once; within a phase, at most one edit per interval.
        const due = phase !== lastPhase ? 0 : Math.max(0, lastSent + options.minIntervalMs - now());
        lastPhase = phase;
        if (due === 0) {
          if (timer) clearTimeout(timer);
          flush();
        } else if (!timer) {
          timer = setTimeout(flush, due);
        }
        return;
      }
      if (timer) clearTimeout(timer);
      pending = undefined;
      send(event.type === 'done' ? renderResult(event.result, view) : renderFinal(event, view));
      void chain.then(resolve);
    };
    if (handle.last) onEvent(handle.last);
    if (!handle.finished) handle.subscribe(onEvent);
  });
}
