import type { DeviceConfig } from '../../config/schema.ts';
import type { EngineError } from '../errors.ts';
import type { PipelineOutput, RgbPixels } from '../pipeline.ts';
import type { JobSpec } from '../request.ts';

/** workerData of an inference worker. */
export interface WorkerBoot {
  /** file: URL of the pipeline module (exports createPipeline). */
  readonly pipelineModule: string;
  readonly pipelineOptions: unknown;
  readonly device: DeviceConfig;
  /** Int32Array(1) over it: the run number to cancel. */
  readonly cancelBuffer: SharedArrayBuffer;
}

export type ToWorker = { readonly type: 'run'; readonly run: number; readonly spec: JobSpec } | { readonly type: 'shutdown' };

export type FromWorker =
  | { readonly type: 'ready'; readonly provider: string }
  | { readonly type: 'init-failed'; readonly error: EngineError }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string; readonly detail?: Record<string, unknown> }
  | { readonly type: 'progress'; readonly run: number; readonly step: number; readonly total: number; readonly preview?: RgbPixels }
  | { readonly type: 'done'; readonly run: number; readonly output: PipelineOutput }
  | { readonly type: 'failed'; readonly run: number; readonly error: EngineError }
  | { readonly type: 'cancelled'; readonly run: number };
