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
  readonly #ids: Set<string>;

  private constructor(file: string, ids: Set<string>) {
    this.#file = file;
    this.#ids = ids;
  }

  static open(file: string): DeletedJobs {
    let ids: string[] = [];
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (Array.isArray(parsed)) ids = parsed.filter((id): id is string => typeof id === 'string' && JOB_ID.test(id));
    } catch {
      // First start, or an unreadable file: nothing is hidden.
    }
    return new DeletedJobs(file, new Set(ids));
  }

  has(jobId: string): boolean {
    return this.#ids.has(jobId);
  }

  add(jobId: string): void {
    if (this.#ids.has(jobId)) return;
    this.#ids.add(jobId);
    while (this.#ids.size > MAX_IDS) this.#ids.delete(this.#ids.values().next().value!);
    mkdirSync(dirname(this.#file), { recursive: true });
    const temp = `${this.#file}.tmp`;
    writeFileSync(temp, JSON.stringify([...this.#ids]));
    renameSync(temp, this.#file);
  }
}
