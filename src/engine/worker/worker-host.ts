import { Worker } from 'node:worker_threads';
import type { DeviceConfig } from '../../config/schema.ts';
import type { Backend, BackendStats, ProgressListener, RunOutcome } from '../backend.ts';
import { engineError } from '../errors.ts';
import type { JobSpec } from '../request.ts';
import type { FromWorker, ToWorker, WorkerBoot } from './protocol.ts';

export interface WorkerLog {
  (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>): void;
}

export interface WorkerHostOptions {
  readonly device: DeviceConfig;
  readonly pipelineModule: URL;
  readonly pipelineOptions: unknown;
  readonly log: WorkerLog;
  /** Called when a crashed worker has been replaced and is ready again. */
  readonly onReady?: () => void;
}

interface ActiveRun {
  readonly run: number;
  readonly onProgress: ProgressListener;
  readonly resolve: (outcome: RunOutcome) => void;
}

const BOOTSTRAP = new URL('./bootstrap.mjs', import.meta.url);
const ENTRY = new URL('./inference-worker.ts', import.meta.url);

/**
 * One inference thread on one device. onnxruntime-node's session.run blocks its event loop, so it lives here and
 * the main thread stays free for gateway heartbeats and HTTP acks. A worker that dies fails the job it was running
 * and is replaced.
 */
export class WorkerHost implements Backend {
  readonly #options: WorkerHostOptions;
  readonly #cancelBuffer = new SharedArrayBuffer(4);
  readonly #cancelFlag = new Int32Array(this.#cancelBuffer);
  #worker: Worker | undefined;
  #ready = false;
  #provider = 'unknown';
  #active: ActiveRun | undefined;
  #runCounter = 0;
  #stopping = false;
  #restarts = 0;

  constructor(options: WorkerHostOptions) {
    this.#options = options;
  }

  get name(): string {
    return this.#options.device.name;
  }

  get idle(): boolean {
    return this.#ready && this.#active === undefined && !this.#stopping;
  }

  get provider(): string {
    return this.#provider;
  }

  get restarts(): number {
    return this.#restarts;
  }

  get freeSlots(): number {
    return this.idle ? 1 : 0;
  }

  /** Every role's model is loaded by the pipeline in this thread; an upscale needs an upscale model, which it has not. */
  serves(spec: JobSpec): boolean {
    return spec.upscale === undefined;
  }

  unavailable(spec: JobSpec): string | undefined {
    return spec.upscale === undefined ? undefined : `${this.name} runs the local ONNX model, which has no upscale model (an upscale runs on a ComfyUI server with comfyui.workflows.upscale)`;
  }

  stats(): BackendStats {
    return { name: this.name, provider: this.#provider, idle: this.idle, restarts: this.#restarts };
  }

  /** Starts the thread and waits until the pipeline has loaded. Rejects with the pipeline's error. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const boot: WorkerBoot = {
        pipelineModule: this.#options.pipelineModule.href,
        pipelineOptions: this.#options.pipelineOptions,
        device: this.#options.device,
        cancelBuffer: this.#cancelBuffer,
      };
      const worker = new Worker(BOOTSTRAP, { workerData: { entry: ENTRY.href, boot }, name: `inference-${this.name}` });
      this.#worker = worker;
      let settled = false;
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            this.#ready = true;
            this.#provider = message.provider;
            settled = true;
            resolve();
            break;
          case 'init-failed':
            settled = true;
            reject(new Error(message.error.message));
            break;
          case 'log':
            this.#options.log(message.level, message.message, { device: this.name, ...message.detail });
            break;
          default:
            this.#onRunMessage(message);
        }
      });
      worker.on('error', (error) => {
        this.#options.log('error', 'inference worker crashed', { device: this.name, error: error.message });
      });
      worker.on('exit', (code) => {
        if (this.#worker !== worker) return;
        this.#worker = undefined;
        this.#ready = false;
        const active = this.#active;
        this.#active = undefined;
        if (!settled) {
          settled = true;
          reject(new Error(`Inference worker ${this.name} exited with code ${code} while starting`));
          return;
        }
        if (this.#stopping) return;
        active?.resolve({
          kind: 'failed',
          error: engineError('worker-crashed', `The inference worker on ${this.name} stopped unexpectedly (exit code ${code})`, {
            device: this.name,
          }),
        });
        this.#restart();
      });
    });
  }

  #restart(): void {
    this.#restarts += 1;
    this.#options.log('warn', 'restarting inference worker', { device: this.name, restarts: this.#restarts });
    this.start().then(
      () => this.#options.onReady?.(),
      (error: Error) => {
        this.#options.log('error', 'inference worker failed to restart', { device: this.name, error: error.message });
        if (!this.#stopping) setTimeout(() => this.#restart(), Math.min(30_000, 500 * 2 ** this.#restarts)).unref();
      },
    );
  }

  #onRunMessage(message: Exclude<FromWorker, { type: 'ready' | 'init-failed' | 'log' }>): void {
    const active = this.#active;
    if (!active || active.run !== message.run) return;
    if (message.type === 'progress') {
      active.onProgress(message.step, message.total, message.preview);
      return;
    }
    this.#active = undefined;
    if (message.type === 'done') active.resolve({ kind: 'done', output: message.output });
    else if (message.type === 'failed') active.resolve({ kind: 'failed', error: message.error });
    else active.resolve({ kind: 'cancelled' });
  }

  /** Runs one job. Never rejects: failures, crashes and cancellation are outcomes. */
  run(spec: JobSpec, onProgress: ProgressListener): { run: number; outcome: Promise<RunOutcome> } {
    if (!this.idle || !this.#worker) throw new Error(`Worker ${this.name} is not idle`);
    const run = ++this.#runCounter;
    const outcome = new Promise<RunOutcome>((resolve) => {
      this.#active = { run, onProgress, resolve };
    });
    const message: ToWorker = { type: 'run', run, spec };
    this.#worker.postMessage(message);
    return { run, outcome };
  }

  /** Asks the running job to stop at its next step boundary. */
  cancel(run: number): void {
    if (this.#active?.run === run) Atomics.store(this.#cancelFlag, 0, run);
  }

  /** Lets the running job finish (when asked), then stops the thread. */
  async stop(options: { readonly graceful: boolean }): Promise<void> {
    this.#stopping = true;
    const worker = this.#worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    if (options.graceful) {
      worker.postMessage({ type: 'shutdown' } satisfies ToWorker);
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
    } else {
      await worker.terminate();
    }
  }
}
