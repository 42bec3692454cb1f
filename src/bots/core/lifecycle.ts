import sharp from 'sharp';
import type { JobEvent, JobHandle } from '../../engine/job-handle.ts';
import type { RgbPixels } from '../../engine/pipeline.ts';
import type { Logger } from '../../logging.ts';
import { renderFinal, renderResult, renderStatus, type JobView } from './render.ts';
import type { Reply, ReplyImage, ReplySink } from './reply.ts';

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

  let preview: { pixels: RgbPixels; png?: Promise<ReplyImage> } | undefined;
  const withPreview = async (reply: Reply, shown: typeof preview): Promise<Reply> => {
    if (reply.kind !== 'status' || reply.phase !== 'running' || !shown) return reply;
    shown.png ??= previewImage(shown.pixels, view.jobId);
    return { ...reply, preview: await shown.png };
  };
  const send = (reply: Reply): void => {
    // The preview as it is now, not as it may be when this reply's turn comes.
    const shown = preview;
    chain = chain.then(() =>
      withPreview(reply, shown)
        .then(sink)
        .catch((error: unknown) => options.log.warn({ job: view.jobId, kind: reply.kind, err: error }, 'could not update the job message')),
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
        if (event.type === 'progress' && event.preview) preview = { pixels: event.preview };
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

/** Previews come at latent resolution (one pixel per cell): scaled up softly to a size chat clients show well. */
async function previewImage(pixels: RgbPixels, jobId: string): Promise<ReplyImage> {
  const scale = Math.max(1, Math.floor(256 / Math.max(pixels.width, pixels.height)));
  const png = await sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: 3 } })
    .resize(pixels.width * scale, pixels.height * scale, { kernel: 'cubic' })
    .png()
    .toBuffer();
  return { name: `${jobId}-preview.png`, png, spoiler: false, alt: 'preview' };
}
