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

/** One of the bot's grids with several candidates: the user must say which. */
export interface PickNeeded {
  readonly pick: { readonly jobId: string; readonly indices: readonly number[] };
}

/** Which image an edit starts from. */
export type SourceResult = Result<ImageSource, CoreError | PickNeeded>;

const delivered = (record: JobRecord): number[] => record.result?.images.filter((i) => !i.withheld).map((i) => i.index) ?? [];

/**
 * Turns an image the bot posted back into `{jobId, index}` (so the edit knows the prompt that made it), by the file
 * name the bot gave it (`<job>-<n>.png`, `<job>-grid.png`) and the uploader, checked against the job history.
 */
export function ownImage(file: SlackFile, botUserId: string | undefined, history: JobHistory, candidate?: number): SourceResult | undefined {
  if (!botUserId || file.user !== botUserId || !file.name) return undefined;
  const match = /^([A-Za-z0-9]{4,32})-(grid|\d+)\.png$/.exec(file.name);
  const record = match ? history.get(match[1]!) : undefined;
  if (!match || !record) return undefined;
  const indices = delivered(record);
  if (match[2] !== 'grid') return ok({ jobId: record.id, index: Number(match[2]) - 1 });
  if (candidate !== undefined && indices.includes(candidate)) return ok({ jobId: record.id, index: candidate });
  if (indices.length === 1) return ok({ jobId: record.id, index: indices[0]! });
  return fail({ pick: { jobId: record.id, indices } });
}

/** An edit's starting image: the bot's own (by job and candidate) when it is one, else the file to download. */
export function sourceFor(file: SlackFile, from: { readonly history: JobHistory; readonly botUserId: string; readonly candidate?: number }): SourceResult {
  const own = ownImage(file, from.botUserId, from.history, from.candidate);
  if (own) return own;
  const url = file.url_private_download ?? file.url_private;
  return url ? ok({ url }) : fail({ code: 'attachment-fetch' });
}
