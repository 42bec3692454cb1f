import type { JobHistory, JobRecord } from '../../engine/history.ts';
import { fail, ok, type Result } from '../../result.ts';
import type { ImageSource } from '../core/command.ts';
import type { CoreError } from '../core/errors.ts';

/** The fields of a Slack file object the bot reads. */
export interface SlackFile {
  readonly id?: string;
  readonly name?: string;
  readonly mimetype?: string;
  /** Who uploaded it. */
  readonly user?: string;
  readonly url_private?: string;
  readonly url_private_download?: string;
}

/** The image files of a message (files of other kinds ignored), in the message's order. */
export function imageFilesOf(message: { readonly files?: unknown } | undefined): SlackFile[] {
  const files = message?.files;
  if (!Array.isArray(files)) return [];
  return files.filter((f): f is SlackFile => typeof f === 'object' && f !== null && typeof (f as SlackFile).mimetype === 'string' && (f as SlackFile).mimetype!.startsWith('image/'));
}

/** Which image an edit starts from. */
export type SourceResult = Result<ImageSource, CoreError>;

const delivered = (record: JobRecord): number[] => record.result?.images.filter((i) => !i.withheld).map((i) => i.index) ?? [];

/**
 * Turns an image the bot posted back into its job (so the edit knows the prompts that made it), by the file name the
 * bot gave it (`<job>-<n>.png`: that candidate; `<job>-grid.png`: the whole result, whose candidates the core picks)
 * and the uploader, checked against the job history. `candidates` lists what a grid delivered.
 */
export function ownImage(file: SlackFile, botUserId: string | undefined, history: JobHistory): { source: ImageSource; candidates: readonly number[] } | undefined {
  if (!botUserId || file.user !== botUserId || !file.name) return undefined;
  const match = /^([A-Za-z0-9]{4,32})-(grid|\d+)\.png$/.exec(file.name);
  const record = match ? history.get(match[1]!) : undefined;
  if (!match || !record) return undefined;
  if (match[2] !== 'grid') return { source: { jobId: record.id, index: Number(match[2]) - 1 }, candidates: [] };
  return { source: { jobId: record.id }, candidates: delivered(record) };
}

/** An edit's starting image: the bot's own (a result or one of its candidates) when it is one, else the file to download. */
export function sourceFor(file: SlackFile, from: { readonly history: JobHistory; readonly botUserId: string }): SourceResult {
  const own = ownImage(file, from.botUserId, from.history)?.source;
  if (own) return ok(own);
  const url = file.url_private_download ?? file.url_private;
  return url ? ok({ url }) : fail({ code: 'attachment-fetch' });
}
