import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_PIPELINE, fakeModels, FakeModerator, owner, ROOT, testConfig } from '../../test/support/fakes.ts';
import { jobSpec } from '../../test/support/specs.ts';
import { createLogger } from '../logging.ts';
import { loadWorkflow, type Workflow, type WorkflowKind } from './comfyui/workflow.ts';
import { upscaleModelOf } from './comfyui/setup.ts';
import { Engine } from './engine.ts';
import { StyleCatalog } from './prompt/styles.ts';
import type { GenerationRequest } from './request.ts';
import { jobCost } from './sampling-settings.ts';
import { resolveUpscale, upscaleCost, type UpscaleModel } from './upscale-request.ts';

/**
 * An upscale request: one stored candidate through the upscale workflow, its size times the workflow's scale, kept
 * within limits.maxSide, charged by the pixels it makes; refused with the reason where nothing can run it.
 */
const upscaleWorkflow = loadWorkflow('upscale', join(ROOT, 'config/workflows/upscale.json'));
const model: UpscaleModel = { name: '4x-UltraSharp.pth', scale: 2, file: '/w/upscale.json' };
const parent = jobSpec('/models/turbo', { modelName: 'Z-Image-Turbo', width: 1024, height: 768, steps: 8, seeds: [42, 43], prompt: 'a red fox', negativePrompt: 'blurry' });
const request: GenerationRequest = { role: 'refine', action: 'upscale', upscale: true, owner: owner('u'), prompt: 'a red fox', image: { path: '/out/j/1.png' }, noises: [{ seed: 43 }], parent: { jobId: 'j', index: 1 } };
const image = { path: '/out/j/1.png', width: 1024, height: 768 };

describe('resolveUpscale', () => {
  it('makes the candidate the workflow’s scale larger, keeping what drew it and recording the upscale', () => {
    const spec = resolveUpscale(request, { model, maxSide: 2048, image, parent });
    expect(spec.ok && spec.value).toMatchObject({
      role: 'refine',
      width: 2048,
      height: 1536,
      image: '/out/j/1.png',
      mask: null,
      modelName: 'Z-Image-Turbo',
      steps: 8,
      seed: 43,
      negativePrompt: 'blurry',
      userPrompt: 'a red fox',
      candidates: [{ prompt: 'a red fox', noise: { seed: 43 } }],
      upscale: { model: '4x-UltraSharp.pth', scale: 2, input: { width: 1024, height: 768 } },
    });
    // An image of nobody's job: the upscale model is what made it.
    const bare = resolveUpscale({ ...request, noises: undefined, parent: undefined }, { model: { ...model, scale: 1.5 }, maxSide: 2048, image, parent: null });
    expect(bare.ok && bare.value).toMatchObject({ width: 1536, height: 1152, modelName: '4x-UltraSharp.pth', seed: 0 });
  });

  it('refuses an output over limits.maxSide, naming both sizes, and what an upscale does not take', () => {
    expect(resolveUpscale(request, { model, maxSide: 1536, image, parent })).toEqual({
      ok: false,
      error: {
        code: 'bad-size',
        message: 'upscaling 1024×768 by 2 makes 2048×1536, over the largest side allowed here (1536 pixels)',
        params: { width: 2048, height: 1536, max: 1536 },
      },
    });
    expect(resolveUpscale(request, { model, maxSide: 2048, image: null, parent })).toMatchObject({ ok: false, error: { code: 'missing-image' } });
    expect(resolveUpscale({ ...request, region: 'left' }, { model, maxSide: 2048, image, parent })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('costs one unit per output megapixel in the fair queue: twice the side, four times the cost', () => {
    const small = resolveUpscale(request, { model, maxSide: 4096, image: { ...image, width: 512, height: 512 }, parent });
    const large = resolveUpscale(request, { model, maxSide: 4096, image: { ...image, width: 1024, height: 1024 }, parent });
    if (!small.ok || !large.ok) throw new Error('refused');
    expect(upscaleCost(small.value)).toBeCloseTo(1.048576, 6);
    expect(upscaleCost(large.value)).toBeCloseTo(4 * upscaleCost(small.value), 9);
    // Not what sampling the parent's steps at that size would cost.
    expect(jobCost(large.value)).toBeGreaterThan(upscaleCost(large.value));
  });

  it('reads the model and the scale from the shipped workflow and its bindings', () => {
    expect(upscaleModelOf(new Map([['upscale', upscaleWorkflow]]))).toEqual({ name: '4x-UltraSharp.pth', scale: 2, file: upscaleWorkflow.file });
    expect(upscaleModelOf(new Map())).toBeNull();
  });
});

describe('an upscale on local devices only', () => {
  const engines: Engine[] = [];
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.shutdown()));
  });

  async function start(comfyWorkflows?: ReadonlyMap<WorkflowKind, Workflow>): Promise<Engine> {
    const engine = await Engine.start({
      config: testConfig(),
      models: fakeModels(),
      styles: StyleCatalog.fromFile(join(ROOT, 'config/styles.yaml')),
      moderator: new FakeModerator(),
      pipelineModule: FAKE_PIPELINE,
      pipelineOptions: { stepMs: 0 },
      logger: createLogger('silent'),
      ...(comfyWorkflows ? { comfyWorkflows } : {}),
    });
    engines.push(engine);
    return engine;
  }

  async function candidateOf(engine: Engine): Promise<GenerationRequest> {
    const draft = await engine.submit({ role: 'draft', owner: owner('u'), prompt: 'a fox', seed: 3, count: 1 });
    if (!draft.ok) throw new Error(draft.error.message);
    const done = await draft.value.settled;
    if (done.type !== 'done') throw new Error(done.type);
    return { ...request, image: { path: done.result.images[0]!.path! }, parent: { jobId: draft.value.id, index: 0 } };
  }

  it('is refused with the reason when no upscale workflow is configured, and none is offered', async () => {
    const engine = await start();
    const refused = await engine.check(await candidateOf(engine));
    expect(refused).toMatchObject({ ok: false, error: { code: 'no-backend', params: { action: 'upscale', reasons: expect.stringContaining('no upscale workflow is configured (comfyui.workflows.upscale') } } });
    expect(engine.canUpscale()).toBe(false);
  });

  it('is refused by a local ONNX device, which has no upscale model, even with the workflow configured; nothing is queued', async () => {
    const engine = await start(new Map([['upscale', upscaleWorkflow]]));
    const wanted = await candidateOf(engine);
    const refused = await engine.submit(wanted);
    expect(refused).toMatchObject({
      ok: false,
      error: {
        code: 'no-backend',
        message: 'No backend can upscale now: cpu0 runs the local ONNX model, which has no upscale model (an upscale runs on a ComfyUI server with comfyui.workflows.upscale)',
        params: { action: 'upscale' },
      },
    });
    expect(engine.canUpscale()).toBe(false);
    expect(engine.history.recent({ limit: 10 }).map((r) => r.action)).toEqual(['draft']);
  });
});
