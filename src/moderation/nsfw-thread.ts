import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { ModerationSetupError } from './errors.ts';
import type { FromNsfwWorker, NsfwThreadInfo, NsfwWorkerBoot, ToNsfwWorker } from './nsfw-protocol.ts';

export interface ModerationLog {
  (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>): void;
}

export type NsfwThreadResult = Extract<FromNsfwWorker, { type: 'scores' | 'failed' }>;

export interface NsfwThreadEvents {
  readonly log: ModerationLog;
  /** The scores (or the error) for an image sent with classify. */
  readonly result: (message: NsfwThreadResult) => void;
  /** The thread stopped by itself after it had started (a crash): never called once it is retired. */
  readonly exited: (code: number) => void;
}

const BOOTSTRAP = new URL('./worker-bootstrap.mjs', import.meta.url);
const ENTRY = new URL('./nsfw-worker.ts', import.meta.url);
/** Loading InceptionV3 on two busy cores takes seconds; a start that takes minutes is stuck. */
const START_TIMEOUT_MS = 120_000;

/**
 * One classifier thread (nsfw-worker.ts): it loads the model, then classifies what it is sent, one image at a time.
 *
 * It is never terminated from outside: worker.terminate() stops a thread wherever it is, and when onnxruntime's
 * native run then returns into the stopped thread, node-addon-api throws where nothing can catch it and the whole
 * process aborts. A thread that must go is retired instead: asked to exit, which it does as soon as it is back in
 * JavaScript; from then on nothing it says reaches the classifier.
 */
export class NsfwThread {
  /** Resolves with what the thread reports once its model is loaded and warm; rejects with a ModerationSetupError. */
  readonly ready: Promise<NsfwThreadInfo>;
  readonly #worker: Worker;
  readonly #events: NsfwThreadEvents;
  #retired = false;

  constructor(boot: NsfwWorkerBoot, events: NsfwThreadEvents) {
    this.#events = events;
    this.#worker = new Worker(BOOTSTRAP, { workerData: { entry: ENTRY.href, boot }, name: 'nsfw-classifier', stdout: true, stderr: true });
    this.#forward(this.#worker.stdout, 'info');
    this.#forward(this.#worker.stderr, 'warn');
    this.ready = this.#start(boot);
  }

  classify(id: number, pixels: Uint8Array): void {
    this.#worker.postMessage({ type: 'classify', id, pixels } satisfies ToNsfwWorker);
  }

  /**
   * Asks the thread to exit (after the image it is on, if any) and stops listening to it. Resolves when it has
   * exited, or after `waitMs`; a thread still there then (stuck in native code) is unref'd so that it cannot keep
   * the process alive.
   */
  retire(waitMs = 0): Promise<void> {
    this.#retired = true;
    const worker = this.#worker;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        worker.unref();
        resolve();
      }, waitMs);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.postMessage({ type: 'exit' } satisfies ToNsfwWorker);
    });
  }

  #start(boot: NsfwWorkerBoot): Promise<NsfwThreadInfo> {
    const worker = this.#worker;
    return new Promise((resolve, reject) => {
      let started = false;
      let failure = '';
      const fail = (why: string): void => {
        clearTimeout(startTimer);
        reject(new ModerationSetupError(`The NSFW classifier could not start: ${why}`, { cause: why }));
      };
      const startTimer = setTimeout(() => {
        void this.retire();
        fail(`the classifier thread did not load ${boot.model} within ${START_TIMEOUT_MS / 1000} s`);
      }, START_TIMEOUT_MS);

      worker.on('message', (message: FromNsfwWorker) => {
        // A retired thread's last words (the scores of the image it hung on, a late ready) change nothing.
        if (this.#retired) return;
        switch (message.type) {
          case 'ready': {
            started = true;
            clearTimeout(startTimer);
            const { type: _, ...info } = message;
            resolve(info);
            break;
          }
          case 'init-failed':
            failure = message.message;
            break;
          case 'log':
            this.#events.log(message.level, message.message, message.detail);
            break;
          default:
            this.#events.result(message);
        }
      });
      worker.on('error', (error) => {
        failure ||= error.message;
        this.#events.log('error', 'nsfw classifier thread failed', { error: error.message });
      });
      worker.on('exit', (code) => {
        clearTimeout(startTimer);
        if (this.#retired) reject(new ModerationSetupError('The NSFW classifier was closed while starting'));
        else if (!started) fail(failure || `the classifier thread exited with code ${code} while starting`);
        else this.#events.exited(code);
      });
    });
  }

  /** Routes the thread's stdout/stderr (onnxruntime prints there) into the log, never onto our stdout. */
  #forward(stream: Readable, level: 'info' | 'warn'): void {
    createInterface({ input: stream }).on('line', (line) => {
      if (line.trim() !== '') this.#events.log(level, 'nsfw classifier thread output', { line });
    });
  }
}
