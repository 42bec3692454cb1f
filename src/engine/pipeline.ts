import type { DeviceConfig } from '../config/schema.ts';
import type { NoiseSpec } from './noise-spec.ts';
import type { JobSpec } from './request.ts';

/**
 * The contract between the engine's worker and whatever turns a JobSpec into pixels. The Z-Image pipelines implement
 * it on onnxruntime-node; tests use a double under test/. A pipeline module exports `createPipeline`.
 */
export interface PipelineContext {
  /** Checked between denoising steps; when set, the pipeline throws PipelineCancelled. */
  readonly cancelled: () => boolean;
  /** Called after each denoising step (1-based), now and then with a low-resolution preview of the candidates. */
  readonly onProgress: (step: number, total: number, preview?: RgbPixels) => void;
}

/** 8-bit RGB pixels, row-major, interleaved. */
export interface RgbPixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** One candidate's pixels: 8-bit RGB, row-major, plus what is needed to reproduce it. */
export interface RawCandidate {
  readonly index: number;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  readonly prompt: string;
  readonly noise: NoiseSpec;
  /**
   * An img2img or inpaint candidate's start: the latents its source was decoded from (the source is one of this
   * model's recent outputs) or the encoder's reading of the source. The two give different pixels, so a refine or
   * edit reproduces byte for byte only from the same start, and the PNG says which it was.
   */
  readonly sourceLatents?: SourceLatents;
}

export type SourceLatents = 'remembered' | 'encoded';

export interface PipelineTimings {
  readonly textEncodeMs: number;
  readonly denoiseMs: number;
  readonly decodeMs: number;
  readonly encodeMs: number;
  readonly totalMs: number;
  readonly stepMs: readonly number[];
}

export interface PipelineOutput {
  readonly candidates: readonly RawCandidate[];
  readonly timings: PipelineTimings;
  /** Prompts longer than the model's max length are cut; this says so (never silent). */
  readonly truncated: readonly { readonly prompt: string; readonly tokens: number; readonly kept: number }[];
  readonly provider: string;
}

export interface Pipeline {
  run(spec: JobSpec, context: PipelineContext): Promise<PipelineOutput>;
  dispose(): Promise<void>;
}

export interface PipelineOptions {
  readonly device: DeviceConfig;
  /** Structured-cloneable options from the engine (e.g. model directories to preload). */
  readonly options: unknown;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) => void;
}

export type CreatePipeline = (options: PipelineOptions) => Promise<Pipeline>;

export class PipelineCancelled extends Error {
  override readonly name = 'PipelineCancelled';
  constructor() {
    super('cancelled');
  }
}
