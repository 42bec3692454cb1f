import Database from 'better-sqlite3';
import type { JobScope } from '../job.ts';

/** Someone who voted. */
export interface Voter {
  readonly platform: string;
  readonly userId: string;
  readonly name?: string;
}

/** The votes one candidate has. */
export interface CandidateVotes {
  readonly candidate: number;
  readonly count: number;
}

/** A candidate on a channel's board: its job, and how many voted for it. */
export interface BoardEntry {
  readonly jobId: string;
  readonly candidate: number;
  readonly votes: number;
}

/** Settings are a channel's (for everyone in it) or a person's (wherever they are, on one platform). */
export type SettingsKey =
  | { readonly kind: 'channel'; readonly scope: JobScope }
  | { readonly kind: 'user'; readonly platform: string; readonly userId: string };

/** What a team built on jobs, read-only: what the core and adapters may look up. Writes go through the engine. */
export interface TeamRecords {
  hasVoted(jobId: string, candidate: number, voter: Voter): boolean;
  votes(jobId: string): CandidateVotes[];
  board(scope: JobScope, since: number, limit: number): BoardEntry[];
  jobOfMessage(platform: string, message: string): string | undefined;
  settings(key: SettingsKey): unknown;
  /** A set of prompt suggestions, as saved (validated by whoever reads it). */
  suggestions(id: string): unknown;
}

const BUSY_WAIT_MS = 50;

/**
 * What a team builds on jobs, in the journal's own file (tables of schema steps 4 and 5): votes per candidate, the messages
 * that show a job (so a reaction on one finds its job), channel and personal settings. A connection of its own beside
 * the journal's; the journal has run the migrations before this opens. Every write is one short statement; a failed
 * one throws, for the engine to refuse plainly.
 */
export class TeamStore implements TeamRecords {
  readonly #db: Database.Database;

  constructor(file: string) {
    this.#db = new Database(file, { timeout: BUSY_WAIT_MS });
  }

  /** One vote per person per candidate; `on: false` takes it back. True when something changed. */
  vote(jobId: string, candidate: number, voter: Voter, on: boolean, now = Date.now()): boolean {
    const changed = on
      ? this.#db
          .prepare(
            `INSERT OR IGNORE INTO votes (job_id, candidate, voter_platform, voter_id, voter_name, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(jobId, candidate, voter.platform, voter.userId, voter.name ?? null, now).changes
      : this.#db.prepare('DELETE FROM votes WHERE job_id = ? AND candidate = ? AND voter_platform = ? AND voter_id = ?').run(jobId, candidate, voter.platform, voter.userId).changes;
    return changed > 0;
  }

  /** A deleted result's votes go with it: it leaves the board. */
  clearVotes(jobId: string): void {
    this.#db.prepare('DELETE FROM votes WHERE job_id = ?').run(jobId);
  }

  /** Whether this person has voted for this candidate (a press then takes the vote back). */
  hasVoted(jobId: string, candidate: number, voter: Voter): boolean {
    return this.#db.prepare('SELECT 1 FROM votes WHERE job_id = ? AND candidate = ? AND voter_platform = ? AND voter_id = ?').get(jobId, candidate, voter.platform, voter.userId) !== undefined;
  }

  /** Each voted candidate of a job with its count, by candidate. */
  votes(jobId: string): CandidateVotes[] {
    return this.#db.prepare('SELECT candidate, COUNT(*) AS count FROM votes WHERE job_id = ? GROUP BY candidate ORDER BY candidate').all(jobId) as CandidateVotes[];
  }

  /** A channel's most voted candidates among jobs made since `since` (ms), most votes first, newest vote breaking ties. */
  board(scope: JobScope, since: number, limit: number): BoardEntry[] {
    return this.#db
      .prepare(
        `SELECT v.job_id AS jobId, v.candidate AS candidate, COUNT(*) AS votes, MAX(v.created_at) AS lastVote
         FROM votes v JOIN jobs j ON j.id = v.job_id
         WHERE j.scope_platform = ? AND j.scope_workspace IS ? AND j.scope_channel = ? AND j.created_at >= ?
         GROUP BY v.job_id, v.candidate ORDER BY votes DESC, lastVote DESC LIMIT ?`,
      )
      .all(scope.platform, scope.workspace, scope.channel, since, limit)
      .map((row) => {
        const { jobId, candidate, votes } = row as BoardEntry;
        return { jobId, candidate, votes };
      });
  }

  /** Records that a platform message shows a job (a result card, a channel message after a token expired). */
  linkMessage(platform: string, message: string, jobId: string): void {
    this.#db.prepare('INSERT OR REPLACE INTO job_messages (platform, message, job_id) VALUES (?, ?, ?)').run(platform, message, jobId);
  }

  /** The job a platform message shows, if it shows one. */
  jobOfMessage(platform: string, message: string): string | undefined {
    return (this.#db.prepare('SELECT job_id FROM job_messages WHERE platform = ? AND message = ?').get(platform, message) as { job_id: string } | undefined)?.job_id;
  }

  /** A channel's or a person's settings, as last saved (validated by whoever reads them). */
  settings(key: SettingsKey): unknown {
    const row = this.#db.prepare('SELECT value FROM settings WHERE kind = ? AND platform = ? AND workspace = ? AND channel = ? AND user_id = ?').get(...keyColumns(key)) as
      | { value: string }
      | undefined;
    return row ? (JSON.parse(row.value) as unknown) : undefined;
  }

  saveSettings(key: SettingsKey, value: unknown, by: string, now = Date.now()): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO settings (kind, platform, workspace, channel, user_id, value, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(...keyColumns(key), JSON.stringify(value), now, by);
  }

  /** Prompt suggestions for an image (the core's value), so the buttons that draft them work after a restart. */
  saveSuggestions(id: string, value: unknown, now = Date.now()): void {
    this.#db.prepare('INSERT OR REPLACE INTO suggestions (id, value, created_at) VALUES (?, ?, ?)').run(id, JSON.stringify(value), now);
  }

  suggestions(id: string): unknown {
    const row = this.#db.prepare('SELECT value FROM suggestions WHERE id = ?').get(id) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as unknown) : undefined;
  }

  close(): void {
    this.#db.close();
  }
}

function keyColumns(key: SettingsKey): [string, string, string, string, string] {
  return key.kind === 'channel'
    ? ['channel', key.scope.platform, key.scope.workspace ?? '', key.scope.channel, '']
    : ['user', key.platform, '', '', key.userId];
}
