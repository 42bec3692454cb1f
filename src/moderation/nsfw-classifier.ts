import { NSFW_INPUT_SIZE, type ModerationConfig, type NsfwModelName } from './config.ts';
import { invalidImage, resizeForModel } from './model-input.ts';
import type { NsfwThreadInfo } from './nsfw-protocol.ts';
import { NsfwThread, type ModerationLog, type NsfwThreadResult } from './nsfw-thread.ts';
import { applyRule } from './rule.ts';
import type { ImageModerator, ModerationVerdict, RgbImage } from './verdict.ts';

export type NsfwClassifierConfig = Pick<ModerationConfig, 'model' | 'threshold' | 'sexyThreshold' | 'timeoutMs'>;

export interface NsfwClassifierOptions {
  /**
   * The module the thread loads its model through (it exports a LoadNsfwRunner named loadNsfwRunner); default
   * nsfw-onnx.ts. The benchmark passes nsfwjs' own execution here to compare the two on the same path.
   */
  readonly runner?: URL;
}

/** What the running classifier is, for logs, the benchmark and health checks. */
export interface NsfwClassifierInfo extends NsfwThreadInfo {
  readonly model: NsfwModelName;
  /** Threads replaced after a crash or a hang. */
  readonly restarts: number;
}

interface Pending {
  readonly id: number;
  readonly resolve: (verdict: ModerationVerdict) => void;
  readonly deadline: NodeJS.Timeout;
  settled: boolean;
}

interface Queued {
  readonly pending: Pending;
  readonly pixels: Uint8Array;
}

interface InFlight {
  readonly pending: Pending;
  readonly watchdog: NodeJS.Timeout;
}

type State = 'starting' | 'ready' | 'down' | 'closed';

const DEFAULT_RUNNER = new URL('./nsfw-onnx.ts', import.meta.url);
/** close() waits this long for the thread to finish its image and exit. */
const EXIT_WAIT_MS = 10_000;

const unavailable = (rule: string): ModerationVerdict => ({ flagged: true, reason: 'unavailable', rule });

/**
 * nsfwjs' model as an ONNX graph on onnxruntime (nsfw-onnx.ts), in its own worker thread (nsfw-thread.ts); images
 * are resized here (sharp, off the event loop) and judged one at a time there. It fails closed: an error, a crashed
 * thread or a timeout is an `unavailable` verdict, never an exception and never a pass. A crashed thread is
 * replaced for the next image; a thread that spends longer than `timeoutMs` on one image is taken as hung: it is
 * retired and a new one takes the queue at once.
 */
export class NsfwClassifier implements ImageModerator {
  readonly #config: NsfwClassifierConfig;
  readonly #options: NsfwClassifierOptions;
  readonly #log: ModerationLog;
  readonly #queue: Queued[] = [];
  /** Every image not yet judged. */
  readonly #waiting = new Set<Pending>();
  #thread: NsfwThread | undefined;
  #state: State = 'starting';
  #inFlight: InFlight | undefined;
  #nextId = 0;
  #restarts = 0;
  #failedStarts = 0;
  #lastFailure = '';
  #retryTimer: NodeJS.Timeout | undefined;
  #info: Omit<NsfwClassifierInfo, 'restarts'>;

  private constructor(config: NsfwClassifierConfig, log: ModerationLog, options: NsfwClassifierOptions) {
    this.#config = config;
    this.#options = options;
    this.#log = log;
    const inputSize = NSFW_INPUT_SIZE[config.model];
    this.#info = { model: config.model, backend: 'none', inputSize, loadMs: 0, execution: 'none' };
  }

  /** Starts the classifier thread and loads the model. Rejects with a ModerationSetupError when it cannot. */
  static async start(config: NsfwClassifierConfig, log: ModerationLog, options: NsfwClassifierOptions = {}): Promise<NsfwClassifier> {
    const classifier = new NsfwClassifier(config, log, options);
    await classifier.#spawn();
    return classifier;
  }

  get info(): NsfwClassifierInfo {
    return { ...this.#info, restarts: this.#restarts };
  }

  /** Never rejects. */
  async judge(image: RgbImage): Promise<ModerationVerdict> {
    const refused = this.#refusal();
    if (refused) return refused;
    const invalid = invalidImage(image);
    if (invalid !== undefined) return unavailable(invalid);
    let pending!: Pending;
    const verdict = new Promise<ModerationVerdict>((resolve) => {
      const deadline = setTimeout(() => this.#settle(pending, unavailable(`timeout: no verdict within ${this.#config.timeoutMs} ms`)), this.#config.timeoutMs);
      pending = { id: ++this.#nextId, resolve, deadline, settled: false };
    });
    this.#waiting.add(pending);
    try {
      const pixels = await resizeForModel(image, this.#info.inputSize);
      const refusedNow = this.#refusal();
      if (refusedNow) {
        this.#settle(pending, refusedNow);
      } else if (!pending.settled) {
        this.#queue.push({ pending, pixels });
        this.#pump();
      }
    } catch (error) {
      this.#settle(pending, unavailable(`resize failed: ${(error as Error).message}`));
    }
    return verdict;
  }

  /** Withholds whatever is still waiting (unavailable) and stops the thread. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#retryTimer);
    this.#failAll('classifier closed');
    const thread = this.#thread;
    this.#thread = undefined;
    await thread?.retire(EXIT_WAIT_MS);
  }

  /** The verdict for any image while there is no thread to judge it and none starting. */
  #refusal(): ModerationVerdict | undefined {
    if (this.#state === 'closed') return unavailable('classifier closed');
    if (this.#state === 'down') return unavailable(`classifier unavailable: ${this.#lastFailure}`);
    return undefined;
  }

  #settle(pending: Pending, verdict: ModerationVerdict): void {
    if (pending.settled) return;
    pending.settled = true;
    this.#waiting.delete(pending);
    clearTimeout(pending.deadline);
    pending.resolve(verdict);
  }

  /** Settles the image the thread is on, if any. */
  #dropInFlight(rule: string): void {
    const inFlight = this.#inFlight;
    this.#inFlight = undefined;
    if (!inFlight) return;
    clearTimeout(inFlight.watchdog);
    this.#settle(inFlight.pending, unavailable(rule));
  }

  /** Settles every image not yet judged, wherever it is: resizing, queued or in the thread. */
  #failAll(rule: string): void {
    this.#dropInFlight(rule);
    for (const pending of [...this.#waiting]) this.#settle(pending, unavailable(rule));
    this.#queue.length = 0;
  }

  /** Sends the next waiting image to the thread, if it is free. */
  #pump(): void {
    const thread = this.#thread;
    if (this.#state !== 'ready' || this.#inFlight || !thread) return;
    let next: Queued | undefined;
    do next = this.#queue.shift();
    while (next?.pending.settled);
    if (!next) return;
    const watchdog = setTimeout(() => this.#replaceHung(thread), this.#config.timeoutMs);
    this.#inFlight = { pending: next.pending, watchdog };
    thread.classify(next.pending.id, next.pixels);
  }

  #onResult(message: NsfwThreadResult): void {
    const inFlight = this.#inFlight;
    if (!inFlight || inFlight.pending.id !== message.id) return;
    clearTimeout(inFlight.watchdog);
    this.#inFlight = undefined;
    this.#settle(
      inFlight.pending,
      message.type === 'scores' ? applyRule(message.scores, this.#config) : unavailable(`classifier error: ${message.message}`),
    );
    this.#pump();
  }

  /** The thread has spent timeoutMs on one image: that image is withheld, and a new thread takes the queue. */
  #replaceHung(thread: NsfwThread): void {
    if (this.#thread !== thread) return;
    this.#log('warn', 'nsfw classifier thread hung on one image; replacing it', { timeoutMs: this.#config.timeoutMs });
    this.#thread = undefined;
    this.#dropInFlight(`classifier thread hung: no result within ${this.#config.timeoutMs} ms`);
    void thread.retire();
    this.#restart('hung');
  }

  /** A started thread stopped by itself: its image is withheld, and a new thread takes the queue. */
  #onExit(thread: NsfwThread, code: number): void {
    if (this.#thread !== thread) return;
    this.#thread = undefined;
    this.#dropInFlight(`classifier thread stopped (exit code ${code})`);
    this.#restart(`exit code ${code}`);
  }

  async #spawn(): Promise<void> {
    this.#state = 'starting';
    const boot = { model: this.#config.model, runner: (this.#options.runner ?? DEFAULT_RUNNER).href };
    const thread: NsfwThread = new NsfwThread(boot, {
      log: this.#log,
      result: (message) => this.#onResult(message),
      exited: (code) => this.#onExit(thread, code),
    });
    this.#thread = thread;
    let info: NsfwThreadInfo;
    try {
      info = await thread.ready;
    } catch (error) {
      if (this.#thread === thread) this.#thread = undefined;
      this.#lastFailure = String((error as Error).cause ?? (error as Error).message);
      throw error;
    }
    if (this.#thread !== thread) return;
    this.#failedStarts = 0;
    this.#info = { ...this.#info, ...info };
    this.#state = 'ready';
    this.#log('info', 'nsfw classifier ready', { ...this.#info, restarts: this.#restarts });
    this.#pump();
  }

  /** Replaces a thread that died; while a replacement fails to start, images are refused at once (unavailable). */
  #restart(why: string): void {
    this.#restarts += 1;
    this.#log('warn', 'restarting the nsfw classifier thread', { why, restarts: this.#restarts });
    this.#spawn().catch((error: Error) => {
      if (this.#state === 'closed') return;
      this.#state = 'down';
      this.#failedStarts += 1;
      this.#failAll(`classifier unavailable: ${this.#lastFailure}`);
      const delay = Math.min(30_000, 500 * 2 ** this.#failedStarts);
      this.#log('error', 'nsfw classifier thread failed to restart', { error: error.message, retryInMs: delay });
      this.#retryTimer = setTimeout(() => this.#restart('retry'), delay);
    });
  }
}
