import { LRUCache } from 'lru-cache';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { JOB_ID } from './protocol.ts';

/** Enough for years of local use; the oldest ids go first past it. */
const MAX_IDS = 20_000;

/**
 * Jobs their owner deleted from the studio. On Discord and Slack a delete removes the messages; the studio's
 * messages are its history, read from the journal, which keeps every job. So the studio remembers what it must no
 * longer show, in DATA_DIR/studio/deleted.json, written whole and renamed into place.
 */
export class DeletedJobs {
  readonly #file: string;
  readonly #ids = new LRUCache<string, true>({ max: MAX_IDS });

  private constructor(file: string, ids: readonly string[]) {
    this.#file = file;
    for (const id of ids) this.#ids.set(id, true);
  }

  static open(file: string): DeletedJobs {
    let ids: string[] = [];
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (Array.isArray(parsed)) ids = parsed.filter((id): id is string => typeof id === 'string' && JOB_ID.test(id));
    } catch {
      // First start, or an unreadable file: nothing is hidden.
    }
    return new DeletedJobs(file, ids);
  }

  has(jobId: string): boolean {
    return this.#ids.has(jobId);
  }

  add(jobId: string): void {
    if (this.#ids.has(jobId)) return;
    this.#ids.set(jobId, true);
    mkdirSync(dirname(this.#file), { recursive: true, mode: 0o700 });
    const temp = `${this.#file}.tmp`;
    // Oldest first, as they are read back in.
    writeFileSync(temp, JSON.stringify([...this.#ids.rkeys()]), { mode: 0o600 });
    renameSync(temp, this.#file);
  }
}
