import type { NsfwModelName } from './config.ts';
import type { NsfwExecution } from './nsfw-model.ts';
import type { NsfwScores } from './verdict.ts';

/** A model loaded in the classifier thread, whatever runs it. */
export interface NsfwRunner {
  readonly inputSize: number;
  readonly execution: NsfwExecution;
  /** What computes it: 'onnxruntime-cpu', or tfjs' backend name. */
  readonly backend: string;
  /** Class probabilities of one image: pixels are size × size × 3 RGB bytes. */
  classify(pixels: Uint8Array): Promise<NsfwScores>;
  dispose(): void;
}

/** workerData.boot of the classifier thread. */
export interface NsfwWorkerBoot {
  readonly model: NsfwModelName;
  readonly execution: NsfwExecution;
}

/** The main thread sends pixels already resized to the model's input (side × side × 3, RGB). */
export type ToNsfwWorker = { readonly type: 'classify'; readonly id: number; readonly pixels: Uint8Array };

/** What a started classifier thread reports about itself. */
export interface NsfwThreadInfo {
  readonly backend: string;
  readonly inputSize: number;
  /** Backend start + model load + one warm-up image inside the thread, in ms. */
  readonly loadMs: number;
  readonly execution: NsfwExecution;
  readonly foldedBatchNorms: number;
  /** Activation and padding layers run inside a neighbouring convolution's kernel. */
  readonly fusedLayers: number;
}

export type FromNsfwWorker =
  | ({ readonly type: 'ready' } & NsfwThreadInfo)
  | { readonly type: 'init-failed'; readonly message: string }
  | { readonly type: 'scores'; readonly id: number; readonly scores: NsfwScores }
  | { readonly type: 'failed'; readonly id: number; readonly message: string }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string; readonly detail?: Record<string, unknown> };
