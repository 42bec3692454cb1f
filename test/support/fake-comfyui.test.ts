import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FakeComfyUI, upscaleScaleOf } from './fake-comfyui.ts';
import { ROOT } from './fakes.ts';

/**
 * The fake ComfyUI answers as ComfyUI does, so the backend's tests mean something: validate_prompt's errors and
 * their shape, the WebSocket event sequence and its binary frames, the upload rules.
 */
let fake: FakeComfyUI;
beforeAll(async () => {
  fake = await FakeComfyUI.start({ stepMs: 1 });
});
afterAll(async () => {
  await fake.close();
});

const draft = (): Record<string, { class_type: string; inputs: Record<string, unknown> }> => JSON.parse(readFileSync(join(ROOT, 'config/workflows/draft.json'), 'utf8'));

async function post(prompt: unknown, extra: Record<string, unknown> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt, ...extra }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('fake ComfyUI: validate_prompt', () => {
  it('refuses an unknown class_type, a prompt without outputs and a prompt id that is not a UUID', async () => {
    const unknown = draft();
    unknown['4']!.class_type = 'CLIPTextEncodeSDXLRefinerPlus';
    expect(await post(unknown)).toMatchObject({
      status: 400,
      body: { error: { type: 'missing_node_type', message: "Node 'Prompt' not found. The custom node may not be installed.", details: "Node ID '#4'" }, node_errors: {} },
    });
    const noOutput = draft();
    delete noOutput['10'];
    expect(await post(noOutput)).toMatchObject({ status: 400, body: { error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs' } } });
    expect(await post(draft(), { prompt_id: 'job-1' })).toMatchObject({ status: 400, body: { error: { type: 'invalid_prompt_id' } } });
    expect(await post(undefined)).toMatchObject({ status: 400, body: { error: { type: 'no_prompt' } } });
  });

  it('reports a missing required input, a value out of range or not in its list, and a bad link, per node', async () => {
    const graph = draft();
    delete (graph['8']!.inputs as Record<string, unknown>).steps;
    graph['8']!.inputs.sampler_name = 'euler_turbo_9000';
    graph['6']!.inputs.width = 8;
    const { status, body } = await post(graph);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation' });
    const errors = body.node_errors as Record<string, { errors: { type: string; details: string }[]; dependent_outputs: string[]; class_type: string }>;
    expect(errors['8']!.class_type).toBe('KSampler');
    expect(errors['8']!.dependent_outputs).toEqual(['10']);
    expect(errors['8']!.errors.map((e) => e.type).sort()).toEqual(['required_input_missing', 'value_not_in_list']);
    expect(errors['6']!.errors).toMatchObject([{ type: 'value_smaller_than_min', details: 'width' }]);

    const link = draft();
    link['9']!.inputs.vae = ['33', 0];
    const bad = await post(link);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.node_errors)).toContain('exception_during_inner_validation');

    const wrongType = draft();
    wrongType['9']!.inputs.vae = ['2', 0];
    const mismatch = await post(wrongType);
    expect(JSON.stringify(mismatch.body.node_errors)).toContain('received_type(CLIP) mismatch input_type(VAE)');

    const missingFile = JSON.parse(readFileSync(join(ROOT, 'config/workflows/refine.json'), 'utf8')) as Record<string, { inputs: Record<string, unknown> }>;
    missingFile['6']!.inputs.image = 'nowhere/none.png';
    expect(JSON.stringify((await post(missingFile)).body.node_errors)).toContain('Invalid image file: nowhere/none.png');
  });
});

describe('fake ComfyUI: a prompt’s life on the socket', () => {
  it('sends the real event sequence, with binary previews (JPEG) and SaveImageWebsocket images (PNG)', async () => {
    const clientId = 'test-client';
    const socket = new WebSocket(`${fake.url.replace('http', 'ws')}/ws?clientId=${clientId}`);
    const seen: string[] = [];
    const images: { type: number; format: number; bytes: Buffer }[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    socket.on('message', (data, binary) => {
      const buffer = data as Buffer;
      if (binary) {
        images.push({ type: buffer.readUInt32BE(0), format: buffer.readUInt32BE(4), bytes: buffer.subarray(8) });
        seen.push(`binary:${buffer.readUInt32BE(4) === 1 ? 'jpeg' : 'png'}`);
        return;
      }
      const message = JSON.parse(buffer.toString()) as { type: string; data: { node?: string | null } };
      seen.push(message.type === 'executing' ? `executing:${message.data.node}` : message.type);
      if (message.type === 'executing' && message.data.node === null) done();
    });
    await new Promise((resolve) => socket.once('open', resolve));
    const graph = draft();
    graph['6']!.inputs.width = 256;
    graph['6']!.inputs.height = 128;
    graph['8']!.inputs.steps = 3;
    const { status } = await post(graph, { client_id: clientId, prompt_id: '00000000-0000-4000-8000-000000000001', extra_data: { preview_method: 'auto' } });
    expect(status).toBe(200);
    await finished;
    socket.close();
    const order = seen.filter((s) => s !== 'status' && !s.startsWith('executing:') && s !== 'progress');
    expect(order).toEqual(['execution_start', 'execution_cached', 'binary:jpeg', 'binary:jpeg', 'binary:png', 'execution_success']);
    // Every node once, dependencies first (the sampler after its inputs, the output last), then `executing` null.
    const executing = seen.filter((s) => s.startsWith('executing:')).map((s) => s.slice('executing:'.length));
    expect([...executing].sort()).toEqual(['1', '10', '2', '3', '4', '5', '6', '7', '8', '9', 'null']);
    expect(executing.slice(-2)).toEqual(['10', 'null']);
    for (const dependency of ['1', '2', '4', '5', '6', '7']) expect(executing.indexOf(dependency)).toBeLessThan(executing.indexOf('8'));
    expect(seen.indexOf('execution_success')).toBeLessThan(seen.indexOf('executing:null'));
    const png = images.find((i) => i.format === 2)!;
    expect(png.type).toBe(1);
    expect(await sharp(png.bytes).metadata()).toMatchObject({ format: 'png', width: 256, height: 128 });
    const history = (await (await fetch(`${fake.url}/history/00000000-0000-4000-8000-000000000001`)).json()) as Record<string, { status: { status_str: string } }>;
    expect(history['00000000-0000-4000-8000-000000000001']!.status.status_str).toBe('success');
  });

  it('uploads into the input folder: a new name for different bytes unless told to overwrite, the same name for the same bytes', async () => {
    const upload = async (bytes: Buffer, overwrite: boolean): Promise<string> => {
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'a.png');
      form.append('subfolder', 'sub');
      if (overwrite) form.append('overwrite', 'true');
      const answer = (await (await fetch(`${fake.url}/upload/image`, { method: 'POST', body: form })).json()) as { name: string; subfolder: string };
      return `${answer.subfolder}/${answer.name}`;
    };
    const red = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
    const blue = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00f' } }).png().toBuffer();
    expect(await upload(red, false)).toBe('sub/a.png');
    expect(await upload(red, false)).toBe('sub/a.png');
    expect(await upload(blue, false)).toBe('sub/a (1).png');
    expect(await upload(blue, true)).toBe('sub/a.png');
  });
});

describe('fake ComfyUI: upscale models', () => {
  const upscale = (): Record<string, { class_type: string; inputs: Record<string, unknown> }> => JSON.parse(readFileSync(join(ROOT, 'config/workflows/upscale.json'), 'utf8'));

  async function uploadInput(width: number, height: number): Promise<string> {
    const form = new FormData();
    const png = await sharp({ create: { width, height, channels: 3, background: '#3a6' } }).png().toBuffer();
    form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), `up-${width}x${height}.png`);
    form.append('subfolder', 'zimage-bot');
    form.append('overwrite', 'true');
    const answer = (await (await fetch(`${fake.url}/upload/image`, { method: 'POST', body: form })).json()) as { name: string; subfolder: string };
    return `${answer.subfolder}/${answer.name}`;
  }

  /** Runs a graph whose output is SaveImageWebsocket and returns the size of the PNG it sends back. */
  async function outputSize(graph: unknown, promptId: string): Promise<[number, number]> {
    const socket = new WebSocket(`${fake.url.replace('http', 'ws')}/ws?clientId=upscaler`);
    let png: Buffer | undefined;
    const done = new Promise<void>((resolve) => {
      socket.on('message', (data, binary) => {
        const buffer = data as Buffer;
        if (binary && buffer.readUInt32BE(4) === 2) png = buffer.subarray(8);
        if (binary) return;
        const message = JSON.parse(buffer.toString()) as { type: string; data: { node?: unknown } };
        if (message.type === 'executing' && message.data.node === null) resolve();
      });
    });
    await new Promise((resolve) => socket.once('open', resolve));
    expect((await post(graph, { client_id: 'upscaler', prompt_id: promptId })).status).toBe(200);
    await done;
    socket.close();
    const meta = await sharp(png!).metadata();
    return [meta.width!, meta.height!];
  }

  it('reads an upscale model’s scale from its name, as model makers write it, and refuses a name that does not say it', () => {
    expect(['4x-UltraSharp.pth', 'RealESRGAN_x2plus.pth', '4x_NMKD-Siax_200k.pth', '2xNomosUni.pth'].map(upscaleScaleOf)).toEqual([4, 2, 4, 2]);
    expect(() => upscaleScaleOf('model.pth')).toThrow('Upscale model must be a single-image model');
  });

  it('ImageUpscaleWithModel returns the input at the model’s scale: the shipped 4x model then ImageScaleBy 0.5, or a 2x model alone', async () => {
    const graph = upscale();
    graph['1']!.inputs.image = await uploadInput(96, 64);
    expect(await outputSize(graph, '00000000-0000-4000-8000-0000000000a1')).toEqual([192, 128]);
    const twoX = upscale();
    twoX['1']!.inputs.image = graph['1']!.inputs.image;
    twoX['2']!.inputs.model_name = 'RealESRGAN_x2plus.pth';
    twoX['5']!.inputs.images = ['3', 0];
    delete twoX['4'];
    expect(await outputSize(twoX, '00000000-0000-4000-8000-0000000000a2')).toEqual([192, 128]);
    const fourX = structuredClone(twoX);
    fourX['2']!.inputs.model_name = '4x-UltraSharp.pth';
    expect(await outputSize(fourX, '00000000-0000-4000-8000-0000000000a3')).toEqual([384, 256]);
  });

  it('validates an upscale graph as validate_prompt does: a model file not in upscale_models, a link of the wrong type, a missing input file', async () => {
    const graph = upscale();
    graph['1']!.inputs.image = await uploadInput(32, 32);
    graph['2']!.inputs.model_name = '8x-Missing.pth';
    const missing = await post(graph);
    expect(missing.status).toBe(400);
    const errors = missing.body.node_errors as Record<string, { errors: { type: string; details: string }[]; class_type: string; dependent_outputs: string[] }>;
    expect(errors['2']).toMatchObject({ class_type: 'UpscaleModelLoader', errors: [{ type: 'value_not_in_list', details: expect.stringContaining("model_name: '8x-Missing.pth' not in") }], dependent_outputs: ['5'] });

    const wrongLink = upscale();
    wrongLink['1']!.inputs.image = graph['1']!.inputs.image;
    wrongLink['3']!.inputs.upscale_model = ['1', 0];
    expect(JSON.stringify((await post(wrongLink)).body.node_errors)).toContain('received_type(IMAGE) mismatch input_type(UPSCALE_MODEL)');

    const noInput = upscale();
    noInput['1']!.inputs.image = 'zimage-bot/none.png';
    expect(JSON.stringify((await post(noInput)).body.node_errors)).toContain('Invalid image file: zimage-bot/none.png');
  });
});
