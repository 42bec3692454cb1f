import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Role } from '../config/schema.ts';
import type { EngineError } from './errors.ts';
import type { DeliveredImage, ResultMeta } from './job-handle.ts';
import type { JobOwner, JobSpec } from './request.ts';

export type JobStatus = 'waiting' | 'running' | 'done' | 'blocked' | 'failed' | 'cancelled';
export const TERMINAL: ReadonlySet<JobStatus> = new Set(['done', 'blocked', 'failed', 'cancelled']);

/** One journal row, as the engine and adapters use it. */
export interface JobRecord {
  readonly id: string;
  readonly seq: number;
  readonly owner: JobOwner;
  readonly role: Role;
  readonly spec: JobSpec;
  readonly cost: number;
  /** Adapter-specific: where and how to deliver the result (channel, message, token expiry...). */
  readonly delivery: unknown;
  readonly policy: 'block' | 'spoiler';
  readonly parentId: string | null;
  readonly status: JobStatus;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly error: EngineError | null;
  readonly result: JobResultRecord | null;
}

/** What the journal keeps of a finished job: verdicts and file paths, never a withheld image. */
export interface JobResultRecord {
  /** Each candidate as delivered, less its pixels (a withheld one has no path: it was never stored). */
  readonly images: readonly Omit<DeliveredImage, 'png' | 'width' | 'height'>[];
  readonly meta: ResultMeta;
}

interface Row {
  id: string;
  seq: number;
  owner_platform: string;
  owner_id: string;
  owner_name: string | null;
  role: Role;
  spec: string;
  cost: number;
  delivery: string | null;
  policy: 'block' | 'spoiler';
  parent_id: string | null;
  status: JobStatus;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  result: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL UNIQUE,
  owner_platform TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  owner_name TEXT,
  role TEXT NOT NULL,
  spec TEXT NOT NULL,
  cost REAL NOT NULL,
  delivery TEXT,
  policy TEXT NOT NULL,
  parent_id TEXT,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  error TEXT,
  result TEXT
);
CREATE INDEX IF NOT EXISTS jobs_open ON jobs(status) WHERE status IN ('waiting', 'running');
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner_platform, owner_id, created_at);
`;

const fromRow = (row: Row): JobRecord => ({
  id: row.id,
  seq: row.seq,
  owner: row.owner_name === null ? { platform: row.owner_platform, userId: row.owner_id } : { platform: row.owner_platform, userId: row.owner_id, name: row.owner_name },
  role: row.role,
  spec: JSON.parse(row.spec) as JobSpec,
  cost: row.cost,
  delivery: row.delivery === null ? null : (JSON.parse(row.delivery) as unknown),
  policy: row.policy,
  parentId: row.parent_id,
  status: row.status,
  createdAt: row.created_at,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  error: row.error === null ? null : (JSON.parse(row.error) as EngineError),
  result: row.result === null ? null : (JSON.parse(row.result) as JobResultRecord),
});

export interface NewJob {
  readonly id: string;
  readonly owner: JobOwner;
  readonly spec: JobSpec;
  readonly cost: number;
  readonly delivery: unknown;
  readonly policy: 'block' | 'spoiler';
  readonly parentId: string | null;
}

/**
 * The job journal: SQLite (WAL) under DATA_DIR. A job is written here before anyone is told it is queued, and
 * every state change is written before it is announced, so a crash never loses an accepted job.
 */
export class JobJournal {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #get: Database.Statement;
  readonly #setStatus: Database.Statement;
  readonly #start: Database.Statement;
  readonly #finish: Database.Statement;
  readonly #open: Database.Statement;
  readonly #latest: Database.Statement;
  #seq: number;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(SCHEMA);
    this.#insert = this.#db.prepare(
      `INSERT INTO jobs (id, seq, owner_platform, owner_id, owner_name, role, spec, cost, delivery, policy, parent_id, status, created_at)
       VALUES (@id, @seq, @owner_platform, @owner_id, @owner_name, @role, @spec, @cost, @delivery, @policy, @parent_id, 'waiting', @created_at)`,
    );
    this.#get = this.#db.prepare('SELECT * FROM jobs WHERE id = ?');
    this.#setStatus = this.#db.prepare('UPDATE jobs SET status = ? WHERE id = ?');
    this.#start = this.#db.prepare("UPDATE jobs SET status = 'running', started_at = ? WHERE id = ?");
    this.#finish = this.#db.prepare('UPDATE jobs SET status = ?, finished_at = ?, error = ?, result = ? WHERE id = ?');
    this.#open = this.#db.prepare("SELECT * FROM jobs WHERE status IN ('waiting', 'running') ORDER BY seq");
    this.#latest = this.#db.prepare(
      `SELECT * FROM jobs WHERE owner_platform = ? AND owner_id = ? AND role = ? AND status = 'done'
       AND (? IS NULL OR json_extract(delivery, '$.channel') = ?) ORDER BY seq DESC LIMIT 1`,
    );
    this.#seq = (this.#db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM jobs').get() as { seq: number }).seq;
  }

  add(job: NewJob, now = Date.now()): JobRecord {
    this.#seq += 1;
    this.#insert.run({
      id: job.id,
      seq: this.#seq,
      owner_platform: job.owner.platform,
      owner_id: job.owner.userId,
      owner_name: job.owner.name ?? null,
      role: job.spec.role,
      spec: JSON.stringify(job.spec),
      cost: job.cost,
      delivery: job.delivery === undefined ? null : JSON.stringify(job.delivery),
      policy: job.policy,
      parent_id: job.parentId,
      created_at: now,
    });
    return this.get(job.id)!;
  }

  get(id: string): JobRecord | undefined {
    const row = this.#get.get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  markRunning(id: string, now = Date.now()): void {
    this.#start.run(now, id);
  }

  /** Back to waiting (a job recovered after a restart, or one whose worker was shut down before it started). */
  markWaiting(id: string): void {
    this.#setStatus.run('waiting', id);
  }

  finish(id: string, status: JobStatus, detail: { error?: EngineError; result?: JobResultRecord } = {}, now = Date.now()): void {
    this.#finish.run(
      status,
      now,
      detail.error ? JSON.stringify(detail.error) : null,
      detail.result ? JSON.stringify(detail.result) : null,
      id,
    );
  }

  /** Jobs that were waiting or running, oldest first: what a restart must re-queue or report. */
  unfinished(): JobRecord[] {
    return (this.#open.all() as Row[]).map(fromRow);
  }

  /** The owner's latest finished job of a role, optionally in one channel (delivery.channel). */
  latestDone(owner: JobOwner, role: Role, channel: string | null): JobRecord | undefined {
    const row = this.#latest.get(owner.platform, owner.userId, role, channel, channel) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Recent jobs, newest first (the studio's history). */
  recent(limit: number, platform?: string): JobRecord[] {
    const rows = platform
      ? this.#db.prepare('SELECT * FROM jobs WHERE owner_platform = ? ORDER BY seq DESC LIMIT ?').all(platform, limit)
      : this.#db.prepare('SELECT * FROM jobs ORDER BY seq DESC LIMIT ?').all(limit);
    return (rows as Row[]).map(fromRow);
  }

  close(): void {
    this.#db.close();
  }
}
