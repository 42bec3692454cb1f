import type { ModerationVerdict } from '../moderation/verdict.ts';
import type { EngineError } from './errors.ts';
import type { JobRecord } from './journal.ts';
import type { NoiseSpec } from './noise-spec.ts';
import type { PipelineTimings, RgbPixels } from './pipeline.ts';

export interface DeliveredImage {
  readonly index: number;
  /** PNG with the parameters in its text chunks; null when withheld. */
  readonly png: Buffer | null;
  /** Where the PNG is kept under DATA_DIR (for refine/vary later); null when withheld. */
  readonly path: string | null;
  readonly withheld: boolean;
  /** Flagged, but the channel allows spoilers: post it behind one. */
  readonly spoiler: boolean;
  readonly verdict: ModerationVerdict;
  readonly prompt: string;
  readonly noise: NoiseSpec;
  readonly width: number;
  readonly height: number;
}

export interface ResultMeta {
  readonly jobId: string;
  readonly model: string;
  readonly role: string;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly guidance: number;
  readonly shift: number;
  readonly strength: number;
  readonly seed: number;
  readonly chaos: number;
  readonly style: string | null;
  readonly negativePrompt: string;
  readonly provider: string;
  readonly device: string;
  readonly timings: PipelineTimings & { readonly queueMs: number; readonly postprocessMs: number; readonly wallMs: number };
  readonly truncated: readonly { readonly prompt: string; readonly tokens: number; readonly kept: number }[];
}

export interface JobResult {
  readonly images: readonly DeliveredImage[];
  /** A 2×2 (or 2×1) grid when there is more than one candidate; withheld tiles show a placeholder. */
  readonly grid: Buffer | null;
  readonly meta: ResultMeta;
}

/** The events of one job (design.md §7), a closed union. */
export type JobEvent =
  | { readonly type: 'queued'; readonly position: number; readonly etaMs: number }
  | { readonly type: 'started'; readonly etaMs: number }
  | { readonly type: 'progress'; readonly step: number; readonly total: number; readonly etaMs: number; readonly preview?: RgbPixels }
  | { readonly type: 'done'; readonly result: JobResult }
  | { readonly type: 'blocked'; readonly result: JobResult }
  | { readonly type: 'failed'; readonly error: EngineError }
  | { readonly type: 'cancelled' };

export type TerminalEvent = Extract<JobEvent, { type: 'done' | 'blocked' | 'failed' | 'cancelled' }>;

const isTerminal = (event: JobEvent): event is TerminalEvent =>
  event.type === 'done' || event.type === 'blocked' || event.type === 'failed' || event.type === 'cancelled';

export type JobListener = (event: JobEvent) => void;

/** What submit hands back: the job's record, its events, and a way to cancel it. */
export class JobHandle {
  readonly #listeners = new Set<JobListener>();
  readonly #cancel: () => boolean;
  #last: JobEvent | undefined;
  readonly settled: Promise<TerminalEvent>;
  #settle!: (event: TerminalEvent) => void;

  readonly #onListenerError: (error: unknown) => void;

  constructor(
    readonly record: JobRecord,
    cancel: () => boolean,
    onListenerError: (error: unknown) => void,
  ) {
    this.#cancel = cancel;
    this.#onListenerError = onListenerError;
    this.settled = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  get id(): string {
    return this.record.id;
  }

  /** The latest event, so a late subscriber can render the current state. */
  get last(): JobEvent | undefined {
    return this.#last;
  }

  get finished(): boolean {
    return this.#last !== undefined && isTerminal(this.#last);
  }

  subscribe(listener: JobListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Cancels a waiting job at once, a running one at its next step. False when it already finished. */
  cancel(): boolean {
    return this.#cancel();
  }

  /** @internal the engine's side */
  emit(event: JobEvent): void {
    if (this.finished) return;
    this.#last = event;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // One adapter's failure must not stop the job or the other listeners; it is logged by the engine.
        this.#onListenerError(error);
      }
    }
    if (isTerminal(event)) {
      this.#settle(event);
      this.#listeners.clear();
    }
  }
}
