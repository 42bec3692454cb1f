import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSISTANT_SETUP_HINT } from '../../../src/assistant/errors.ts';
import { readTextChunks } from '../../../src/engine/image/png-text.ts';
import { FakeOpenAI } from '../../support/fake-openai.ts';
import { ROOT, tempDir } from '../../support/fakes.ts';
import { writeFixtureModel } from '../../support/fixtures/models.ts';

/**
 * The prompt assistant from the installed `zimage` command, as a user runs it: each call starts the CLI in a process
 * of its own (fixture model, own data folder) against a fake OpenAI-compatible server in this process, configured the
 * way an operator does it, through ASSISTANT_URL, ASSISTANT_MODEL and ASSISTANT_API_KEY.
 */
const run = promisify(execFile);
const BIN = join(ROOT, 'bin/zimage.js');
const KEY = 'sk-test-assistant-key-7f3a9c21';
const TAIL = 'shown in rich detail: the subject in the centre of the frame, soft morning light from the left, a shallow depth of field and a calm, muted palette.';

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without any ASSISTANT_* or LOG_LEVEL the test runner may have: each call says what it configures. */
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ASSISTANT_') && name !== 'LOG_LEVEL')) as Record<string, string>;

async function zimage(args: string[], env: Record<string, string>): Promise<Ran> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...baseEnv, ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const linesOf = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

describe('zimage and the prompt assistant', () => {
  const root = tempDir('zimage-cli-assistant-');
  const common = { MODEL_DIR: writeFixtureModel(join(root, 'model'), { kind: 'oracle', maxBatch: 4, textMask: true }), DATA_DIR: join(root, 'data'), LOG_LEVEL: 'silent' };
  const photo = join(root, 'photo.png');
  let openai: FakeOpenAI;
  let assisted: Record<string, string>;

  beforeAll(async () => {
    await sharp({ create: { width: 96, height: 64, channels: 3, background: '#2050d0' } }).png().toFile(photo);
    openai = await FakeOpenAI.start({ apiKey: KEY });
    assisted = { ...common, ASSISTANT_URL: openai.url, ASSISTANT_MODEL: 'fake-model', ASSISTANT_VISION_MODEL: 'fake-vision', ASSISTANT_API_KEY: KEY };
  });

  afterAll(async () => {
    await openai?.close();
  });

  it('without an assistant, --enhance and describe are refused (exit 2) with the line that says how to turn it on, and nothing is drawn', async () => {
    const out = join(root, 'never-enhanced');
    const enhance = await zimage(['draft', 'a red fox', '--enhance', '--out', out], common);
    expect(enhance.code, enhance.stderr).toBe(2);
    expect(enhance.stderr.trim()).toBe(ASSISTANT_SETUP_HINT);
    expect(enhance.stdout).toBe('');
    expect(existsSync(out)).toBe(false);

    const described = await zimage(['describe', '--image', photo, '--json'], common);
    expect(described.code, described.stderr).toBe(2);
    expect(described.stderr.trim()).toBe(ASSISTANT_SETUP_HINT);
    expect(described.stdout).toBe('');
  }, 300_000);

  it('draft --enhance draws the rewrite, names it beside the original (--json: enhanced), and sends the key only to the server', async () => {
    const out = join(root, 'enhanced');
    const before = openai.requests.length;
    const drafted = await zimage(['draft', 'a red fox', '--enhance', '--seed', '5', '--count', '2', '--out', out, '--json'], assisted);
    expect(drafted.code, drafted.stderr).toBe(0);
    const json = JSON.parse(drafted.stdout) as { status: string; seed: string; enhanced: { original: string; prompt: string } | null; images: { path: string }[] };
    expect(json.status).toBe('done');
    expect(json.enhanced).toEqual({ original: 'a red fox', prompt: `a red fox, ${TAIL}` });
    expect(json.images).toHaveLength(2);
    // The images were drawn from the rewrite: it is the prompt their files carry.
    for (const image of json.images) expect(JSON.parse(readTextChunks(readFileSync(image.path))['zimage-bot']!).prompt).toBe(`a red fox, ${TAIL}`);
    const requests = openai.requests.slice(before);
    expect(requests).toHaveLength(1);
    expect(requests[0]!).toMatchObject({ model: 'fake-model', texts: ['a red fox'] });
    expect(requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(drafted.stdout + drafted.stderr).not.toContain(KEY);

    // Without --json: the status while the assistant writes and the rewrite on stderr, the file on stdout.
    const plain = await zimage(['draft', 'a blue owl', '--enhance', '--count', '1', '--out', join(root, 'enhanced-lines')], assisted);
    expect(plain.code, plain.stderr).toBe(0);
    expect(linesOf(plain.stderr)[0]).toBe('Enhancing the prompt…');
    expect(linesOf(plain.stderr)).toContain(`Enhanced prompt: a blue owl, ${TAIL}`);
    expect(linesOf(plain.stdout)).toHaveLength(1);
    expect(linesOf(plain.stdout)[0]).toMatch(/\.png {2}seed \d+$/);
  }, 300_000);

  it('describe --image prints up to four prompts, one a line, from the vision model; --json counts what the prompt filter withheld', async () => {
    const before = openai.requests.length;
    const described = await zimage(['describe', '--image', photo], assisted);
    expect(described.code, described.stderr).toBe(0);
    expect(linesOf(described.stdout)).toEqual([
      '1. A 96×64 picture filled with a flat blue colour, seen straight on in even light.',
      '2. A watercolour painting of a blue field, soft edges and visible paper grain.',
      '3. A blue wall at sunset, warm low light raking across its surface.',
      '4. A close-up photograph of a blue surface from a low angle, shallow depth of field.',
    ]);
    const [request] = openai.requests.slice(before);
    expect(request!.model).toBe('fake-vision');
    expect(request!.images.map((i) => i.mime)).toEqual(['image/png']);

    openai.answer = (r) => (r.images.length > 0 ? JSON.stringify(['A quiet green lake at dawn.', 'A nude bather by a green lake.', 'A green lake under snow.']) : 'unused');
    try {
      const json = await zimage(['describe', '--image', photo, '--json'], assisted);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({ suggestions: ['A quiet green lake at dawn.', 'A green lake under snow.'], withheld: 1 });

      const lines = await zimage(['describe', '--image', photo], assisted);
      expect(lines.code, lines.stderr).toBe(0);
      expect(linesOf(lines.stdout)).toEqual(['1. A quiet green lake at dawn.', '2. A green lake under snow.']);
      expect(linesOf(lines.stderr)).toContain('1 suggestion was withheld by the prompt filter.');
      expect(lines.stdout).not.toContain('nude');
    } finally {
      openai.answer = undefined;
    }
  }, 300_000);

  it('with the server down, --enhance and describe fail (exit 3) with one line naming the server, and nothing is drawn', async () => {
    // A port that was just given back: nothing answers there.
    const gone = await FakeOpenAI.start();
    const url = gone.url;
    await gone.close();
    // At the command's own log level (no LOG_LEVEL): the failure is one line, not a log record and then the line.
    const { LOG_LEVEL: _silent, ...atDefaultLevel } = assisted;
    const down = { ...atDefaultLevel, ASSISTANT_URL: url };
    const line = `The assistant at ${url}/chat/completions cannot be reached (ECONNREFUSED)`;

    const out = join(root, 'never-down');
    const drafted = await zimage(['draft', 'a quiet harbour', '--enhance', '--out', out, '--json'], down);
    expect(drafted.code, drafted.stderr).toBe(3);
    expect(linesOf(drafted.stderr)).toEqual([line]);
    expect(drafted.stdout).toBe('');
    expect(existsSync(out)).toBe(false);

    const described = await zimage(['describe', '--image', photo, '--json'], down);
    expect(described.code, described.stderr).toBe(3);
    expect(linesOf(described.stderr)).toEqual([line]);
    expect(described.stdout).toBe('');
  }, 300_000);

  it('never prints the key, even where the server repeats it in an error and every log line is shown', async () => {
    openai.mode = { kind: 'error', status: 502, message: `upstream refused the token ${KEY}` };
    try {
      const failed = await zimage(['describe', '--image', photo], { ...assisted, LOG_LEVEL: 'debug' });
      expect(failed.code, failed.stderr).toBe(3);
      const said = failed.stdout + failed.stderr;
      expect(said).toContain('HTTP 502');
      expect(said).toContain('upstream refused the token');
      expect(said).not.toContain(KEY);
    } finally {
      openai.mode = { kind: 'normal' };
    }
  }, 300_000);
});
