import type Database from 'better-sqlite3';

/**
 * The journal's schema, as numbered steps. `PRAGMA user_version` says how many have run; opening a journal runs the
 * missing ones, each in its own transaction, so a database from any earlier release comes up to date and a changed
 * schema is never skipped silently. Append only: a step that shipped is never edited.
 */
export const MIGRATIONS: readonly ((db: Database.Database) => void)[] = [
  // 1: the jobs table as first released (a database from then has user_version 0 and this table already).
  (db) =>
    db.exec(`
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
    `),
  // 2: where a job was asked for, as columns of its own. Before, the only trace was inside the adapter's delivery
  // envelope ({ channel, place: { guildId } }); this step reads it once to fill the columns.
  (db) =>
    db.exec(`
      ALTER TABLE jobs ADD COLUMN scope_platform TEXT NOT NULL DEFAULT '';
      ALTER TABLE jobs ADD COLUMN scope_workspace TEXT;
      ALTER TABLE jobs ADD COLUMN scope_channel TEXT NOT NULL DEFAULT '';
      UPDATE jobs SET
        scope_platform = owner_platform,
        scope_workspace = CASE WHEN json_valid(delivery) THEN json_extract(delivery, '$.place.guildId') END,
        scope_channel = COALESCE(CASE WHEN json_valid(delivery) THEN json_extract(delivery, '$.channel') END, '');
      CREATE INDEX jobs_scope ON jobs(scope_platform, scope_workspace, scope_channel, seq);
    `),
  // 3: the backend (a local device or a ComfyUI server, by its configured name) a job last ran on; null until it starts.
  (db) => db.exec('ALTER TABLE jobs ADD COLUMN backend TEXT;'),
  // 4: what a team builds on a job: how it was made from its parent (action, parent candidate), votes per candidate,
  // the messages that show it (so a reaction finds its job), and channel and personal settings. Rows from before
  // keep a null action (their role says what they were).
  (db) =>
    db.exec(`
      ALTER TABLE jobs ADD COLUMN action TEXT;
      ALTER TABLE jobs ADD COLUMN parent_index INTEGER;
      CREATE INDEX jobs_parent ON jobs(parent_id) WHERE parent_id IS NOT NULL;
      CREATE TABLE votes (
        job_id TEXT NOT NULL,
        candidate INTEGER NOT NULL,
        voter_platform TEXT NOT NULL,
        voter_id TEXT NOT NULL,
        voter_name TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (job_id, candidate, voter_platform, voter_id)
      );
      CREATE TABLE job_messages (
        platform TEXT NOT NULL,
        message TEXT NOT NULL,
        job_id TEXT NOT NULL,
        PRIMARY KEY (platform, message)
      );
      CREATE TABLE settings (
        kind TEXT NOT NULL CHECK (kind IN ('channel', 'user')),
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL DEFAULT '',
        channel TEXT NOT NULL DEFAULT '',
        user_id TEXT NOT NULL DEFAULT '',
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        updated_by TEXT,
        PRIMARY KEY (kind, platform, workspace, channel, user_id)
      );
    `),
  // 5: prompt suggestions the assistant made for an image, kept so their Draft buttons work after a restart. The
  // value is the core's (the prompts, who asked and where); the engine stores it and never reads it.
  (db) =>
    db.exec(`
      CREATE TABLE suggestions (
        id TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `),
];

export class JournalVersionError extends Error {
  override readonly name = 'JournalVersionError';
}

/** Brings a database up to the newest schema; refuses one written by a newer release (it would be misread). */
export function migrate(db: Database.Database, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new JournalVersionError(
      `The job journal ${file} has schema version ${current}, newer than this release knows (${MIGRATIONS.length}); run the newer release or move the file away`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      MIGRATIONS[version]!(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
