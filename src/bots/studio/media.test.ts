import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/fakes.ts';
import { jobSpec } from '../../../test/support/specs.ts';
import { composeGrid, withheldTile } from '../../engine/image/grid.ts';
import type { ResultMeta } from '../../engine/job-handle.ts';
import type { JobResultRecord } from '../../engine/history.ts';
import { JobJournal } from '../../engine/journal/journal.ts';
import { parseMediaPath, StudioMedia } from './media.ts';

const journals: JobJournal[] = [];
afterEach(() => journals.splice(0).forEach((j) => j.close()));

const png = (r: number): Promise<Buffer> => sharp({ create: { width: 64, height: 64, channels: 3, background: { r, g: 10, b: 10 } } }).png().toBuffer();
const SAFE = { Drawing: 0, Hentai: 0, Neutral: 1, Porn: 0, Sexy: 0 };

function setup(): { journal: JobJournal; outputs: string; dir: string; media: StudioMedia; hidden: Set<string> } {
  const dir = tempDir('zimage-media-');
  const journal = new JobJournal(join(dir, 'zimage.db'));
  journals.push(journal);
  const outputs = join(dir, 'outputs');
  mkdirSync(outputs);
  const hidden = new Set<string>();
  return { journal, outputs, dir, hidden, media: new StudioMedia({ history: journal, outputsDir: outputs, hidden: (id) => hidden.has(id) }) };
}

/** Journals a finished job whose candidates are at the given paths (null = withheld). */
function addJob(journal: JobJournal, id: string, platform: string, paths: (string | null)[]): void {
  journal.add({ id, owner: { platform, userId: 'u1' }, scope: { platform, workspace: null, channel: 'c' }, spec: jobSpec('/m', { seeds: paths.map((_, i) => i + 1) }), cost: 1, delivery: null, policy: 'block', parentId: null });
  const result: JobResultRecord = {
    images: paths.map((path, index) => ({
      index,
      path,
      withheld: path === null,
      spoiler: false,
      verdict: path === null ? { flagged: true, reason: 'nsfw', rule: 'test' } : { flagged: false, scores: SAFE },
      prompt: 'p',
      noise: { seed: index + 1 },
    })),
    meta: { width: 64, height: 64 } as ResultMeta,
  };
  journal.finish(id, 'done', { result });
}

describe('result images for the page', () => {
  it('parses only /media/<job id>/<grid|digit>.png', () => {
    expect(parseMediaPath('/media/abcd1234/grid.png')).toEqual({ jobId: 'abcd1234', what: 'grid' });
    expect(parseMediaPath('/media/abcd1234/3.png')).toEqual({ jobId: 'abcd1234', what: 3 });
    for (const path of ['/media/abcd1234/../zimage.db', '/media/../x/0.png', '/media/abcd1234/10.png', '/media/ab/0.png', '/media/abcd1234/0.png/x', '/media/abcd%2F34/0.png', '/media/abcd1234/0.jpg']) {
      expect(parseMediaPath(path), path).toBeUndefined();
    }
  });

  it("serves a studio job's candidates, the placeholder for a withheld one, and the grid of both", async () => {
    const { journal, outputs, media } = setup();
    mkdirSync(join(outputs, 'job00001'));
    const first = await png(200);
    writeFileSync(join(outputs, 'job00001', '0.png'), first);
    addJob(journal, 'job00001', 'studio', [join(outputs, 'job00001', '0.png'), null]);
    expect(await media.read('job00001', 0)).toEqual(first);
    const tile = await withheldTile(64, 64);
    expect(await media.read('job00001', 1)).toEqual(tile);
    expect(await media.read('job00001', 2)).toBeUndefined();
    expect(await media.read('job00001', 'grid')).toEqual(await composeGrid([{ png: first }, { png: null }], 64, 64));
  });

  it('serves nothing the journal does not name as a studio output', async () => {
    const { journal, outputs, dir, media, hidden } = setup();
    const secret = join(dir, 'secret.png');
    writeFileSync(secret, await png(10));
    mkdirSync(join(outputs, 'job00002'));
    writeFileSync(join(outputs, 'job00002', '0.png'), await png(20));
    symlinkSync(secret, join(outputs, 'job00002', 'link.png'));

    addJob(journal, 'discord1', 'discord', [join(outputs, 'job00002', '0.png')]);
    addJob(journal, 'outside1', 'studio', [secret]);
    addJob(journal, 'dotdot01', 'studio', [join(outputs, '..', 'secret.png')]);
    addJob(journal, 'symlink1', 'studio', [join(outputs, 'job00002', 'link.png')]);
    addJob(journal, 'hidden01', 'studio', [join(outputs, 'job00002', '0.png')]);
    addJob(journal, 'missing1', 'studio', [join(outputs, 'nope', '0.png')]);
    hidden.add('hidden01');

    expect(await media.read('discord1', 0)).toBeUndefined();
    expect(await media.read('outside1', 0)).toBeUndefined();
    expect(await media.read('dotdot01', 0)).toBeUndefined();
    expect(await media.read('symlink1', 0)).toBeUndefined();
    expect(await media.read('hidden01', 0)).toBeUndefined();
    expect(await media.read('missing1', 0)).toBeUndefined();
    expect(await media.read('unknown1', 0)).toBeUndefined();
    // The same file through a job that names it properly is served: the refusals above are about the path.
    addJob(journal, 'proper01', 'studio', [join(outputs, 'job00002', '0.png')]);
    expect(await media.read('proper01', 0)).toBeDefined();
  });
});
