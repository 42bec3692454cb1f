import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeComfyUI, WORKFLOW_MODELS } from '../../../test/support/fake-comfyui.ts';
import { drawPattern } from '../../../test/support/fake-comfyui-render.ts';
import { ROOT, tempDir, testConfig } from '../../../test/support/fakes.ts';
import { jobSpec } from '../../../test/support/specs.ts';
import type { ComfyDeviceConfig } from '../../config/schema.ts';
import type { RunOutcome } from '../backend.ts';
import type { JobSpec } from '../request.ts';
import { ComfyBackend } from './comfy-backend.ts';
import { openWebSocket } from '../../websocket.ts';
import { loadWorkflows } from './setup.ts';
import { loadWorkflow } from './workflow.ts';

/**
 * One ComfyUI backend against the fake server (its protocol, validation and event sequence as ComfyUI's): the
 * shipped workflows run, each candidate is its own prompt with its own seed, outputs are checked, and the failures
 * a real server has — a node that raises, a hung prompt, a dropped socket, a dead server, a missing node or model —
 * end as the outcomes the dispatcher expects. Every wait is on an event, never on the clock.
 */
const started: { fake: FakeComfyUI; backend: ComfyBackend }[] = [];

afterEach(async () => {
  for (const { fake, backend } of started.splice(0)) {
    await backend.stop({ graceful: false });
    await fake.close();
  }
});

const config = testConfig({
  devices: [{ name: 'gpu1', provider: 'comfyui', url: 'http://127.0.0.1:1' }],
  comfyui: { hungPromptSeconds: 2, requestTimeoutMs: 20_000, reconnectMinMs: 20, reconnectMaxMs: 200 },
} as never);
const workflows = loadWorkflows(config, ROOT);
const withUpscale = new Map([...workflows, ['upscale', loadWorkflow('upscale', join(ROOT, 'config/workflows/upscale.json'))] as const]);

async function server(options: Parameters<typeof FakeComfyUI.start>[0] = {}, device: Partial<ComfyDeviceConfig> = {}, env: NodeJS.ProcessEnv = {}, kinds = workflows) {
  const fake = await FakeComfyUI.start({ stepMs: 1, ...options });
  const log: { level: string; message: string }[] = [];
  const backend = new ComfyBackend({
    device: { name: 'gpu1', provider: 'comfyui', url: fake.url, concurrency: 1, authHeader: 'Authorization', authEnv: null, ...device },
    settings: config.comfyui,
    workflows: kinds,
    log: (level, message) => log.push({ level, message }),
    onChange: () => undefined,
    openSocket: openWebSocket,
    env,
  });
  started.push({ fake, backend });
  await backend.start();
  return { fake, backend, log };
}

const draft = (fields: Partial<JobSpec> & { prompt?: string; seeds?: number[] } = {}): JobSpec =>
  jobSpec('ComfyUI', { modelName: 'Z-Image-Turbo', width: 512, height: 512, ...fields });

function collect(backend: ComfyBackend, spec: JobSpec) {
  const steps: [number, number][] = [];
  const previews: number[] = [];
  const { run, outcome } = backend.run(spec, (step, total, preview) => {
    steps.push([step, total]);
    if (preview) previews.push(preview.width);
  });
  return { run, outcome, steps, previews };
}

const pixelsOf = (outcome: RunOutcome, index: number): Uint8Array => (outcome.kind === 'done' ? outcome.output.candidates[index]!.data : new Uint8Array());

async function storedImage(width: number, height: number, colour: [number, number, number]): Promise<string> {
  const dir = tempDir('comfy-input-');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'source.png');
  writeFileSync(path, await sharp({ create: { width, height, channels: 3, background: { r: colour[0], g: colour[1], b: colour[2] } } }).png().toBuffer());
  return path;
}

describe('ComfyUI backend', () => {
  it('runs a draft as one prompt per candidate with its own seed, reports steps and previews, and returns PNGs of the size asked', async () => {
    const { fake, backend } = await server();
    expect(backend.freeSlots).toBe(1);
    expect(backend.serves(draft())).toBe(true);
    const spec = draft({ prompt: 'a red fox', seeds: [42, 43], steps: 8 });
    const { outcome, steps } = collect(backend, spec);
    const result = await outcome;
    expect(result.kind).toBe('done');
    if (result.kind !== 'done') return;
    expect(result.output.candidates.map((c) => [c.width, c.height])).toEqual([
      [512, 512],
      [512, 512],
    ]);
    expect(result.output.provider).toBe('comfyui');
    // The fake draws from seed and prompt: each candidate is exactly its own seed's picture.
    expect(Buffer.from(pixelsOf(result, 0)).equals(Buffer.from(drawPattern(42, 'a red fox', 512, 512).data))).toBe(true);
    expect(Buffer.from(pixelsOf(result, 1)).equals(Buffer.from(drawPattern(43, 'a red fox', 512, 512).data))).toBe(true);
    expect(steps.at(-1)).toEqual([16, 16]);
    expect(steps.map(([s]) => s)).toEqual([...steps.map(([s]) => s)].sort((a, b) => a - b));
    // Two prompts, each with the template's nodes and the bound values (cfg = 1 + guidance).
    expect(fake.accepted).toHaveLength(2);
    const sampler = fake.accepted[1]!.prompt['8']!.inputs;
    expect(sampler).toMatchObject({ seed: 43, steps: 8, cfg: 1, sampler_name: 'res_multistep', scheduler: 'simple' });
    expect(fake.accepted[0]!.prompt['6']!.inputs).toMatchObject({ width: 512, height: 512, batch_size: 1 });
    expect(fake.accepted[0]!.prompt['7']!.inputs).toMatchObject({ shift: 3 });
    expect(backend.freeSlots).toBe(1);
  });

  it('runs a workflow of one’s own whose output is SaveImage, fetching its file with /view', async () => {
    const dir = tempDir('own-workflow-');
    const graph = JSON.parse(readFileSync(join(ROOT, 'config/workflows/draft.json'), 'utf8')) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    graph['10'] = { class_type: 'SaveImage', inputs: { images: ['9', 0], filename_prefix: 'zimage' } };
    writeFileSync(join(dir, 'mine.json'), JSON.stringify(graph));
    writeFileSync(join(dir, 'mine.bindings.yaml'), readFileSync(join(ROOT, 'config/workflows/draft.bindings.yaml'), 'utf8'));
    const own = new Map([['draft', loadWorkflow('draft', join(dir, 'mine.json'))]] as const);
    const { fake, backend } = await server({}, {}, {}, own);
    const result = await collect(backend, draft({ seeds: [8] })).outcome;
    expect(result.kind).toBe('done');
    expect(Buffer.from(pixelsOf(result, 0)).equals(Buffer.from(drawPattern(8, 'a red fox', 512, 512).data))).toBe(true);
    expect(fake.requests.get('GET /view')).toBe(1);
  });

  it('sends previews from the sampler when asked for', async () => {
    const { fake, backend } = await server({ stepMs: 30 });
    const { outcome, previews } = collect(backend, draft({ steps: 16, seeds: [1] }));
    expect((await outcome).kind).toBe('done');
    expect(previews.length).toBeGreaterThan(0);
    expect(fake.accepted[0]!.clientId).toMatch(/^zimage-bot-/);
  });

  it('the same seed and parameters on the same server give the same image', async () => {
    const { backend } = await server();
    const first = await collect(backend, draft({ seeds: [7] })).outcome;
    const second = await collect(backend, draft({ seeds: [7] })).outcome;
    expect(Buffer.from(pixelsOf(first, 0)).equals(Buffer.from(pixelsOf(second, 0)))).toBe(true);
  });

  it('uploads the source at the job size into the ring and refines it with denoise = strength and a real negative prompt', async () => {
    const { fake, backend } = await server();
    const image = await storedImage(300, 200, [200, 10, 10]);
    const spec = jobSpec('ComfyUI', { role: 'refine', modelName: 'Z-Image', width: 768, height: 512, steps: 30, guidance: 3, strength: 0.6, image, negativePrompt: 'blurry', seeds: [5] });
    const result = await collect(backend, spec).outcome;
    expect(result.kind).toBe('done');
    const prompt = fake.accepted[0]!.prompt;
    // 18 of a 30-step schedule run at strength 0.6, as locally: ComfyUI's KSampler runs `steps` over steps ÷ denoise.
    expect(prompt['9']!.inputs).toMatchObject({ denoise: 0.6, cfg: 4, steps: 18, seed: 5 });
    expect(prompt['5']!.inputs).toMatchObject({ text: 'blurry' });
    expect(prompt['6']!.inputs.image).toBe('zimage-bot/in-0.png');
    expect(fake.inputFiles).toEqual(['zimage-bot/in-0.png']);
    const uploaded = await sharp(Buffer.from(await (await fetch(`${fake.url}/view?filename=in-0.png&subfolder=zimage-bot&type=input`)).arrayBuffer())).metadata();
    expect([uploaded.width, uploaded.height]).toEqual([768, 512]);
  });

  it('inpaints inside a region only and keeps the source outside it', async () => {
    const { fake, backend } = await server();
    const image = await storedImage(512, 512, [0, 0, 255]);
    const spec = jobSpec('ComfyUI', { role: 'edit', modelName: 'Z-Image', width: 512, height: 512, steps: 20, guidance: 3, strength: 1, image, mask: { kind: 'region', region: { x: 0, y: 0, w: 0.5, h: 1 }, composite: true }, seeds: [9] });
    const result = await collect(backend, spec).outcome;
    expect(result.kind).toBe('done');
    expect(fake.accepted[0]!.prompt['7']!.inputs).toMatchObject({ image: 'zimage-bot/in-1.png', channel: 'red' });
    const data = pixelsOf(result, 0);
    // Right half (outside the region): the source's exact blue.
    const right = (100 * 512 + 400) * 3;
    expect([data[right], data[right + 1], data[right + 2]]).toEqual([0, 0, 255]);
    const left = (100 * 512 + 100) * 3;
    expect([data[left], data[left + 1], data[left + 2]]).not.toEqual([0, 0, 255]);
  });

  it('edits by instruction with Qwen-Image-Edit at denoise 1 and its recommended cfg', async () => {
    const { fake, backend } = await server();
    const image = await storedImage(512, 512, [10, 200, 10]);
    const spec = jobSpec('ComfyUI', { role: 'edit', modelName: 'Qwen-Image-Edit', width: 512, height: 512, steps: 20, guidance: 1.5, strength: 1, image, seeds: [3], prompt: 'make it snow' });
    expect((await collect(backend, spec).outcome).kind).toBe('done');
    const prompt = fake.accepted[0]!.prompt;
    expect(prompt['5']!.inputs).toMatchObject({ prompt: 'make it snow' });
    expect(prompt['10']!.inputs).toMatchObject({ cfg: 2.5, denoise: 1, sampler_name: 'euler' });
  });

  it('varies a candidate as img2img of it at the configured denoise', async () => {
    const { fake, backend } = await server();
    const image = await storedImage(512, 512, [90, 90, 90]);
    const spec = draft({ seeds: [11, 12], vary: { image, strength: 'strong' } });
    expect((await collect(backend, spec).outcome).kind).toBe('done');
    expect(fake.accepted.map((a) => a.prompt['9']!.inputs.denoise)).toEqual([0.75, 0.75]);
    // One upload for both candidates.
    expect(fake.inputFiles).toHaveLength(1);
  });

  it('upscales a candidate on any server that passed its checks: the stored PNG uploaded as it is, back at the workflow’s scale', async () => {
    // A server for drafts only still upscales: an upscale is no role's model.
    const { fake, backend } = await server({}, { roles: ['draft'] }, {}, withUpscale);
    expect(backend.upscales).toBe(true);
    // The candidate as postprocess stores it: an RGB PNG, red on the left, blue on the right.
    const pixels = Buffer.alloc(600 * 200 * 3);
    for (let p = 0; p < 600 * 200; p++) pixels.set(p % 600 < 300 ? [200, 0, 0] : [0, 0, 200], p * 3);
    const dir = tempDir('comfy-upscale-');
    const stored = join(dir, '0.png');
    writeFileSync(stored, await sharp(pixels, { raw: { width: 600, height: 200, channels: 3 } }).png().toBuffer());
    const spec = jobSpec('ComfyUI', { role: 'refine', modelName: 'Z-Image-Turbo', width: 1200, height: 400, image: stored, seeds: [42], upscale: { model: '4x-UltraSharp.pth', scale: 2, input: { width: 600, height: 200 } } });
    expect(backend.serves(spec)).toBe(true);
    expect(backend.unavailable(spec)).toBeUndefined();
    const run = collect(backend, spec);
    const result = await run.outcome;
    expect(result.kind).toBe('done');
    if (result.kind !== 'done') return;
    expect(result.output.candidates.map((c) => [c.width, c.height])).toEqual([[1200, 400]]);
    const prompt = fake.accepted[0]!.prompt;
    expect(Object.values(prompt).map((n) => n.class_type)).toEqual(['LoadImage', 'UpscaleModelLoader', 'ImageUpscaleWithModel', 'ImageScaleBy', 'SaveImageWebsocket']);
    expect(prompt['1']!.inputs.image).toBe('zimage-bot/in-0.png');
    expect(prompt['2']!.inputs.model_name).toBe('4x-UltraSharp.pth');
    const uploaded = Buffer.from(await (await fetch(`${fake.url}/view?filename=in-0.png&subfolder=zimage-bot&type=input`)).arrayBuffer());
    expect(uploaded.equals(readFileSync(stored))).toBe(true);
    // The model's tiles are the job's steps (600×200 is two 512-pixel tiles).
    expect(run.steps).toEqual([
      [1, 2],
      [2, 2],
    ]);
    const data = pixelsOf(result, 0);
    const at = (x: number, y: number): number[] => [...data.subarray((y * 1200 + x) * 3, (y * 1200 + x) * 3 + 3)];
    expect(at(10, 200)).toEqual([200, 0, 0]);
    expect(at(1190, 200)).toEqual([0, 0, 200]);
  });

  it('upscales nowhere without the upscale model file or without the workflow, and says which', async () => {
    const missing = await server({ models: { ...WORKFLOW_MODELS, upscale_models: [] } }, {}, {}, withUpscale);
    const spec = jobSpec('ComfyUI', { role: 'refine', width: 128, height: 128, image: '/x.png', upscale: { model: '4x-UltraSharp.pth', scale: 2, input: { width: 64, height: 64 } } });
    expect(missing.backend.upscales).toBe(false);
    expect(missing.backend.serves(spec)).toBe(false);
    expect(missing.backend.unavailable(spec)).toBe(`gpu1 cannot run upscale: model file 4x-UltraSharp.pth is missing from its upscale_models folder (${join(ROOT, 'config/workflows/upscale.json')})`);
    expect(missing.log).toContainEqual({ level: 'warn', message: expect.stringMatching(/^ComfyUI gpu1: upscale is unavailable: model file 4x-UltraSharp\.pth is missing/) });
    expect(missing.backend.serves(draft())).toBe(true);
    const none = await server();
    expect(none.backend.upscales).toBe(false);
    expect(none.backend.unavailable(spec)).toBe('no upscale workflow is configured (comfyui.workflows.upscale)');
  });

  it('cancels a queued prompt by deleting it from the queue, and a running one by interrupting it, touching nothing else', async () => {
    const { fake, backend } = await server();
    // Another client's prompt holds the server (it hangs until interrupted), so ours waits in ComfyUI's queue.
    fake.hangNext();
    const other = await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: otherPrompt() }) });
    expect(other.status).toBe(200);
    const { prompt_id: otherId } = (await other.json()) as { prompt_id: string };
    await waitUntil(() => fake.runningPrompt === otherId);
    const queued = collect(backend, draft({ seeds: [1] }));
    await waitUntil(() => fake.pendingPrompts.length === 1);
    backend.cancel(queued.run);
    expect((await queued.outcome).kind).toBe('cancelled');
    expect(fake.pendingPrompts).toEqual([]);
    expect(fake.runningPrompt).toBe(otherId);
    await fetch(`${fake.url}/interrupt`, { method: 'POST', body: JSON.stringify({ prompt_id: otherId }) });
    await waitUntil(() => fake.runningPrompt === undefined);

    fake.hangNext();
    const running = collect(backend, draft({ seeds: [1] }));
    await waitUntil(() => fake.runningPrompt !== undefined);
    backend.cancel(running.run);
    expect((await running.outcome).kind).toBe('cancelled');
    const history = (await (await fetch(`${fake.url}/history`)).json()) as Record<string, { status: { messages: [string][] } }>;
    expect(history[fake.runningPrompt ?? fake.started.at(-1)!]!.status.messages.map(([event]) => event)).toContain('execution_interrupted');
    expect(fake.accepted.filter((a) => a.clientId !== undefined)).toHaveLength(2);
  });

  it('fails a job with ComfyUI’s own message when a node raises', async () => {
    const { fake, backend } = await server();
    fake.failNext('VAEDecode', 'CUDA out of memory');
    const result = await collect(backend, draft()).outcome;
    expect(result).toMatchObject({ kind: 'failed', error: { code: 'backend-failed', params: { backend: 'gpu1' } } });
    if (result.kind === 'failed') expect(result.error.message).toContain('CUDA out of memory');
    expect(backend.freeSlots).toBe(1);
  });

  it('interrupts a hung prompt after hungPromptSeconds and fails its job', async () => {
    const { fake, backend } = await server();
    fake.hangNext();
    const result = await collect(backend, draft()).outcome;
    expect(result).toMatchObject({ kind: 'failed', error: { code: 'backend-hung', params: { backend: 'gpu1', seconds: 2 } } });
    expect(fake.runningPrompt).toBeUndefined();
  });

  it('follows a prompt across a dropped socket (reconnecting under the same client id) and delivers it', async () => {
    const { fake, backend } = await server({ stepMs: 10 });
    const run = collect(backend, draft({ steps: 40, seeds: [1] }));
    await waitUntil(() => run.steps.length > 2);
    fake.dropSockets();
    const result = await run.outcome;
    expect(result.kind).toBe('done');
    expect(backend.stats().restarts).toBe(1);
  });

  it('delivers a prompt that started while the socket was down (its start and maybe its image missed)', async () => {
    const { fake, backend } = await server({ stepMs: 10 });
    fake.pause();
    const run = collect(backend, draft({ seeds: [2] }));
    await waitUntil(() => fake.pendingPrompts.length === 1);
    fake.dropSockets();
    fake.resume();
    const result = await run.outcome;
    expect(result.kind).toBe('done');
    expect(Buffer.from(pixelsOf(result, 0)).equals(Buffer.from(drawPattern(2, 'a red fox', 512, 512).data))).toBe(true);
  });

  it('reports a job as lost when its server dies mid-run, and recovers the slot when the server is back', async () => {
    const { fake, backend, log } = await server();
    fake.hangNext();
    const run = collect(backend, draft({ seeds: [1] }));
    await waitUntil(() => fake.runningPrompt !== undefined);
    await fake.die();
    const result = await run.outcome;
    expect(result).toMatchObject({ kind: 'lost', error: { code: 'backend-lost' } });
    await waitUntil(() => backend.freeSlots === 0);
    expect(backend.unavailable(draft())).toContain('gpu1 is unavailable');
    await fake.revive();
    await waitUntil(() => backend.freeSlots === 1);
    expect(log.some((l) => l.message === 'ComfyUI gpu1 is up')).toBe(true);
  });

  it('disables only the role whose node or model file is missing, naming server, role and file', async () => {
    const { backend, log } = await server({ without: ['TextEncodeQwenImageEdit'], models: { ...WORKFLOW_MODELS, diffusion_models: ['z_image_turbo_bf16.safetensors'] } });
    expect(backend.serves(draft())).toBe(true);
    const edit = jobSpec('ComfyUI', { role: 'edit', image: '/x.png' });
    const refine = jobSpec('ComfyUI', { role: 'refine', image: '/x.png' });
    expect(backend.serves(edit)).toBe(false);
    expect(backend.serves(refine)).toBe(false);
    expect(backend.unavailable(edit)).toBe('gpu1 cannot run edit by instruction: node TextEncodeQwenImageEdit is not installed (' + join(ROOT, 'config/workflows/edit.json') + ')');
    expect(backend.unavailable(refine)).toContain('model file z_image.safetensors is missing from its diffusion_models folder');
    expect(log.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ComfyUI gpu1: refine is unavailable: model file z_image.safetensors/), expect.stringMatching(/^ComfyUI gpu1: edit by instruction is unavailable: node TextEncodeQwenImageEdit/)]),
    );
  });

  it('sends the auth header read from the environment to a server behind a proxy, and is unavailable without it', async () => {
    const header = { name: 'X-Proxy-Key', value: 'secret-1' };
    const { backend } = await server({ requireHeader: header }, { authHeader: 'X-Proxy-Key', authEnv: 'COMFY_KEY' }, { COMFY_KEY: 'secret-1' });
    expect((await collect(backend, draft()).outcome).kind).toBe('done');
    const wrong = await server({ requireHeader: header });
    expect(wrong.backend.freeSlots).toBe(0);
    expect(wrong.backend.unavailable(draft())).toContain('401');
  });

  it('refuses to start when the auth variable it names is not set', async () => {
    await expect(server({}, { authEnv: 'NOT_SET_ANYWHERE' })).rejects.toThrow('environment variable NOT_SET_ANYWHERE, which is not set');
  });
});

/** A prompt of another ComfyUI user: the draft workflow with many steps. */
function otherPrompt(): Record<string, unknown> {
  const graph = structuredClone(workflows.get('draft')!.graph) as Record<string, { inputs: Record<string, unknown> }>;
  graph['8']!.inputs.steps = 15;
  graph['6']!.inputs.width = 64;
  graph['6']!.inputs.height = 64;
  return graph;
}

async function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
