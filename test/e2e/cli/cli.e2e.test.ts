import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readTextChunks } from '../../../src/engine/image/png-text.ts';
import { ROOT, tempDir } from '../../support/fakes.ts';
import { writeFixtureModel } from '../../support/fixtures/models.ts';

const run = promisify(execFile);
const BIN = join(ROOT, 'bin/zimage.js');

/** The installed `zimage` command, as a user runs it, on a fixture model with its own data folder. */
async function zimage(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('zimage command line', () => {
  const root = tempDir('zimage-cli-');
  const env = { MODEL_DIR: writeFixtureModel(join(root, 'model'), { kind: 'oracle', maxBatch: 4, textMask: true }), DATA_DIR: join(root, 'data'), LOG_LEVEL: 'silent' };

  it('draft writes one PNG per image and prints one JSON object with paths, seeds, timings and verdicts', async () => {
    const out = join(root, 'out');
    const result = await zimage(['draft', 'a red fox --ar 1:1', '--seed', '42', '--count', '2', '--out', out, '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as {
      images: { path: string; seed: string; verdict: { flagged: boolean; scores: Record<string, number> }; withheld: boolean }[];
      timings: { totalMs: number; wallMs: number };
      status: string;
    };
    expect(json.status).toBe('done');
    expect(json.images.map((i) => i.seed)).toEqual(['42', '43']);
    expect(json.timings.totalMs).toBeGreaterThan(0);
    for (const image of json.images) {
      expect(image.verdict.flagged).toBe(false);
      expect(Object.keys(image.verdict.scores).sort()).toEqual(['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);
      const png = await sharp(image.path).toBuffer();
      expect((await sharp(png).metadata()).width).toBe(64);
      expect(JSON.parse(readTextChunks(await import('node:fs').then((fs) => fs.readFileSync(image.path)))['zimage-bot']!).prompt).toBe('a red fox');
    }
    expect(readdirSync(out)).toHaveLength(2);
  });

  it('edit takes an image and a region; bad input exits 2 with one clear line and writes nothing; a usage error exits 1', async () => {
    const source = join(root, 'source.png');
    await sharp({ create: { width: 80, height: 60, channels: 3, background: '#3366aa' } }).png().toFile(source);
    const out = join(root, 'edit-out');
    const edited = await zimage(['edit', '--image', source, 'a green star', '--region', 'left', '--out', out, '--json'], env);
    expect(edited.code, edited.stderr).toBe(0);
    expect(JSON.parse(edited.stdout).role).toBe('edit');

    const refused = await zimage(['draft', 'a fox', '--seed', 'abc', '--out', join(root, 'never')], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe('--seed needs a whole number, not "abc".');
    expect(existsSync(join(root, 'never'))).toBe(false);
    const usage = await zimage(['paint', 'x'], env);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/Unknown command "paint"[\s\S]*Usage:/);
  });

  it('votes for a result, shows the board with its contact sheet, and prints where a refine came from', async () => {
    const out = join(root, 'team-out');
    const drafted = await zimage(['draft', 'a blue owl', '--seed', '7', '--count', '2', '--out', out, '--json'], env);
    expect(drafted.code, drafted.stderr).toBe(0);
    const draft = (JSON.parse(drafted.stdout) as { job: string }).job;

    const empty = await zimage(['board', '--since', '2h'], env);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout.trim()).toBe('No votes in this channel in the last 2h, so the board is empty. To vote, run: zimage vote <job> <candidate number>.');

    const voted = await zimage(['vote', draft, '2'], env);
    expect(voted.code, voted.stderr).toBe(0);
    expect(voted.stdout.trim()).toBe('Your vote for #2 is counted.');
    const refused = await zimage(['vote', draft, '3'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe('That result has 2 candidates; there is no #3.');

    const board = await zimage(['board', '--out', out, '--json'], env);
    expect(board.code, board.stderr).toBe(0);
    const shown = JSON.parse(board.stdout) as { title: string; sheet: string; entries: { rank: number; job: string; candidate: number; votes: number }[] };
    expect(shown.title).toBe('Top 1 of this channel · last 24h');
    expect(shown.entries).toEqual([{ rank: 1, job: draft, candidate: 2, votes: 1 }]);
    expect(await sharp(shown.sheet).metadata()).toMatchObject({ width: 256 + 16, height: 256 + 16 });

    // A refine without --image starts from the latest draft here: its history names the draft and the candidate.
    const refined = await zimage(['refine', '--out', out, '--json'], env);
    expect(refined.code, refined.stderr).toBe(0);
    const refine = (JSON.parse(refined.stdout) as { job: string }).job;
    const history = await zimage(['history', refine], env);
    expect(history.code, history.stderr).toBe(0);
    const lines = history.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${draft} · /draft · by \\S+ · done · “a blue owl”$`));
    expect(lines[1]).toMatch(new RegExp(`^└ ${refine} · refined from #1 of ${draft} · by \\S+ · done`));
    const ofDraft = JSON.parse((await zimage(['history', draft, '--json'], env)).stdout) as { chain: unknown[]; children: { job: string; action: string }[] };
    expect(ofDraft.children).toEqual([expect.objectContaining({ job: refine, action: 'refine' })]);
    expect((await zimage(['history', 'nosuchjob'], env)).code).toBe(2);
    // Nine starts of the command, each loading the model: minutes on a busy two-core machine.
  }, 300_000);
});
