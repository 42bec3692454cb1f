import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/fakes.ts';
import { writeFixtureModel } from '../../../test/support/fixtures/models.ts';
import { EngineFailure } from '../errors.ts';
import { floatInput, floatOutput, openGraph, requireTensors, runGraph } from './session.ts';

const dir = writeFixtureModel(join(tempDir('zimage-session-'), 'm'), { kind: 'random', float16: true });

describe('openGraph', () => {
  it('falls back to CPU with one logged warning when the CUDA provider cannot load', async () => {
    // onnxruntime-node throws instead of falling back (the CUDA provider is not in the npm package here).
    const logs: { level: string; message: string }[] = [];
    const graph = await openGraph(join(dir, 'transformer.onnx'), { name: 'gpu0', provider: 'cuda', threads: 1, deviceId: 0 }, (level, message) =>
      logs.push({ level, message }),
    );
    expect(graph.provider).toBe('cpu');
    expect(logs).toEqual([{ level: 'warn', message: 'The cuda execution provider could not load; falling back to CPU' }]);
    await graph.session.release();
  });

  it('reads float16 inputs and outputs from the graph and converts at the boundary', async () => {
    const graph = await openGraph(join(dir, 'text_encoder.onnx'), { name: 'cpu0', provider: 'cpu', threads: 1, deviceId: 0 }, () => undefined);
    expect(graph.floatTypes.get('encoder_hidden_state')).toBe('float16');
    const transformer = await openGraph(join(dir, 'transformer.onnx'), { name: 'cpu0', provider: 'cpu', threads: 1, deviceId: 0 }, () => undefined);
    const x = floatInput(transformer, 'hidden_states', new Float32Array(16 * 2 * 2).fill(0.5), [1, 16, 1, 2, 2]);
    expect(x.type).toBe('float16');
    const out = await runGraph(
      transformer,
      {
        hidden_states: x,
        timestep: floatInput(transformer, 'timestep', new Float32Array([0.5]), [1]),
        encoder_hidden_states: floatInput(transformer, 'encoder_hidden_states', new Float32Array(16 * 3), [1, 3, 16]),
      },
      'unified_results',
    );
    expect(out.type).toBe('float16');
    expect(floatOutput(out)[0]).toBeCloseTo(Math.tanh(0.35), 2);
    await Promise.all([graph.session.release(), transformer.session.release()]);
  });

  it('names the file and the tensor a manifest expects but the graph lacks', async () => {
    const graph = await openGraph(join(dir, 'vae_decoder.onnx'), { name: 'cpu0', provider: 'cpu', threads: 1, deviceId: 0 }, () => undefined);
    expect(() => requireTensors(graph, 'The VAE decoder', ['latents'], ['sample'])).toThrowError(EngineFailure);
    expect(() => requireTensors(graph, 'The VAE decoder', ['latent_sample'], ['image'])).toThrowError(/vae_decoder\.onnx\) has no output "image"; it has sample/);
    await graph.session.release();
  });

  it('refuses a file that is not an ONNX graph with a clear error', async () => {
    await expect(openGraph(join(dir, 'model.json'), { name: 'cpu0', provider: 'cpu', threads: 1, deviceId: 0 }, () => undefined)).rejects.toThrowError(
      /Cannot load .*model\.json/,
    );
  });
});
