import type { EngineError } from './errors.ts';
import type { PipelineOutput, RgbPixels } from './pipeline.ts';
import type { JobSpec } from './request.ts';

/** How one run on a backend ended. A run never rejects: failures, crashes and cancellation are outcomes. */
export type RunOutcome =
  | { readonly kind: 'done'; readonly output: PipelineOutput }
  | { readonly kind: 'failed'; readonly error: EngineError }
  | { readonly kind: 'cancelled' };

export type ProgressListener = (step: number, total: number, preview?: RgbPixels) => void;

export interface BackendStats {
  readonly name: string;
  readonly provider: string;
  readonly idle: boolean;
  readonly restarts: number;
}

/**
 * Where a job runs: an inference worker on a local device today. The engine hands a backend a job only when it
 * has a free slot and serves the job, so the order across users is the scheduler's alone.
 */
export interface Backend {
  readonly name: string;
  /** What really computes (cpu, cuda, webgpu…), as the backend learned it when it started. */
  readonly provider: string;
  /** Jobs it can take right now. */
  readonly freeSlots: number;
  /** Whether this backend can run the job at all (its role's model is there). */
  serves(spec: JobSpec): boolean;
  run(spec: JobSpec, onProgress: ProgressListener): { readonly run: number; readonly outcome: Promise<RunOutcome> };
  /** Asks a run to stop at its next step boundary. */
  cancel(run: number): void;
  stats(): BackendStats;
  /** Graceful: lets the running job finish first. */
  stop(options: { readonly graceful: boolean }): Promise<void>;
}
