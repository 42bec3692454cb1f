import type { NsfwModelName } from './config.ts';
import type { NsfwScores } from './verdict.ts';

/** A model loaded in the classifier thread, whatever runs it. */
export interface NsfwRunner {
  readonly inputSize: number;
  /** How the model runs: 'onnx' (nsfw-onnx.ts), or 'nsfwjs' for nsfwjs' own execution, the reference. */
  readonly execution: string;
  /** What computes it, e.g. 'onnxruntime-cpu'. */
  readonly backend: string;
  /** Class probabilities of one image: pixels are size × size × 3 RGB bytes. */
  classify(pixels: Uint8Array): Promise<NsfwScores>;
  dispose(): void;
}

/** What a runner module (the one the thread imports to load its model) exports under the name loadNsfwRunner. */
export type LoadNsfwRunner = (model: NsfwModelName) => Promise<NsfwRunner>;

/** workerData.boot of the classifier thread. */
export interface NsfwWorkerBoot {
  readonly model: NsfwModelName;
  /** URL of the runner module. */
  readonly runner: string;
}

/**
 * The main thread sends pixels already resized to the model's input (side × side × 3, RGB), or asks the thread to
 * exit (it does once back in JavaScript, never mid-run).
 */
export type ToNsfwWorker = { readonly type: 'classify'; readonly id: number; readonly pixels: Uint8Array } | { readonly type: 'exit' };

/** What a started classifier thread reports about itself. */
export interface NsfwThreadInfo {
  readonly backend: string;
  readonly inputSize: number;
  /** Runtime start + model load + one warm-up image inside the thread, in ms. */
  readonly loadMs: number;
  readonly execution: string;
}

export type FromNsfwWorker =
  | ({ readonly type: 'ready' } & NsfwThreadInfo)
  | { readonly type: 'init-failed'; readonly message: string }
  | { readonly type: 'scores'; readonly id: number; readonly scores: NsfwScores }
  | { readonly type: 'failed'; readonly id: number; readonly message: string }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string; readonly detail?: Record<string, unknown> };
