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
});
