import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeComfyUI } from '../../support/fake-comfyui.ts';
import { ROOT, tempDir } from '../../support/fakes.ts';

const run = promisify(execFile);
const BIN = join(ROOT, 'bin/zimage.js');

/**
 * `zimage` against ComfyUI, as a user runs it: COMFYUI_URL is all it needs. It waits for the servers' first checks,
 * names the server that ran the job in --json, refuses (exit 2) when no server can run the role, fails (exit 3) with
 * ComfyUI's own message, and stops (exit 1) on a workflow file that cannot be bound, naming the file and the key.
 */
async function zimage(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent', ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let server: FakeComfyUI;
beforeAll(async () => {
  server = await FakeComfyUI.start({ stepMs: 1 });
});
afterAll(async () => {
  await server.close();
});

describe('zimage on ComfyUI', () => {
  const root = tempDir('zimage-cli-comfy-');

  it('draft runs on the server named by COMFYUI_URL and --json names it', async () => {
    const out = join(root, 'draft');
    const result = await zimage(['draft', 'a red fox', '--seed', '42', '--count', '2', '--ar', '1:1', '--out', out, '--json'], { COMFYUI_URL: server.url, DATA_DIR: join(root, 'data1') });
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as { device: string; provider: string; model: string; size: number[]; images: { path: string; seed: string }[] };
    expect(json).toMatchObject({ device: `127.0.0.1:${server.port}`, provider: 'comfyui', model: 'Z-Image-Turbo', size: [1024, 1024] });
    expect(json.images.map((i) => i.seed)).toEqual(['42', '43']);
    expect((await sharp(json.images[0]!.path).metadata()).width).toBe(1024);
  });

  it('edit with an image by instruction runs Qwen-Image-Edit', async () => {
    const source = join(root, 'photo.png');
    await sharp({ create: { width: 800, height: 600, channels: 3, background: '#3366aa' } }).png().toFile(source);
    const result = await zimage(['edit', '--image', source, 'make it night', '--out', join(root, 'edit'), '--json'], { COMFYUI_URL: server.url, DATA_DIR: join(root, 'data1') });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ role: 'edit', model: 'Qwen-Image-Edit', provider: 'comfyui' });
  });

  it('refuses with exit 2 and the reason when no server can run the role', async () => {
    // A port where nothing listens any more.
    const gone = await FakeComfyUI.start();
    const url = gone.url;
    await gone.close();
    const result = await zimage(['draft', 'a fox', '--out', join(root, 'never')], { COMFYUI_URL: url, DATA_DIR: join(root, 'data2') });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`No image server can run /draft right now: 127.0.0.1:${gone.port} is unavailable: ${url} cannot be reached (ECONNREFUSED)`);
  });

  it('fails with exit 3 and ComfyUI’s own message when the workflow fails on the server', async () => {
    server.failNext('KSampler', 'Allocation on device');
    const result = await zimage(['draft', 'a fox', '--count', '1', '--out', join(root, 'failed')], { COMFYUI_URL: server.url, DATA_DIR: join(root, 'data3') });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`ComfyUI on 127.0.0.1:${server.port} failed in node 8 (KSampler): Allocation on device`);
  });

  it('stops with exit 1, naming the file and the key, on a workflow it cannot bind', async () => {
    const dir = join(root, 'workflows');
    mkdirSync(dir);
    for (const name of ['draft.json', 'draft.bindings.yaml', 'vary.json', 'vary.bindings.yaml', 'refine.json', 'refine.bindings.yaml', 'inpaint.json', 'inpaint.bindings.yaml', 'edit.json', 'edit.bindings.yaml']) {
      writeFileSync(join(dir, name), readFileSync(join(ROOT, 'config/workflows', name)));
    }
    writeFileSync(join(dir, 'refine.bindings.yaml'), readFileSync(join(dir, 'refine.bindings.yaml'), 'utf8').replace('denoise: 9.denoise', 'denoise: 9.strength'));
    const local = join(root, 'local.yaml');
    writeFileSync(local, `comfyui:\n  workflowDir: ${dir}\n`);
    const result = await zimage(['draft', 'a fox', '--out', join(root, 'never')], { COMFYUI_URL: server.url, DATA_DIR: join(root, 'data4'), ZIMAGE_CONFIG: local });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `Cannot start: ${join(dir, 'refine.bindings.yaml')}: "inputs.denoise" names input "strength" of node "9" (KSampler), which it does not have (it has model, positive, negative, latent_image, seed, steps, cfg, sampler_name, scheduler, denoise)`,
    );
  });
});
