import type { Logger } from '../../logging.ts';
import { fail, ok, type Result } from '../../result.ts';
import { engineError, type EngineError } from '../errors.ts';
import type { JobRecord, JobResultRecord, JobStatus } from '../job.ts';
import type { JobJournal, NewJob } from './journal.ts';

export interface JournalWriterOptions {
  /** First retry after a failed write (ms); doubles up to maxRetryMs. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
}

export const JOURNAL_UNAVAILABLE = engineError(
  'journal-unavailable',
  'The job journal cannot be written (locked by another program, a full disk or a read-only file); new jobs are refused until it can',
);

/**
 * The engine's writes to the journal, made so that a journal that cannot be written — locked by another program, a
 * full disk, a read-only file — never strands a job or blocks the process. A job's state lives in memory and moves
 * on; a state change that cannot be written is kept, in order per job, and retried with backoff until it is. While
 * any is waiting, new jobs are refused with one clear message (their acceptance must be on disk before anyone is told
 * "queued"); running and queued jobs finish and are delivered. SQLite's busy wait is kept short (journal.ts), so a
 * locked file costs a failed attempt, not a frozen event loop.
 */
export class JournalWriter {
  readonly #journal: JobJournal;
  readonly #log: Logger;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  /** Writes not yet on disk, oldest first, per job. */
  readonly #pending = new Map<string, (() => void)[]>();
  #delayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(journal: JobJournal, log: Logger, options: JournalWriterOptions = {}) {
    this.#journal = journal;
    this.#log = log;
    this.#retryMs = options.retryMs ?? 250;
    this.#maxRetryMs = options.maxRetryMs ?? 5000;
    this.#delayMs = this.#retryMs;
    if (!journal.writable) log.error('job journal: the file is read-only; new jobs are refused until it is writable and the bot restarted');
  }

  /** False while some write is waiting to be retried, or for a journal that could only be opened read-only. */
  get healthy(): boolean {
    return this.#pending.size === 0 && this.#journal.writable;
  }

  /** A new job; refused (nothing written, nothing queued) while the journal cannot be written. */
  add(job: NewJob): Result<JobRecord, EngineError> {
    if (!this.healthy) return fail(JOURNAL_UNAVAILABLE);
    try {
      return ok(this.#journal.add(job));
    } catch (error) {
      this.#log.error({ err: error, job: job.id }, 'job journal: cannot record a new job; refusing new jobs until it can');
      return fail(JOURNAL_UNAVAILABLE);
    }
  }

  markRunning(id: string, backend: string | null = null): void {
    const startedAt = Date.now();
    this.#write(id, () => this.#journal.markRunning(id, startedAt, backend));
  }

  markWaiting(id: string): void {
    this.#write(id, () => this.#journal.markWaiting(id));
  }

  finish(id: string, status: JobStatus, detail: { error?: EngineError; result?: JobResultRecord } = {}): void {
    const finishedAt = Date.now();
    this.#write(id, () => this.#journal.finish(id, status, detail, finishedAt));
  }

  setDelivery(id: string, delivery: unknown): void {
    this.#write(id, () => this.#journal.setDelivery(id, delivery));
  }

  /** One last try for what is still waiting; what cannot be written is named in the log. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#retry();
    if (this.#pending.size > 0) {
      this.#log.error({ jobs: [...this.#pending.keys()] }, 'job journal: these jobs’ last state changes could not be written before closing');
    }
  }

  #write(id: string, op: () => void): void {
    const queued = this.#pending.get(id);
    // Order per job: a later change never overtakes an earlier one still waiting. While the journal is failing,
    // nothing is attempted outside the retry loop (each attempt can spend the short busy wait).
    if (queued) {
      queued.push(op);
      return;
    }
    if (this.#pending.size > 0) {
      this.#pending.set(id, [op]);
      return;
    }
    try {
      op();
    } catch (error) {
      this.#log.error({ err: error, job: id }, 'job journal: a write failed; keeping the job in memory and retrying');
      this.#pending.set(id, [op]);
      this.#schedule();
    }
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#retry()) {
        this.#delayMs = this.#retryMs;
        this.#log.info('job journal: writable again; every waiting change is written');
      } else {
        this.#delayMs = Math.min(this.#maxRetryMs, this.#delayMs * 2);
        this.#schedule();
      }
    }, this.#delayMs);
    this.#timer.unref();
  }

  /** Writes what waits, in order, stopping at the first failure (the others would fail alike). True when all went. */
  #retry(): boolean {
    for (const [id, ops] of this.#pending) {
      while (ops.length > 0) {
        try {
          ops[0]!();
        } catch {
          return false;
        }
        ops.shift();
      }
      this.#pending.delete(id);
    }
    return true;
  }
}
