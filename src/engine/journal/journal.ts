import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ModerationPolicy } from '../../moderation/verdict.ts';
import type { EngineError } from '../errors.ts';
import type { JobHistory, LatestQuery, RecentQuery } from '../history.ts';
import type { JobAction, JobRecord, JobResultRecord, JobScope, JobStatus } from '../job.ts';
import type { JobOwner, JobSpec } from '../request.ts';
import { migrate } from './migrations.ts';

interface Row {
  id: string;
  seq: number;
  owner_platform: string;
  owner_id: string;
  owner_name: string | null;
  scope_platform: string;
  scope_workspace: string | null;
  scope_channel: string;
  role: JobRecord['role'];
  spec: string;
  cost: number;
  delivery: string | null;
  policy: ModerationPolicy;
  parent_id: string | null;
  parent_index: number | null;
  action: JobAction | null;
  status: JobStatus;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  result: string | null;
  backend: string | null;
}

const fromRow = (row: Row): JobRecord => ({
  id: row.id,
  seq: row.seq,
  owner: row.owner_name === null ? { platform: row.owner_platform, userId: row.owner_id } : { platform: row.owner_platform, userId: row.owner_id, name: row.owner_name },
  scope: { platform: row.scope_platform, workspace: row.scope_workspace, channel: row.scope_channel },
  role: row.role,
  // Specs journaled before noise inversion existed ran without it.
  spec: { inversion: 0, ...(JSON.parse(row.spec) as Omit<JobSpec, 'inversion'>) },
  cost: row.cost,
  delivery: row.delivery === null ? null : (JSON.parse(row.delivery) as unknown),
  policy: row.policy,
  parentId: row.parent_id,
  parentIndex: row.parent_index,
  action: row.action,
  status: row.status,
  createdAt: row.created_at,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  error: row.error === null ? null : (JSON.parse(row.error) as EngineError),
  result: row.result === null ? null : (JSON.parse(row.result) as JobResultRecord),
  backend: row.backend,
});

export interface NewJob {
  readonly id: string;
  readonly owner: JobOwner;
  readonly scope: JobScope;
  readonly spec: JobSpec;
  readonly cost: number;
  readonly delivery: unknown;
  readonly policy: ModerationPolicy;
  readonly parentId: string | null;
  /** Absent: a whole result, or no parent. */
  readonly parentIndex?: number | null;
  /** Absent: the role's own command. */
  readonly action?: JobAction;
}

const BUSY_WAIT_MS = 50;

/** Rewrites the schema version with its own value: the cheapest real write, to learn whether any will succeed. */
function isWritable(db: Database.Database): boolean {
  try {
    db.pragma(`user_version = ${db.pragma('user_version', { simple: true }) as number}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The journal holds platform tokens: its folder is the owner's alone (0700) and the database is created 0600 before
 * SQLite opens it, so its WAL and shared-memory files, which SQLite creates with the database's mode, are 0600 too.
 * Files from an earlier release lose their group and world bits (nothing is ever added: a read-only journal stays
 * read-only, and is reported as such).
 */
function privateFile(file: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  tighten(dir);
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) tighten(path);
}

function tighten(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  try {
    chmodSync(path, mode & 0o700);
  } catch {
    // Not ours to change (another user's file): it is still used, and its mode is the operator's to fix.
  }
}

const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

/**
 * The job journal: SQLite (WAL) under DATA_DIR. A job is written here before anyone is told it is queued, and
 * every state change is written before it is announced, so a crash never loses an accepted job. Only the engine
 * holds one; everyone else reads through JobHistory.
 */
export class JobJournal implements JobHistory {
  /** False when the file could only be opened read-only (its mode, its file system): every write will fail. */
  readonly writable: boolean;
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #get: Database.Statement;
  readonly #setStatus: Database.Statement;
  readonly #start: Database.Statement;
  readonly #finish: Database.Statement;
  readonly #setDelivery: Database.Statement;
  readonly #open: Database.Statement;
  readonly #children: Database.Statement;

  constructor(file: string) {
    if (file !== ':memory:') privateFile(file);
    // A short busy wait: a journal locked by another program costs a failed write (retried by JournalWriter), never
    // seconds of a frozen event loop (better-sqlite3's default wait is 5 s, spent blocking).
    this.#db = new Database(file, { timeout: BUSY_WAIT_MS });
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    migrate(this.#db, file);
    this.writable = isWritable(this.#db);
    this.#insert = this.#db.prepare(
      `INSERT INTO jobs (id, seq, owner_platform, owner_id, owner_name, scope_platform, scope_workspace, scope_channel,
                         role, spec, cost, delivery, policy, parent_id, parent_index, action, status, created_at)
       VALUES (@id, @seq, @owner_platform, @owner_id, @owner_name, @scope_platform, @scope_workspace, @scope_channel,
               @role, @spec, @cost, @delivery, @policy, @parent_id, @parent_index, @action, 'waiting', @created_at)`.replace(
        '@seq',
        // Numbered inside the insert, under SQLite's write lock: right even when another connection adds jobs too.
        '(SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs)',
      ),
    );
    this.#get = this.#db.prepare('SELECT * FROM jobs WHERE id = ?');
    this.#setStatus = this.#db.prepare('UPDATE jobs SET status = ? WHERE id = ?');
    this.#start = this.#db.prepare("UPDATE jobs SET status = 'running', started_at = ?, backend = ? WHERE id = ?");
    this.#finish = this.#db.prepare('UPDATE jobs SET status = ?, finished_at = ?, error = ?, result = ? WHERE id = ?');
    this.#setDelivery = this.#db.prepare('UPDATE jobs SET delivery = ? WHERE id = ?');
    this.#open = this.#db.prepare("SELECT * FROM jobs WHERE status IN ('waiting', 'running') ORDER BY seq");
    this.#children = this.#db.prepare('SELECT * FROM jobs WHERE parent_id = ? ORDER BY seq');
  }

  add(job: NewJob, now = Date.now()): JobRecord {
    this.#insert.run({
      id: job.id,
      owner_platform: job.owner.platform,
      owner_id: job.owner.userId,
      owner_name: job.owner.name ?? null,
      scope_platform: job.scope.platform,
      scope_workspace: job.scope.workspace,
      scope_channel: job.scope.channel,
      role: job.spec.role,
      spec: JSON.stringify(job.spec),
      cost: job.cost,
      delivery: json(job.delivery),
      policy: job.policy,
      parent_id: job.parentId,
      parent_index: job.parentIndex ?? null,
      action: job.action ?? job.spec.role,
      created_at: now,
    });
    return this.get(job.id)!;
  }

  get(id: string): JobRecord | undefined {
    const row = this.#get.get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Running, on the named backend (a device or a ComfyUI server). */
  markRunning(id: string, now = Date.now(), backend: string | null = null): void {
    this.#start.run(now, backend, id);
  }

  /** Back to waiting (a job recovered after a restart). */
  markWaiting(id: string): void {
    this.#setStatus.run('waiting', id);
  }

  finish(id: string, status: JobStatus, detail: { error?: EngineError; result?: JobResultRecord } = {}, now = Date.now()): void {
    this.#finish.run(status, now, json(detail.error), json(detail.result), id);
  }

  /** Replaces the adapter's data of a job (a message moved, an expired token dropped). */
  setDelivery(id: string, delivery: unknown): void {
    this.#setDelivery.run(json(delivery), id);
  }

  /** Every job of a platform that holds adapter data, oldest first (for an adapter to clean its data up). */
  *deliveries(platform: string): Generator<{ readonly id: string; readonly delivery: unknown }> {
    const rows = this.#db.prepare('SELECT id, delivery FROM jobs WHERE scope_platform = ? AND delivery IS NOT NULL ORDER BY seq').iterate(platform) as Iterable<{ id: string; delivery: string }>;
    for (const row of rows) yield { id: row.id, delivery: JSON.parse(row.delivery) as unknown };
  }

  /** Jobs that were waiting or running, oldest first: what a restart must re-queue or report. */
  unfinished(): JobRecord[] {
    return (this.#open.all() as Row[]).map(fromRow);
  }

  latestDone(query: LatestQuery): JobRecord | undefined {
    if (query.roles.length === 0) return undefined;
    const { owner, scope } = query;
    const row = this.#db
      .prepare(
        `SELECT * FROM jobs WHERE owner_platform = ? AND owner_id = ? AND status = 'done'
         AND scope_platform = ? AND scope_workspace IS ? AND scope_channel = ?
         AND role IN (${query.roles.map(() => '?').join(', ')}) ORDER BY seq DESC LIMIT 1`,
      )
      .get(owner.platform, owner.userId, scope.platform, scope.workspace, scope.channel, ...query.roles) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  recent(query: RecentQuery): JobRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.platform !== undefined) {
      where.push('scope_platform = ?');
      params.push(query.platform);
    }
    if (query.scope !== undefined) {
      where.push('scope_platform = ? AND scope_workspace IS ? AND scope_channel = ?');
      params.push(query.scope.platform, query.scope.workspace, query.scope.channel);
    }
    const rows = this.#db
      .prepare(`SELECT * FROM jobs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`)
      .all(...params, query.limit) as Row[];
    return rows.map(fromRow);
  }

  children(jobId: string): JobRecord[] {
    return (this.#children.all(jobId) as Row[]).map(fromRow);
  }

  close(): void {
    this.#db.close();
  }
}
