import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/fakes.ts';

const run = promisify(execFile);

type Settled = { type: string; delivered: number; stored: number };

interface Outcome {
  readonly before: Settled;
  readonly through?: Settled;
  readonly history?: string;
  readonly refused: string | object;
  readonly refusedText: string;
  readonly after?: Settled;
  readonly stranded: number;
}

const CHILD = join(ROOT, 'test/support/storage-fault-child.ts');
const parse = (stdout: string): Outcome => JSON.parse(stdout.trim().split('\n').at(-1)!) as Outcome;

/**
 * A real full disk under a running engine: the child (test/support/storage-fault-child.ts) gets a small tmpfs as
 * DATA_DIR in a mount namespace of its own (unshare; as an unprivileged user through a user namespace), fills it while
 * a job runs, then frees it.
 */
async function onFullDisk(): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'zimage-fault-'));
  const namespace = process.getuid?.() === 0 ? ['--mount'] : ['--user', '--map-root-user', '--mount'];
  const script = `mount -t tmpfs -o size=16m,mode=0700 tmpfs "$1" && exec "$2" --import tsx "$3" "$1" full`;
  const { stdout } = await run('unshare', [...namespace, 'sh', '-c', script, 'sh', dir, process.execPath, CHILD], { cwd: ROOT, timeout: 170_000 });
  return parse(stdout);
}

/** A journal file the bot may only read: as root (who may write anything) the child runs as `nobody`. */
async function onReadOnlyJournal(): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'zimage-readonly-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, 65534, 65534);
  const command = asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath];
  const { stdout } = await run(command[0]!, [...command.slice(1), '--import', 'tsx', CHILD, join(dir, 'data'), 'readonly'], {
    cwd: ROOT,
    timeout: 170_000,
    // tsx keeps a cache in the temporary folder; as `nobody` it needs one of its own.
    env: { ...process.env, TMPDIR: dir },
  });
  return parse(stdout);
}

describe('the engine on a failing disk', () => {
  it('delivers the running job, refuses new ones plainly while the disk is full, and recovers when space is freed', async () => {
    const outcome = await onFullDisk();
    expect(outcome.before).toEqual({ type: 'done', delivered: 2, stored: 2 });
    // Delivered all the same; only not kept.
    expect(outcome.through).toMatchObject({ type: 'done', delivered: 2 });
    expect(['storage-unavailable', 'journal-unavailable']).toContain(outcome.refused);
    expect(outcome.refusedText).not.toMatch(/Something went wrong/);
    expect(outcome.after).toEqual({ type: 'done', delivered: 2, stored: 2 });
    expect(outcome.stranded).toBe(0);
  }, 180_000);

  it('starts on a journal it can only read, keeps its history, and refuses new jobs plainly', async () => {
    const outcome = await onReadOnlyJournal();
    expect(outcome.before).toEqual({ type: 'done', delivered: 2, stored: 2 });
    expect(outcome.history).toBe('done');
    expect(outcome.refused).toBe('journal-unavailable');
    expect(outcome.refusedText).toContain('cannot save new jobs');
    expect(outcome.stranded).toBe(0);
  }, 180_000);
});
