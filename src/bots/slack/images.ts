import { fetchImage, type FetchPolicy } from '../core/attachments.ts';
import type { ImageSource } from '../core/command.ts';
import type { CoreError } from '../core/errors.ts';
import type { JobJournal, JobRecord } from '../../engine/journal.ts';
import type { JobOwner } from '../../engine/request.ts';

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

/** How an edit learned which image to start from. */
export type SourceResult =
  | { readonly ok: true; readonly source: ImageSource }
  | { readonly ok: false; readonly error: CoreError }
  /** One of the bot's grids with several candidates: the user must say which. */
  | { readonly ok: false; readonly pick: { readonly jobId: string; readonly indices: readonly number[] } };

const delivered = (record: JobRecord): number[] => record.result?.images.filter((i) => !i.withheld).map((i) => i.index) ?? [];

/**
 * Turns an image the bot posted back into `{jobId, index}` (so the edit knows the prompt that made it), by the file
 * name the bot gave it (`<job>-<n>.png`, `<job>-grid.png`) and the uploader, checked against the journal.
 */
export function ownImage(file: SlackFile, botUserId: string | undefined, journal: JobJournal, candidate?: number): SourceResult | undefined {
  if (!botUserId || file.user !== botUserId || !file.name) return undefined;
  const match = /^([A-Za-z0-9]{4,32})-(grid|\d+)\.png$/.exec(file.name);
  const record = match ? journal.get(match[1]!) : undefined;
  if (!match || !record) return undefined;
  const indices = delivered(record);
  if (match[2] !== 'grid') return { ok: true, source: { jobId: record.id, index: Number(match[2]) - 1 } };
  if (candidate !== undefined && indices.includes(candidate)) return { ok: true, source: { jobId: record.id, index: candidate } };
  if (indices.length === 1) return { ok: true, source: { jobId: record.id, index: indices[0]! } };
  return { ok: false, pick: { jobId: record.id, indices } };
}

/** Downloads a user's image from Slack's file servers only, with the bot token, a byte cap and sniffing. */
export async function downloadImage(file: SlackFile, policy: FetchPolicy): Promise<SourceResult> {
  const url = file.url_private_download ?? file.url_private;
  if (!url) return { ok: false, error: { code: 'attachment-fetch' } };
  const fetched = await fetchImage(url, policy);
  return fetched.ok ? { ok: true, source: { bytes: fetched.bytes } } : { ok: false, error: fetched.error };
}

/** The user's newest delivered image in a channel (for /edit, which cannot carry a file). */
export function latestOwnImage(journal: JobJournal, owner: JobOwner, channel: string): ImageSource | undefined {
  const latest = (['draft', 'refine', 'edit'] as const)
    .map((role) => journal.latestDone(owner, role, channel))
    .filter((r): r is JobRecord => r !== undefined && delivered(r).length > 0)
    .sort((a, b) => b.seq - a.seq)[0];
  return latest ? { jobId: latest.id, index: delivered(latest)[0]! } : undefined;
}

/** The download policy: Slack's file hosts plus SLACK_API_URL's host, the bot token as a bearer. */
export function downloadPolicy(options: { readonly fileHosts: readonly string[]; readonly apiUrl: string; readonly botToken: string; readonly maxBytes: number }): FetchPolicy {
  const api = new URL(options.apiUrl);
  return {
    allowedHosts: [...options.fileHosts, api.hostname],
    insecureHosts: api.protocol === 'http:' ? [api.hostname] : [],
    maxBytes: options.maxBytes,
    headers: { Authorization: `Bearer ${options.botToken}` },
  };
}

/** An edit's starting image: the bot's own (by job and candidate) when it is one, else the downloaded bytes. */
export async function sourceFor(
  file: SlackFile,
  from: { readonly journal: JobJournal; readonly botUserId: string; readonly policy: FetchPolicy; readonly candidate?: number },
): Promise<SourceResult> {
  return ownImage(file, from.botUserId, from.journal, from.candidate) ?? downloadImage(file, from.policy);
}
