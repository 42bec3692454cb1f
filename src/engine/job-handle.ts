import { isTerminal, type JobEvent, type JobRecord, type TerminalEvent } from './job.ts';

export type { DeliveredImage, JobEvent, JobResult, ResultMeta, TerminalEvent } from './job.ts';

export type JobListener = (event: JobEvent) => void;

/** What submit hands back: the job's record, its events, and a way to cancel it. */
export class JobHandle {
  readonly #listeners = new Set<JobListener>();
  readonly #cancel: () => boolean;
  readonly #onListenerError: (error: unknown) => void;
  #last: JobEvent | undefined;
  #settle!: (event: TerminalEvent) => void;
  readonly settled: Promise<TerminalEvent>;

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
