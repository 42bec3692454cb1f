import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import PQueue from 'p-queue';
import sharp from 'sharp';
import type { Config, Role } from '../config/schema.ts';
import type { Logger } from '../logging.ts';
import type { ImageModerator, ModerationPolicy } from '../moderation/verdict.ts';
import { engineError, fail, ok, type EngineError, type Result } from './errors.ts';
import { EtaModel, startTimes } from './eta.ts';
import { FairScheduler, type FairItem } from './fair-scheduler.ts';
import { normalizeInputImage } from './image/input.ts';
import { JobHandle, type JobEvent, type JobResult } from './job-handle.ts';
import { JobJournal, type JobRecord, type JobResultRecord } from './journal.ts';
import { MAX_SEED } from './noise-spec.ts';
import type { PipelineOutput, RgbPixels } from './pipeline.ts';
import { postprocess } from './postprocess.ts';
import type { StyleCatalog } from './prompt/styles.ts';
import { jobCost, resolveRequest, userKeyOf, type GenerationRequest, type ImageInput, type ModelInfo } from './request.ts';
import { WorkerHost, type RunOutcome } from './worker/worker-host.ts';

export interface EngineOptions {
  readonly config: Readonly<Config>;
  readonly models: Readonly<Record<Role, ModelInfo>>;
  readonly styles: StyleCatalog;
  readonly moderator: ImageModerator;
  /** file: URL of the module whose createPipeline runs inside each worker. */
  readonly pipelineModule: URL;
  readonly pipelineOptions?: unknown;
  readonly logger: Logger;
  /** Checks a prompt before it is queued (the prompt filter); returns an error to refuse it. */
  readonly promptCheck?: (prompt: string) => EngineError | undefined;
  /** Judges input images (refine/edit) before any GPU time is spent on them. */
  readonly inputCheck?: (image: { width: number; height: number; data: Uint8Array }) => Promise<EngineError | undefined>;
  readonly randomSeed?: () => number;
}

export interface SubmitOptions {
  /** Adapter-specific delivery data kept in the journal (JSON), so a restart knows where to deliver. */
  readonly delivery?: unknown;
  readonly policy?: ModerationPolicy;
  /** Subscribed before the first event, so no event can be missed. */
  readonly onEvent?: (event: JobEvent) => void;
}

/** What an adapter says about a job found unfinished at start-up. */
export type ResumeDecision =
  | { readonly resume: true; readonly attach: (handle: JobHandle) => void }
  | { readonly resume: false; readonly reason: string };

interface QueuedJob extends FairItem {
  readonly record: JobRecord;
  readonly handle: JobHandle;
  readonly enqueuedAt: number;
  lastPosition: number;
  lastEtaMs: number;
  lastSentAt: number;
}

interface RunningJob {
  readonly job: QueuedJob;
  readonly worker: WorkerHost;
  readonly run: number;
  readonly startedAt: number;
  step: number;
  total: number;
  cancelRequested: boolean;
}

interface CheckedImage {
  /** Where it is (a stored result) or will be stored (an upload, once the job is accepted). */
  readonly path: string;
  readonly width: number;
  readonly height: number;
  /** The normalised upload to write; null for a file that is already stored. */
  readonly png: Buffer | null;
}

/** What is left of a running job, if the remaining steps take as long as the done ones (same unit as `elapsed`). */
const remainingByProgress = (elapsed: number, step: number, total: number): number => (elapsed / step) * (total - step);

const newJobId = (): string => randomBytes(8).toString('base64url').replace(/[-_]/g, 'x').slice(0, 10);

/**
 * The one queue in front of the GPU: a fair policy (deficit round robin by user and cost), one inference worker per
 * device, post-processing off the workers, and a SQLite journal so accepted jobs survive restarts.
 */
export class Engine {
  readonly #options: EngineOptions;
  readonly #config: Readonly<Config>;
  readonly #log: Logger;
  readonly #journal: JobJournal;
  readonly #scheduler: FairScheduler<QueuedJob>;
  readonly #eta: EtaModel;
  readonly #workers: WorkerHost[];
  readonly #postprocessing: PQueue;
  readonly #live = new Map<string, QueuedJob>();
  readonly #running = new Map<string, RunningJob>();
  readonly #runningByUser = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  #accepting = true;
  #refreshPending = false;
  #shutdown: Promise<void> | undefined;

  private constructor(options: EngineOptions, journal: JobJournal, workers: WorkerHost[]) {
    this.#options = options;
    this.#config = options.config;
    this.#log = options.logger;
    this.#journal = journal;
    this.#workers = workers;
    this.#scheduler = new FairScheduler({ quantum: options.config.queue.quantum });
    this.#eta = new EtaModel({
      initialSecondsPerCost: options.config.queue.initialSecondsPerCost,
      smoothing: options.config.queue.etaSmoothing,
    });
    this.#postprocessing = new PQueue({ concurrency: options.config.queue.postprocessConcurrency });
  }

  /** Opens the journal and starts one inference worker per configured device. */
  static async start(options: EngineOptions): Promise<Engine> {
    const journal = new JobJournal(join(options.config.dataDir, 'zimage.db'));
    let engine: Engine | undefined;
    const workers = options.config.devices.map(
      (device) =>
        new WorkerHost({
          device,
          pipelineModule: options.pipelineModule,
          pipelineOptions: options.pipelineOptions,
          log: (level, message, detail) => options.logger[level](detail ?? {}, message),
          onReady: () => {
            if (engine) engine.#dispatch();
          },
        }),
    );
    try {
      await Promise.all(workers.map((w) => w.start()));
    } catch (error) {
      await Promise.all(workers.map((w) => w.stop({ graceful: false })));
      journal.close();
      throw error;
    }
    engine = new Engine(options, journal, workers);
    return engine;
  }

  get journal(): JobJournal {
    return this.#journal;
  }

  get models(): Readonly<Record<Role, ModelInfo>> {
    return this.#options.models;
  }

  get styles(): StyleCatalog {
    return this.#options.styles;
  }

  /** Live (waiting or running) job, if any. */
  job(id: string): JobHandle | undefined {
    return this.#live.get(id)?.handle;
  }

  stats(): { waiting: number; running: number; workers: { name: string; provider: string; idle: boolean; restarts: number }[] } {
    return {
      waiting: this.#scheduler.size,
      running: this.#running.size,
      workers: this.#workers.map((w) => ({ name: w.name, provider: w.provider, idle: w.idle, restarts: w.restarts })),
    };
  }

  /**
   * Validates, stores inputs, journals and queues a request. Refusals (bad input, caps, shutdown) come back at once
   * as typed errors and change nothing: not the queue, not the journal, not the disk.
   */
  async submit(request: GenerationRequest, options: SubmitOptions = {}): Promise<Result<JobHandle>> {
    if (!this.#accepting) return fail(engineError('shutting-down', 'The bot is restarting; try again in a minute'));
    const role = request.role;
    const profile = this.#config.profiles[role];
    const model = this.#options.models[role];
    if (!profile || !model) return fail(engineError('unknown-role', `Unknown role "${String(role)}"`, { value: String(role) }));

    const userKey = userKeyOf(request.owner);
    const capError = this.#capError(userKey);
    if (capError) return fail(capError);
    // Only the positive prompt: a negative prompt lists exactly the words people want kept out ("nude, nsfw").
    const promptError = this.#options.promptCheck?.(request.prompt);
    if (promptError) return fail(promptError);

    const id = newJobId();
    const inputs = await this.#checkInputs(id, request.image, request.mask);
    if (!inputs.ok) return inputs;
    const { image, mask } = inputs.value;
    const resolved = resolveRequest(request, {
      profile,
      model,
      limits: this.#config.limits,
      styles: this.#options.styles,
      randomSeed: this.#options.randomSeed ?? (() => randomInt(0, MAX_SEED)),
      imagePath: image?.path ?? null,
      maskPath: mask?.path ?? null,
      imageAspect: image ? image.width / image.height : null,
      defaultCount: role === 'draft' ? this.#config.limits.maxCount : 1,
    });
    if (!resolved.ok) return resolved;
    // Inputs took time to store: the caps may have filled meanwhile.
    const lateCapError = this.#accepting ? this.#capError(userKey) : engineError('shutting-down', 'The bot is restarting; try again in a minute');
    if (lateCapError) return fail(lateCapError);

    await this.#writeInputs([image, mask]);
    const record = this.#journal.add({
      id,
      owner: request.owner,
      spec: resolved.value,
      cost: jobCost(resolved.value),
      delivery: options.delivery,
      policy: options.policy ?? 'block',
      parentId: request.parent?.jobId ?? null,
    });
    const handle = this.#enqueue(record, options.onEvent);
    return ok(handle);
  }

  #capError(userKey: string): EngineError | undefined {
    const { maxWaitingPerUser, maxWaitingTotal } = this.#config.queue;
    if (this.#scheduler.sizeOf(userKey) >= maxWaitingPerUser) {
      return engineError('user-queue-full', `You already have ${maxWaitingPerUser} jobs waiting; wait for one to start`, {
        max: maxWaitingPerUser,
      });
    }
    if (this.#scheduler.size >= maxWaitingTotal) {
      return engineError('queue-full', `The queue is full (${maxWaitingTotal} jobs); try again shortly`, { max: maxWaitingTotal });
    }
    return undefined;
  }

  /**
   * Checks the inputs in memory (decoding, size caps, the classifier for input images) and decides where they will
   * be stored; nothing is written until the job is accepted, so a refusal leaves no trace.
   */
  async #checkInputs(
    id: string,
    image: ImageInput | undefined,
    mask: ImageInput | undefined,
  ): Promise<Result<{ image: CheckedImage | null; mask: CheckedImage | null }>> {
    const checked = { image: null as CheckedImage | null, mask: null as CheckedImage | null };
    for (const what of ['image', 'mask'] as const) {
      const input = what === 'image' ? image : mask;
      if (input === undefined) continue;
      const result = await this.#checkInput(id, input, what);
      if (!result.ok) return result;
      checked[what] = result.value;
    }
    const { image: i, mask: m } = checked;
    if (i && m && (i.width !== m.width || i.height !== m.height)) {
      return fail(
        engineError('bad-mask', `The mask is ${m.width}×${m.height}; it must match the image, ${i.width}×${i.height}`, {
          mask: `${m.width}x${m.height}`,
          image: `${i.width}x${i.height}`,
        }),
      );
    }
    return ok(checked);
  }

  /** One upload, normalised (or a stored result's size), input images judged before any GPU time is spent. */
  async #checkInput(id: string, input: ImageInput, what: 'image' | 'mask'): Promise<Result<CheckedImage>> {
    if ('path' in input) {
      try {
        const meta = await sharp(input.path).metadata();
        return ok({ path: input.path, width: meta.width ?? 0, height: meta.height ?? 0, png: null });
      } catch {
        return fail(engineError('missing-image', 'The earlier image is no longer stored; upload it again'));
      }
    }
    const normalized = await normalizeInputImage(input.bytes, this.#config.limits, what);
    if (!normalized.ok) return normalized;
    if (what === 'image' && this.#options.inputCheck) {
      const { data, info } = await sharp(normalized.value.png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const refusal = await this.#options.inputCheck({ width: info.width, height: info.height, data });
      if (refusal) return fail(refusal);
    }
    const path = join(this.#config.dataDir, 'inputs', `${id}-${what}.png`);
    return ok({ path, width: normalized.value.width, height: normalized.value.height, png: normalized.value.png });
  }

  async #writeInputs(inputs: readonly (CheckedImage | null)[]): Promise<void> {
    for (const input of inputs) {
      if (!input?.png) continue;
      await mkdir(dirname(input.path), { recursive: true });
      await writeFile(input.path, input.png);
    }
  }

  #enqueue(record: JobRecord, listener?: (event: JobEvent) => void): JobHandle {
    const handle = new JobHandle(
      record,
      () => this.#cancel(record.id),
      (error) => this.#log.error({ job: record.id, err: error }, 'job listener failed'),
    );
    if (listener) handle.subscribe(listener);
    const job: QueuedJob = {
      id: record.id,
      userKey: userKeyOf(record.owner),
      cost: record.cost,
      record,
      handle,
      enqueuedAt: Date.now(),
      lastPosition: -1,
      lastEtaMs: -1,
      lastSentAt: 0,
    };
    this.#live.set(record.id, job);
    this.#scheduler.enqueue(job);
    // Announce on the next turn of the event loop, after the caller has had its chance to subscribe.
    setImmediate(() => {
      this.#refreshPositions(true);
      this.#dispatch();
    });
    return handle;
  }

  /** Cancels a job by id (the adapters' Cancel button, after their own permission check). */
  cancel(jobId: string): Result<void> {
    return this.#cancel(jobId) ? ok(undefined) : fail(engineError('unknown-job', `Job ${jobId} is not waiting or running`, { job: jobId }));
  }

  #cancel(jobId: string): boolean {
    const job = this.#live.get(jobId);
    if (!job) return false;
    if (this.#scheduler.remove(jobId)) {
      this.#finish(job, 'cancelled', { type: 'cancelled' });
      this.#scheduleRefresh();
      return true;
    }
    const running = this.#running.get(jobId);
    if (!running || running.cancelRequested) return false;
    running.cancelRequested = true;
    running.worker.cancel(running.run);
    return true;
  }

  #finish(job: QueuedJob, status: 'done' | 'blocked' | 'failed' | 'cancelled', event: Extract<JobEvent, { type: typeof status }>): void {
    const result = event.type === 'done' || event.type === 'blocked' ? toResultRecord(event.result) : undefined;
    const error = event.type === 'failed' ? event.error : undefined;
    this.#journal.finish(job.id, status, { ...(error ? { error } : {}), ...(result ? { result } : {}) });
    this.#live.delete(job.id);
    job.handle.emit(event);
  }

  #dispatch(): void {
    // Shutting down: waiting jobs stay in the journal for the next start.
    if (!this.#accepting) return;
    for (const worker of this.#workers) {
      if (!worker.idle) continue;
      const job = this.#scheduler.next((user) => (this.#runningByUser.get(user) ?? 0) < this.#config.queue.maxRunningPerUser);
      if (!job) return;
      this.#startOn(worker, job);
    }
  }

  #startOn(worker: WorkerHost, job: QueuedJob): void {
    this.#journal.markRunning(job.id);
    this.#runningByUser.set(job.userKey, (this.#runningByUser.get(job.userKey) ?? 0) + 1);
    const startedAt = Date.now();
    const estimate = this.#eta.seconds(job.record.role, job.cost) * 1000;
    const { run, outcome } = worker.run(job.record.spec, (step, total, preview) => {
      const running = this.#running.get(job.id);
      if (!running) return;
      running.step = step;
      running.total = total;
      const elapsed = Date.now() - startedAt;
      job.handle.emit({ type: 'progress', step, total, etaMs: Math.round(remainingByProgress(elapsed, step, total)) });
      if (preview) this.#track(this.#showPreview(job, startedAt, preview));
    });
    this.#running.set(job.id, { job, worker, run, startedAt, step: 0, total: 0, cancelRequested: false });
    job.handle.emit({ type: 'started', etaMs: Math.round(estimate) });
    this.#scheduleRefresh();
    const task = outcome.then((result) => this.#onOutcome(job, worker, startedAt, result));
    this.#track(task);
  }

  /**
   * A preview is an image like any other: it is shown only after the classifier has passed it (any doubt, and
   * the job simply shows no picture until its result).
   */
  async #showPreview(job: QueuedJob, startedAt: number, preview: RgbPixels): Promise<void> {
    const verdict = await this.#options.moderator.judge(preview).catch(() => undefined);
    const running = this.#running.get(job.id);
    if (!verdict || verdict.flagged || !running || running.step >= running.total) return;
    const elapsed = Date.now() - startedAt;
    const etaMs = Math.round(remainingByProgress(elapsed, running.step, running.total));
    job.handle.emit({ type: 'progress', step: running.step, total: running.total, etaMs, preview });
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch((error: unknown) => this.#log.error({ err: error }, 'engine task failed'));
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
  }

  async #onOutcome(job: QueuedJob, worker: WorkerHost, startedAt: number, outcome: RunOutcome): Promise<void> {
    this.#running.delete(job.id);
    const left = (this.#runningByUser.get(job.userKey) ?? 1) - 1;
    if (left > 0) this.#runningByUser.set(job.userKey, left);
    else this.#runningByUser.delete(job.userKey);
    // The worker is free now; post-processing below does not hold it.
    this.#dispatch();
    this.#scheduleRefresh();

    if (outcome.kind === 'cancelled') {
      this.#scheduler.refund(job.userKey, job.cost);
      this.#finish(job, 'cancelled', { type: 'cancelled' });
      return;
    }
    if (outcome.kind === 'failed') {
      this.#scheduler.refund(job.userKey, job.cost);
      this.#log.warn({ job: job.id, code: outcome.error.code, error: outcome.error.message }, 'job failed');
      this.#finish(job, 'failed', { type: 'failed', error: outcome.error });
      return;
    }
    this.#eta.observe(job.record.role, job.cost, outcome.output.timings.totalMs / 1000);
    await this.#postprocessing.add(() => this.#deliver(job, worker, startedAt, outcome.output));
  }

  async #deliver(job: QueuedJob, worker: WorkerHost, startedAt: number, output: PipelineOutput): Promise<void> {
    const began = Date.now();
    try {
      const { images, grid } = await postprocess({
        jobId: job.id,
        spec: job.record.spec,
        candidates: output.candidates,
        policy: job.record.policy,
        moderator: this.#options.moderator,
        outputDir: join(this.#config.dataDir, 'outputs', job.id),
      });
      const spec = job.record.spec;
      const result: JobResult = {
        images,
        grid,
        meta: {
          jobId: job.id,
          model: spec.modelName,
          role: spec.role,
          width: spec.width,
          height: spec.height,
          steps: spec.steps,
          guidance: spec.guidance,
          shift: spec.shift,
          strength: spec.strength,
          seed: spec.seed,
          chaos: spec.chaos,
          style: spec.style,
          negativePrompt: spec.negativePrompt,
          provider: output.provider,
          device: worker.name,
          truncated: output.truncated,
          timings: {
            ...output.timings,
            queueMs: startedAt - job.enqueuedAt,
            postprocessMs: Date.now() - began,
            wallMs: Date.now() - job.enqueuedAt,
          },
        },
      };
      const withheld = images.filter((i) => i.withheld);
      for (const image of images) {
        if (image.verdict.flagged) {
          this.#log.info({ job: job.id, index: image.index, verdict: image.verdict, policy: job.record.policy }, 'image flagged');
        }
      }
      if (withheld.length === images.length) {
        // Nothing could be delivered: the job costs its user nothing.
        this.#scheduler.refund(job.userKey, job.cost);
        this.#finish(job, 'blocked', { type: 'blocked', result });
      } else {
        this.#finish(job, 'done', { type: 'done', result });
      }
    } catch (error) {
      this.#scheduler.refund(job.userKey, job.cost);
      this.#log.error({ job: job.id, err: error }, 'post-processing failed');
      this.#finish(job, 'failed', { type: 'failed', error: engineError('internal', `Post-processing failed: ${(error as Error).message}`) });
    }
  }

  #scheduleRefresh(): void {
    if (this.#refreshPending) return;
    this.#refreshPending = true;
    setImmediate(() => {
      this.#refreshPending = false;
      this.#refreshPositions(false);
    });
  }

  /** Re-sends queue position and ETA to waiting jobs whose place moved (ETA changes are throttled). */
  #refreshPositions(force: boolean): void {
    const now = Date.now();
    const order = this.#scheduler.order();
    const remaining = [...this.#running.values()].map((r) => {
      const estimate = this.#eta.seconds(r.job.record.role, r.job.cost);
      const elapsed = (now - r.startedAt) / 1000;
      const byProgress = r.step > 0 ? remainingByProgress(elapsed, r.step, r.total) : estimate - elapsed;
      return Math.max(0, byProgress);
    });
    const starts = startTimes(
      remaining,
      this.#workers.length,
      order.map((job) => this.#eta.seconds(job.record.role, job.cost)),
    );
    const interval = this.#config.queue.updateIntervalMs;
    order.forEach((job, i) => {
      const position = i + 1;
      const etaMs = Math.round(starts[i]! * 1000);
      const moved = position !== job.lastPosition;
      const drifted = Math.abs(etaMs - job.lastEtaMs) > 1000 && now - job.lastSentAt >= interval;
      if (!moved && !drifted && !(force && job.lastSentAt === 0)) return;
      job.lastPosition = position;
      job.lastEtaMs = etaMs;
      job.lastSentAt = now;
      job.handle.emit({ type: 'queued', position, etaMs });
    });
  }

  /**
   * Start-up recovery: jobs that were waiting or running when the process died. Each adapter decides whether it
   * can still deliver; the rest are failed with the reason, so none vanishes silently.
   */
  recover(decide: (record: JobRecord) => ResumeDecision): { resumed: JobHandle[]; failed: JobRecord[] } {
    const resumed: JobHandle[] = [];
    const failed: JobRecord[] = [];
    for (const record of this.#journal.unfinished()) {
      if (this.#live.has(record.id)) continue;
      let decision: ResumeDecision;
      try {
        decision = decide(record);
      } catch (error) {
        decision = { resume: false, reason: `recovery failed: ${(error as Error).message}` };
      }
      if (!decision.resume) {
        const error = engineError('lost-on-restart', `The bot restarted and cannot deliver this job any more: ${decision.reason}`, {
          reason: decision.reason,
        });
        this.#journal.finish(record.id, 'failed', { error });
        failed.push({ ...record, status: 'failed', error });
        continue;
      }
      this.#journal.markWaiting(record.id);
      const handle = this.#enqueue({ ...record, status: 'waiting' });
      decision.attach(handle);
      resumed.push(handle);
    }
    if (resumed.length + failed.length > 0) this.#log.info({ resumed: resumed.length, failed: failed.length }, 'recovered unfinished jobs');
    return { resumed, failed };
  }

  /**
   * SIGTERM: stop accepting, let running jobs finish and be delivered, keep waiting jobs in the journal for the
   * next start, stop the workers.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#drainAndStop();
    return this.#shutdown;
  }

  async #drainAndStop(): Promise<void> {
    this.#accepting = false;
    while (this.#running.size > 0 || this.#inFlight.size > 0) {
      await Promise.allSettled([...this.#inFlight]);
    }
    await this.#postprocessing.onIdle();
    await Promise.all(this.#workers.map((w) => w.stop({ graceful: true })));
    this.#journal.close();
  }

  /** Tests and the benchmark: stop everything now, as a crash would (the journal keeps what it has). */
  async kill(): Promise<void> {
    this.#accepting = false;
    await Promise.all(this.#workers.map((w) => w.stop({ graceful: false })));
    this.#journal.close();
  }
}

function toResultRecord(result: JobResult): JobResultRecord {
  return {
    images: result.images.map(({ png: _png, width: _width, height: _height, ...stored }) => stored),
    meta: result.meta,
  };
}
