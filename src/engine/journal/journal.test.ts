import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/fakes.ts';
import { jobSpec } from '../../../test/support/specs.ts';
import { JobJournal } from './journal.ts';
import { JournalVersionError, MIGRATIONS } from './migrations.ts';

/** The schema the first release wrote (user_version 0), verbatim, so the migration is tested against the real thing. */
const FIRST_RELEASE_SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, owner_platform TEXT NOT NULL, owner_id TEXT NOT NULL, owner_name TEXT,
  role TEXT NOT NULL, spec TEXT NOT NULL, cost REAL NOT NULL, delivery TEXT, policy TEXT NOT NULL, parent_id TEXT,
  status TEXT NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER, error TEXT, result TEXT
);
CREATE INDEX IF NOT EXISTS jobs_open ON jobs(status) WHERE status IN ('waiting', 'running');
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner_platform, owner_id, created_at);
`;

interface OldRow {
  id: string;
  platform: string;
  user: string;
  role: 'draft' | 'refine' | 'edit';
  status: string;
  delivery: unknown;
}

function firstReleaseDatabase(file: string, rows: readonly OldRow[]): void {
  const db = new Database(file);
  db.exec(FIRST_RELEASE_SCHEMA);
  const insert = db.prepare(
    `INSERT INTO jobs (id, seq, owner_platform, owner_id, owner_name, role, spec, cost, delivery, policy, parent_id, status, created_at)
     VALUES (?, ?, ?, ?, NULL, ?, ?, 1, ?, 'block', NULL, ?, ?)`,
  );
  rows.forEach((row, i) => {
    // The first release's specs had no noise inversion.
    const { inversion: _, ...spec } = jobSpec('/m', { role: row.role });
    insert.run(row.id, i + 1, row.platform, row.user, row.role, JSON.stringify(spec), row.delivery === null ? null : JSON.stringify(row.delivery), row.status, 1000 + i);
  });
  db.close();
}

const envelope = (platform: string, channel: string, guildId?: string): unknown => ({
  channel,
  locale: 'en',
  place: { platform, channelId: channel, channelIsNsfw: false, ...(guildId ? { guildId } : {}) },
  data: { v: 1 },
});

describe('JobJournal', () => {
  it('opens a database written by the first release and finds every job, with its scope read from the old envelope', () => {
    const file = join(tempDir(), 'zimage.db');
    firstReleaseDatabase(file, [
      { id: 'discord1', platform: 'discord', user: 'u1', role: 'draft', status: 'done', delivery: envelope('discord', 'c1', 'g1') },
      { id: 'discord2', platform: 'discord', user: 'u1', role: 'draft', status: 'done', delivery: envelope('discord', 'c2', 'g1') },
      { id: 'slack1', platform: 'slack', user: 'U1', role: 'edit', status: 'done', delivery: envelope('slack', 'C1', 'T1') },
      { id: 'studio1', platform: 'studio', user: 'tab', role: 'draft', status: 'waiting', delivery: envelope('studio', 'studio') },
      { id: 'bare1', platform: 'test', user: 'x', role: 'draft', status: 'running', delivery: null },
      { id: 'odd1', platform: 'test', user: 'x', role: 'draft', status: 'failed', delivery: 'not an envelope' },
    ]);

    const journal = new JobJournal(file);
    try {
      for (const id of ['discord1', 'discord2', 'slack1', 'studio1', 'bare1', 'odd1']) expect(journal.get(id)?.id).toBe(id);
      expect(journal.get('discord2')!.scope).toEqual({ platform: 'discord', workspace: 'g1', channel: 'c2' });
      expect(journal.get('studio1')!.scope).toEqual({ platform: 'studio', workspace: null, channel: 'studio' });
      expect(journal.get('bare1')!.scope).toEqual({ platform: 'test', workspace: null, channel: '' });
      expect(journal.get('odd1')!.delivery).toBe('not an envelope');
      // A job journaled before noise inversion existed reads back as one that ran without it.
      expect(journal.get('slack1')!.spec).toMatchObject({ role: 'edit', inversion: 0 });
      const u1 = { platform: 'discord', userId: 'u1' };
      expect(journal.latestDone({ owner: u1, roles: ['draft'], scope: { platform: 'discord', workspace: 'g1', channel: 'c1' } })?.id).toBe('discord1');
      expect(journal.latestDone({ owner: u1, roles: ['draft'], scope: { platform: 'discord', workspace: 'g9', channel: 'c1' } })).toBeUndefined();
      expect(journal.latestDone({ owner: { platform: 'slack', userId: 'U1' }, roles: ['draft', 'edit'], scope: { platform: 'slack', workspace: 'T1', channel: 'C1' } })?.id).toBe('slack1');
      expect(journal.recent({ limit: 10, platform: 'studio' }).map((r) => r.id)).toEqual(['studio1']);
      expect(journal.recent({ limit: 10 })).toHaveLength(6);
      expect(journal.unfinished().map((r) => r.id)).toEqual(['studio1', 'bare1']);
      // New jobs continue the sequence.
      const added = journal.add({ id: 'new1', owner: u1, scope: { platform: 'discord', workspace: 'g1', channel: 'c1' }, spec: jobSpec('/m'), cost: 1, delivery: null, policy: 'block', parentId: null });
      expect(added.seq).toBe(7);
      expect(journal.recent({ limit: 1, scope: { platform: 'discord', workspace: 'g1', channel: 'c1' } })[0]!.id).toBe('new1');
    } finally {
      journal.close();
    }
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
    // A second opening has nothing to do and changes nothing.
    const again = new JobJournal(file);
    expect(again.recent({ limit: 10 })).toHaveLength(7);
    again.close();
  });

  it('refuses a database written by a newer release instead of misreading it', () => {
    const file = join(tempDir(), 'zimage.db');
    const db = new Database(file);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => new JobJournal(file)).toThrow(JournalVersionError);
  });
});
