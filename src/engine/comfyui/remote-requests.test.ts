import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, testConfig } from '../../../test/support/fakes.ts';
import { StyleCatalog } from '../prompt/styles.ts';
import { resolveRequest, type GenerationRequest, type ModelInfo, type ResolveContext } from '../request.ts';
import { comfyModels, comfyRoles, loadWorkflows } from './setup.ts';

/**
 * Requests for roles that run on ComfyUI are checked in the one place every request is (resolveRequest), against the
 * model their workflow's bindings describe; what a workflow cannot express is refused with the backend named.
 */
const config = testConfig({ devices: [{ name: 'gpu', provider: 'comfyui', url: 'http://x:1' }] } as never);
const models = comfyModels(comfyRoles(config), loadWorkflows(config, ROOT)) as Record<'draft' | 'refine' | 'edit', ModelInfo>;
const styles = StyleCatalog.fromFile(join(ROOT, 'config/styles.yaml'));
const owner = { platform: 'test', userId: 'u' };

function resolve(request: Partial<GenerationRequest> & Pick<GenerationRequest, 'role'>, ctx: Partial<ResolveContext> = {}) {
  return resolveRequest(
    { owner, prompt: 'a red fox', ...request },
    {
      profile: config.profiles[request.role],
      model: models[request.role],
      limits: config.limits,
      styles,
      randomSeed: () => 7,
      imagePath: request.role === 'draft' ? null : '/stored/image.png',
      maskPath: null,
      imageAspect: request.role === 'draft' ? null : 1,
      defaultCount: 1,
      ...ctx,
    },
  );
}

describe('requests for ComfyUI roles', () => {
  it('a draft gets Turbo’s size, steps and ranges from the draft workflow’s bindings', () => {
    const draft = resolve({ role: 'draft', count: 2 });
    expect(draft.ok && draft.value).toMatchObject({ modelName: 'Z-Image-Turbo', width: 1024, height: 1024, steps: 8, guidance: 0, shift: 3, strength: 1 });
    expect(resolve({ role: 'draft', steps: 30 })).toMatchObject({ ok: false, error: { code: 'out-of-range', params: { setting: 'steps', min: 4, max: 16 } } });
    expect(resolve({ role: 'draft', guidance: 2 })).toMatchObject({ ok: false, error: { code: 'out-of-range', params: { setting: 'guidance', max: 0 } } });
  });

  it('refuses chaos below 100, naming ComfyUI (every candidate there has its own seed)', () => {
    expect(resolve({ role: 'draft', chaos: 20 })).toMatchObject({ ok: false, error: { code: 'backend-unsupported', params: { knob: 'chaos', backend: 'ComfyUI' } } });
    expect(resolve({ role: 'draft', chaos: 100 }).ok).toBe(true);
  });

  it('a Vary carries its candidate’s stored image; without it the Vary is refused', () => {
    const vary = { noise: { seed: 42 }, strength: 'subtle' as const };
    const ok = resolve({ role: 'draft', vary, count: 2, parent: { jobId: 'j', index: 0 } }, { varyImage: '/outputs/j/0.png' });
    expect(ok.ok && ok.value.vary).toEqual({ image: '/outputs/j/0.png', strength: 'subtle' });
    expect(ok.ok && ok.value.candidates.map((c) => c.noise.seed)).toEqual([7, 8]);
    expect(resolve({ role: 'draft', vary, parent: { jobId: 'j', index: 0 } }, { varyImage: null })).toMatchObject({ ok: false, error: { code: 'missing-image' } });
    const noVary = comfyModels(comfyRoles(config), new Map([...loadWorkflows(config, ROOT)].filter(([kind]) => kind !== 'vary')));
    expect(resolveRequest({ owner, prompt: 'x', role: 'draft', vary }, { profile: config.profiles.draft, model: noVary.draft!, limits: config.limits, styles, randomSeed: () => 1, imagePath: null, maskPath: null, imageAspect: null, defaultCount: 1, varyImage: '/a.png' })).toMatchObject({
      ok: false,
      error: { code: 'backend-unsupported', params: { knob: 'vary' } },
    });
  });

  it('an edit by instruction runs Qwen-Image-Edit at strength 1 and refuses another strength; a masked edit runs Z-Image with its strength', () => {
    const edit = resolve({ role: 'edit', prompt: 'make it snow' });
    expect(edit.ok && edit.value).toMatchObject({ modelName: 'Qwen-Image-Edit', strength: 1, steps: 20, guidance: 1.5, mask: null });
    expect(resolve({ role: 'edit', strength: 0.5 })).toMatchObject({ ok: false, error: { code: 'backend-unsupported', params: { knob: 'strength', backend: 'ComfyUI' } } });
    const masked = resolve({ role: 'edit', region: 'left', strength: 0.8 });
    expect(masked.ok && masked.value).toMatchObject({ modelName: 'Z-Image', strength: 0.8, steps: 30, guidance: 3, mask: { kind: 'region' } });
  });

  it('refine uses the profile’s range over the workflow’s defaults', () => {
    const refine = resolve({ role: 'refine' });
    expect(refine.ok && refine.value).toMatchObject({ modelName: 'Z-Image', steps: 30, guidance: 3, strength: 0.6 });
    expect(resolve({ role: 'refine', steps: 20 })).toMatchObject({ ok: false, error: { params: { setting: 'steps', min: 28, max: 50 } } });
  });
});
