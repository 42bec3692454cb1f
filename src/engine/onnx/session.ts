import * as ort from 'onnxruntime-node';
import type { DeviceConfig } from '../../config/schema.ts';
import { engineError, EngineFailure } from '../errors.ts';
import { float16ToFloat32, float32ToFloat16 } from './float16.ts';

export type Log = (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) => void;

/** A loaded graph, the provider it really runs on, and the element type of each float input/output. */
export interface GraphSession {
  readonly session: ort.InferenceSession;
  readonly provider: string;
  readonly file: string;
  readonly floatTypes: ReadonlyMap<string, 'float32' | 'float16'>;
}

function providerList(device: DeviceConfig): ort.InferenceSession.ExecutionProviderConfig[] {
  switch (device.provider) {
    case 'cuda':
      return [{ name: 'cuda', deviceId: device.deviceId }];
    case 'webgpu':
      return [{ name: 'webgpu' }];
    default:
      return ['cpu'];
  }
}

/**
 * Opens one ONNX graph on the configured device. onnxruntime-node throws instead of falling back when a provider
 * cannot load (the CUDA provider is not in the npm package), so the fallback to CPU is explicit and logged once.
 */
export async function openGraph(file: string, device: DeviceConfig, log: Log): Promise<GraphSession> {
  const options = (providers: ort.InferenceSession.ExecutionProviderConfig[], quiet: boolean): ort.InferenceSession.SessionOptions => ({
    executionProviders: providers,
    graphOptimizationLevel: 'all',
    // onnxruntime prints its own errors to stderr; a provider that cannot load is reported once, by us, below.
    logSeverityLevel: quiet ? 4 : 3,
    ...(device.threads > 0 ? { intraOpNumThreads: device.threads } : {}),
    interOpNumThreads: 1,
  });
  let session: ort.InferenceSession;
  let provider = device.provider;
  try {
    session = await ort.InferenceSession.create(file, options(providerList(device), device.provider !== 'cpu'));
  } catch (error) {
    if (device.provider === 'cpu') {
      throw new EngineFailure(engineError('model-error', `Cannot load ${file}: ${(error as Error).message}`, { file }));
    }
    log('warn', `The ${device.provider} execution provider could not load; falling back to CPU`, {
      file,
      error: (error as Error).message.split('\n')[0],
    });
    provider = 'cpu';
    try {
      session = await ort.InferenceSession.create(file, options(['cpu'], false));
    } catch (cpuError) {
      throw new EngineFailure(engineError('model-error', `Cannot load ${file}: ${(cpuError as Error).message}`, { file }));
    }
  }
  const floatTypes = new Map<string, 'float32' | 'float16'>();
  for (const meta of [...session.inputMetadata, ...session.outputMetadata]) {
    if (meta.isTensor && (meta.type === 'float32' || meta.type === 'float16')) floatTypes.set(meta.name, meta.type);
  }
  return { session, provider, file, floatTypes };
}

/** Fails with a message naming the file and the missing tensor when the graph lacks one the manifest names. */
export function requireTensors(graph: GraphSession, what: string, inputs: readonly string[], outputs: readonly string[]): void {
  for (const name of inputs) {
    if (!graph.session.inputNames.includes(name)) {
      throw new EngineFailure(
        engineError('model-error', `${what} (${graph.file}) has no input "${name}"; it has ${graph.session.inputNames.join(', ')}`, {
          file: graph.file,
          tensor: name,
        }),
      );
    }
  }
  for (const name of outputs) {
    if (!graph.session.outputNames.includes(name)) {
      throw new EngineFailure(
        engineError('model-error', `${what} (${graph.file}) has no output "${name}"; it has ${graph.session.outputNames.join(', ')}`, {
          file: graph.file,
          tensor: name,
        }),
      );
    }
  }
}

/** A float input in the element type the graph declares for it. */
export function floatInput(graph: GraphSession, name: string, data: Float32Array, dims: readonly number[]): ort.Tensor {
  return graph.floatTypes.get(name) === 'float16'
    ? new ort.Tensor('float16', float32ToFloat16(data), dims)
    : new ort.Tensor('float32', data, dims);
}

export function int64Input(values: readonly number[] | BigInt64Array, dims: readonly number[]): ort.Tensor {
  const data = values instanceof BigInt64Array ? values : BigInt64Array.from(values, (v) => BigInt(v));
  return new ort.Tensor('int64', data, dims);
}

/** A float output as float32, whatever the graph produced. */
export function floatOutput(tensor: ort.Tensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return float16ToFloat32(tensor.data as Uint16Array);
  throw new Error(`Expected a float tensor, got ${tensor.type}`);
}

/** Time spent inside session.run in this thread, so benchmarks can tell model time from everything else. */
export const graphRunStats = { ms: 0, calls: 0 };

export async function runGraph(graph: GraphSession, feeds: Record<string, ort.Tensor>, output: string): Promise<ort.Tensor> {
  const started = performance.now();
  const result = await graph.session.run(feeds, [output]);
  graphRunStats.ms += performance.now() - started;
  graphRunStats.calls += 1;
  const tensor = result[output];
  if (!tensor) throw new Error(`${graph.file} returned no "${output}"`);
  return tensor;
}
