import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir, testConfig } from '../../../test/support/fakes.ts';
import { loadConfig } from '../../config/load.ts';
import { candidateValues, workflowKindOf } from './job-inputs.ts';
import { comfyModels, comfyRoles, loadWorkflows } from './setup.ts';
import { buildPrompt, fixedInputs, loadWorkflow, WORKFLOW_KINDS, WorkflowError, type WorkflowKind } from './workflow.ts';
import { jobSpec } from '../../../test/support/specs.ts';

const SHIPPED = join(ROOT, 'config/workflows');

/** A copy of a shipped workflow in a temporary folder, its bindings changed by `edit`. */
function variant(kind: WorkflowKind, edit: { graph?: (text: string) => string; bindings?: (text: string) => string }): string {
  const dir = tempDir('workflow-');
  const graph = readFileSync(join(SHIPPED, `${kind}.json`), 'utf8');
  const bindings = readFileSync(join(SHIPPED, `${kind}.bindings.yaml`), 'utf8');
  writeFileSync(join(dir, `${kind}.json`), edit.graph ? edit.graph(graph) : graph);
  writeFileSync(join(dir, `${kind}.bindings.yaml`), edit.bindings ? edit.bindings(bindings) : bindings);
  return join(dir, `${kind}.json`);
}

describe('workflow files', () => {
  it('loads every shipped workflow with its bindings, its model and its output node', () => {
    for (const kind of WORKFLOW_KINDS) {
      const workflow = loadWorkflow(kind, join(SHIPPED, `${kind}.json`));
      expect(workflow.output.classType).toBe('SaveImageWebsocket');
      if (kind !== 'upscale') expect(workflow.model?.defaults.minSteps).toBeGreaterThan(0);
    }
    expect(loadWorkflow('draft', join(SHIPPED, 'draft.json')).model).toMatchObject({ name: 'Z-Image-Turbo', shift: 3, defaults: { steps: 8, guidance: 0, distilled: true } });
    expect(loadWorkflow('refine', join(SHIPPED, 'refine.json')).model).toMatchObject({ name: 'Z-Image', defaults: { guidance: 3, distilled: false } });
    expect(loadWorkflow('edit', join(SHIPPED, 'edit.json')).model).toMatchObject({ name: 'Qwen-Image-Edit', defaults: { guidance: 1.5 } });
  });

  it('the Turbo draft is ComfyUI’s template: lumina2 CLIP, shift 3, 8 steps of res_multistep/simple at cfg 1', () => {
    const draft = loadWorkflow('draft', join(SHIPPED, 'draft.json'));
    const fixed = Object.fromEntries(fixedInputs(draft).map((f) => [`${f.classType}.${f.input}`, f.value]));
    expect(fixed).toMatchObject({
      'UNETLoader.unet_name': 'z_image_turbo_bf16.safetensors',
      'CLIPLoader.clip_name': 'qwen_3_4b.safetensors',
      'CLIPLoader.type': 'lumina2',
      'VAELoader.vae_name': 'ae.safetensors',
      'KSampler.sampler_name': 'res_multistep',
      'KSampler.scheduler': 'simple',
    });
    const spec = jobSpec('x', { steps: 8, guidance: 0, width: 1024, height: 768, seeds: [42], prompt: 'a fox' });
    const graph = buildPrompt(draft, candidateValues(spec, 0, {}, { subtle: 0.45, strong: 0.75 }));
    expect(graph['8']!.inputs).toMatchObject({ seed: 42, steps: 8, cfg: 1, denoise: 1 });
    expect(graph['6']!.inputs).toMatchObject({ width: 1024, height: 768, batch_size: 1 });
    expect(graph['4']!.inputs.text).toBe('a fox');
    // The file itself is never changed.
    expect(draft.graph['8']!.inputs.seed).toBe(0);
  });

  it('maps the project’s guidance g onto ComfyUI’s cfg = 1 + g', () => {
    const refine = loadWorkflow('refine', join(SHIPPED, 'refine.json'));
    const spec = jobSpec('x', { role: 'refine', guidance: 3.5, strength: 0.4, image: '/i.png' });
    expect(buildPrompt(refine, candidateValues(spec, 0, { image: 'a.png' }, { subtle: 0.45, strong: 0.75 }))['9']!.inputs).toMatchObject({ cfg: 4.5, denoise: 0.4 });
  });

  it('picks the workflow of a job: draft, vary, refine, inpaint with a mask or region, edit without', () => {
    expect(workflowKindOf(jobSpec('x'))).toBe('draft');
    expect(workflowKindOf(jobSpec('x', { vary: { image: '/a.png', strength: 'subtle' } }))).toBe('vary');
    expect(workflowKindOf(jobSpec('x', { role: 'refine' }))).toBe('refine');
    expect(workflowKindOf(jobSpec('x', { role: 'edit', mask: { kind: 'region', region: { x: 0, y: 0, w: 1, h: 1 }, composite: true } }))).toBe('inpaint');
    expect(workflowKindOf(jobSpec('x', { role: 'edit' }))).toBe('edit');
  });

  it('stops with the file and the key named when a workflow or its bindings cannot be read or bound', () => {
    const cases: [WorkflowKind, Parameters<typeof variant>[1], RegExp][] = [
      ['draft', { graph: () => '{ not json' }, /draft\.json is not valid JSON/],
      ['draft', { graph: () => JSON.stringify({ nodes: [], links: [] }) }, /draft\.json is a ComfyUI UI workflow, not API format: in ComfyUI use Workflow → Export \(API\)/],
      ['draft', { graph: (t) => t.replace('"model": ["7", 0]', '"model": ["77", 0]') }, /draft\.json: node "8" \(KSampler\) input "model" links to node "77", which is not in the workflow/],
      ['draft', { bindings: (t) => t.replace('seed: 8.seed', 'seed: 8.sead') }, /draft\.bindings\.yaml: "inputs\.seed" names input "sead" of node "8" \(KSampler\), which it does not have/],
      ['draft', { bindings: (t) => t.replace('seed: 8.seed', 'seed: 99.seed') }, /draft\.bindings\.yaml: "inputs\.seed" names node "99", which is not in/],
      ['draft', { bindings: (t) => t.replace('seed: 8.seed', 'seed: null') }, /draft\.bindings\.yaml: "inputs\.seed" is required for a draft workflow/],
      ['draft', { bindings: (t) => t.replace('seed: 8.seed', 'seed: 8.model') }, /"inputs\.seed": input "model" of node "8" is a link to another node/],
      ['draft', { bindings: (t) => t.replace('output: 10', 'output: 9') }, /"output" node "9" is a VAEDecode; it must be one of SaveImageWebsocket, SaveImage, PreviewImage/],
      ['draft', { bindings: (t) => t.replace('  mask: null', '  mask: null\n  colour: 4.text') }, /"inputs\.colour" is not a binding of this project/],
      ['draft', { bindings: (t) => t.replace('minSteps: 4', 'minSteps: 10') }, /"model\.defaults" needs minSteps ≤ steps ≤ maxSteps/],
      ['refine', { bindings: (t) => t.replace('distilled: false }', 'distilled: false, refine: { inversion: 0.5 } }') }, /cannot set refine\.inversion: noise inversion runs only in the local pipeline/],
      ['refine', { bindings: (t) => t.replace(/^model:[\s\S]*?^inputs:/m, 'inputs:') }, /refine\.bindings\.yaml: "model" is required for a refine workflow/],
      ['draft', { bindings: () => 'inputs: [unclosed' }, /draft\.bindings\.yaml is not valid YAML/],
    ];
    for (const [kind, edit, message] of cases) {
      const file = variant(kind, edit);
      expect(() => loadWorkflow(kind, file), String(message)).toThrow(message);
      expect(() => loadWorkflow(kind, file)).toThrow(WorkflowError);
    }
    expect(() => loadWorkflow('draft', '/nowhere/draft.json')).toThrow('The workflow file /nowhere/draft.json does not exist');
    const noBindings = tempDir('workflow-');
    copyFileSync(join(SHIPPED, 'draft.json'), join(noBindings, 'draft.json'));
    expect(() => loadWorkflow('draft', join(noBindings, 'draft.json'))).toThrow(`The workflow file ${join(noBindings, 'draft.bindings.yaml')} does not exist`);
  });
});

describe('ComfyUI in the configuration', () => {
  it('COMFYUI_URL replaces the devices with one server per URL, named by host and port, serving every role', () => {
    const config = loadConfig({ root: ROOT, env: { COMFYUI_URL: 'http://gpu-a:8188, http://gpu-b:8188/' }, overrideFile: null });
    expect(config.devices).toEqual([
      { name: 'gpu-a:8188', provider: 'comfyui', url: 'http://gpu-a:8188', concurrency: 1, authHeader: 'Authorization', authEnv: null },
      { name: 'gpu-b:8188', provider: 'comfyui', url: 'http://gpu-b:8188/', concurrency: 1, authHeader: 'Authorization', authEnv: null },
    ]);
    expect([...comfyRoles(config)]).toEqual(['draft', 'refine', 'edit']);
  });

  it('refuses a bad server entry with the key and where it came from', () => {
    expect(() => loadConfig({ root: ROOT, env: { COMFYUI_URL: 'gpu-box:8188' }, overrideFile: null })).toThrow(
      'Invalid setting "devices.0.url" (from environment variable COMFYUI_URL)',
    );
    expect(() => testConfig({ devices: [{ name: 'a', provider: 'tpu' }] } as never)).toThrow(/Invalid setting "devices\.0\.provider".*'comfyui'/);
    expect(() => testConfig({ devices: [{ name: 'a', provider: 'comfyui', url: 'http://x:1', threads: 2 }] } as never)).toThrow('Invalid setting "devices.0.threads"');
    expect(() => testConfig({ devices: [{ name: 'a', provider: 'cpu' }, { name: 'a', provider: 'comfyui', url: 'http://x:1' }] } as never)).toThrow('the device name "a" is used twice');
    expect(() => loadConfig({ root: ROOT, env: { COMFYUI_URL: 'http://me:hunter2@gpu:8188' }, overrideFile: null })).toThrow(
      'Invalid setting "devices.0.url" (from environment variable COMFYUI_URL): must not hold credentials; use authHeader and authEnv; got "http://[redacted]@gpu:8188"',
    );
  });

  it('a local device keeps the roles no server is configured for; the server’s roles take their models from the workflows', () => {
    const config = testConfig({ devices: [{ name: 'cpu0', provider: 'cpu' }, { name: 'gpu', provider: 'comfyui', url: 'http://x:1', roles: ['draft'] }] } as never);
    expect([...comfyRoles(config)]).toEqual(['draft']);
    const models = comfyModels(comfyRoles(config), loadWorkflows(config, ROOT));
    expect(Object.keys(models)).toEqual(['draft']);
    expect(models.draft).toMatchObject({ name: 'Z-Image-Turbo', remote: { backend: 'ComfyUI', chaos: false, vary: true } });
  });

  it('an edit runs Qwen-Image-Edit without a mask and Z-Image inpainting with one; without an edit workflow only masked edits run', () => {
    const config = testConfig({ devices: [{ name: 'gpu', provider: 'comfyui', url: 'http://x:1' }] } as never);
    const models = comfyModels(comfyRoles(config), loadWorkflows(config, ROOT));
    expect(models.edit).toMatchObject({ name: 'Qwen-Image-Edit', remote: { unmasked: true, strength: false, masked: { name: 'Z-Image', remote: { strength: true } } } });
    const noEdit = testConfig({ devices: [{ name: 'gpu', provider: 'comfyui', url: 'http://x:1' }], comfyui: { workflows: { edit: null } } } as never);
    expect(comfyModels(comfyRoles(noEdit), loadWorkflows(noEdit, ROOT)).edit).toMatchObject({ name: 'Z-Image', remote: { unmasked: false, masked: { name: 'Z-Image' } } });
  });
});
