import PQueue from 'p-queue';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logging.ts';
import type { ImageModerator } from '../moderation/verdict.ts';
import type { Backend, RunOutcome } from './backend.ts';
import { engineError, isStorageFailure, storageError } from './errors.ts';
import type { EtaModel } from './eta.ts';
import { JobHandle } from './job-handle.ts';
import type { JobEvent, JobRecord, JobStatus } from './job.ts';
import type { JournalWriter } from './journal/journal-writer.ts';
import { remainingByProgress, type LiveJob, type RunningJob } from './live-job.ts';
import type { PipelineOutput, RgbPixels } from './pipeline.ts';
import type { Positions } from './positions.ts';
import { userKeyOf } from './request.ts';
import { assembleResult, resultRecord } from './result-assembly.ts';
import type { Scheduler } from './scheduler.ts';
import { isSharedCall, NO_LOCAL_DEVICE, SharedCallRefused, SharedGate, type QueueItem, type SharedCall, type SharedCallRequest } from './shared-gate.ts';

export interface DispatchOptions {
  readonly config: Readonly<Config>;
  readonly journal: JournalWriter;
  readonly scheduler: Scheduler<QueueItem>;
  readonly backends: readonly Backend[];
  /** Whether a backend computes on this machine (a local device, not a ComfyUI server): shared calls hold its slots. */
  readonly local: (backend: Backend) => boolean;
  /** What a shared call costs in the fair queue. */
  readonly sharedCost: number;
  readonly eta: EtaModel;
  readonly moderator: ImageModerator;
  readonly log: Logger;
}

type Terminal = Extract<JobStatus, 'done' | 'blocked' | 'failed' | 'cancelled'>;

/**
 * The job state machine: waiting (in the scheduler) → running (on a backend) → post-processed → done | blocked |
 * failed | cancelled. Each change is journaled before it is announced. A backend is given a job only when it has a
 * free slot and serves the job; post-processing never holds a backend. Shared calls (shared-gate.ts) wait in the
 * same queue and hold a local backend's slot while they run, counted with the jobs in their user's running cap. Over
 * 300 lines on purpose: every slot, a job's or a shared call's, is handed out from this one place, never twice.
 */
export class Dispatch {
  readonly #options: DispatchOptions;
  readonly #live = new Map<string, LiveJob>();
  readonly #running = new Map<string, RunningJob>();
  readonly #runningByUser = new Map<string, number>();
  /** Slots shared calls hold, by backend name (the backend itself does not know of them). */
  readonly #held = new Map<string, number>();
  readonly #gate: SharedGate;
  /** Jobs a backend lost mid-run (it died): the backend, which the job's one retry avoids. */
  readonly #lostOn = new Map<string, string>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #postprocessing: PQueue;
  #positions: Positions | undefined;
  #halted = false;

  constructor(options: DispatchOptions) {
    this.#options = options;
    this.#postprocessing = new PQueue({ concurrency: options.config.queue.postprocessConcurrency });
    this.#gate = new SharedGate({ scheduler: options.scheduler, cost: options.sharedCost, pump: () => this.pump() });
  }

  /** Shared calls waiting in the queue (for a job-only view of it). */
  get shared(): Pick<SharedGate, 'waiting' | 'waitingOf'> {
    return this.#gate;
  }

  /** Shared calls holding a slot now. */
  get sharedRunning(): number {
    let count = 0;
    for (const held of this.#held.values()) count += held;
    return count;
  }

  /**
   * Runs `run` once the fair queue gives the call a local backend's slot, holding the slot until `run` settles or the
   * signal aborts (shared-gate.ts). Refused at once where no local device exists, and once halted.
   */
  runShared<T>(request: SharedCallRequest, run: () => Promise<T>): Promise<T> {
    if (!this.#options.backends.some((b) => this.#options.local(b))) return Promise.reject(new SharedCallRefused(NO_LOCAL_DEVICE));
    return this.#gate.run(request, run);
  }

  /** Set once, after both exist (positions read the running jobs from here). */
  attach(positions: Positions): void {
    this.#positions = positions;
  }

  job(id: string): JobHandle | undefined {
    return this.#live.get(id)?.handle;
  }

  running(): Iterable<RunningJob> {
    return this.#running.values();
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /** Queues a journaled job; its first event goes out on the next turn, after the caller could subscribe. */
  enqueue(record: JobRecord, listener?: (event: JobEvent) => void): JobHandle {
    const handle = new JobHandle(
      record,
      () => this.cancel(record.id),
      (error) => this.#options.log.error({ job: record.id, err: error }, 'job listener failed'),
    );
    if (listener) handle.subscribe(listener);
    const job: LiveJob = {
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
    this.#options.scheduler.enqueue(job);
    setImmediate(() => {
      this.#positions?.refresh(true);
      this.pump();
    });
    return handle;
  }

  has(id: string): boolean {
    return this.#live.has(id);
  }

  /** A waiting job ends at once; a running one is asked to stop at its next step. False when neither. */
  cancel(jobId: string): boolean {
    const job = this.#live.get(jobId);
    if (!job) return false;
    if (this.#options.scheduler.remove(jobId)) {
      this.#finish(job, 'cancelled', { type: 'cancelled' });
      this.#positions?.schedule();
      return true;
    }
    const running = this.#running.get(jobId);
    if (!running || running.cancelRequested) return false;
    running.cancelRequested = true;
    running.backend.cancel(running.run);
    return true;
  }

  /** Gives every backend with a free slot the next job it serves, in the scheduler's order. */
  pump(): void {
    // Halted (shutting down): waiting jobs stay in the journal for the next start.
    if (this.#halted) return;
    const { scheduler, backends, config } = this.#options;
    for (const backend of backends) {
      const local = this.#options.local(backend);
      while (backend.freeSlots - (this.#held.get(backend.name) ?? 0) > 0) {
        const item = scheduler.next(
          (item) =>
            (this.#runningByUser.get(item.userKey) ?? 0) < config.queue.maxRunningPerUser &&
            (isSharedCall(item) ? local : backend.serves(item.record.spec) && this.#lostOn.get(item.id) !== backend.name),
        );
        if (!item) break;
        if (isSharedCall(item)) this.#startShared(backend, item);
        else this.#startOn(backend, item);
      }
    }
  }

  /** No job starts any more; running ones finish. Waiting shared calls are refused (they are not journaled). */
  halt(): void {
    this.#halted = true;
    this.#gate.close(engineError('shutting-down', 'The bot is shutting down; the GPU queue takes no more work'));
  }

  /** A shared call holds one of the backend's slots, and counts as running for its user, until it releases it. */
  #startShared(backend: Backend, call: SharedCall): void {
    this.#held.set(backend.name, (this.#held.get(backend.name) ?? 0) + 1);
    this.#addRunning(call.userKey, 1);
    let released = false;
    call.start(() => {
      if (released) return;
      released = true;
      const held = (this.#held.get(backend.name) ?? 1) - 1;
      if (held > 0) this.#held.set(backend.name, held);
      else this.#held.delete(backend.name);
      this.#addRunning(call.userKey, -1);
      this.pump();
      this.#positions?.schedule();
    });
  }

  #addRunning(userKey: string, change: number): void {
    const count = (this.#runningByUser.get(userKey) ?? 0) + change;
    if (count > 0) this.#runningByUser.set(userKey, count);
    else this.#runningByUser.delete(userKey);
  }

  /** Resolves once nothing runs and every result is delivered. */
  async drain(): Promise<void> {
    while (this.#running.size > 0 || this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#postprocessing.onIdle();
  }

  #startOn(backend: Backend, job: LiveJob): void {
    const { journal, eta } = this.#options;
    journal.markRunning(job.id, backend.name);
    this.#addRunning(job.userKey, 1);
    const startedAt = Date.now();
    const estimate = eta.seconds(job.record.role, job.cost, backend.name) * 1000;
    const { run, outcome } = backend.run(job.record.spec, (step, total, preview) => {
      const running = this.#running.get(job.id);
      if (!running) return;
      running.step = step;
      running.total = total;
      job.handle.emit({ type: 'progress', step, total, etaMs: Math.round(remainingByProgress(Date.now() - startedAt, step, total)) });
      if (preview) this.#track(this.#showPreview(job, startedAt, preview));
    });
    this.#running.set(job.id, { job, backend, run, startedAt, step: 0, total: 0, cancelRequested: false });
    job.handle.emit({ type: 'started', etaMs: Math.round(estimate) });
    this.#positions?.schedule();
    this.#track(outcome.then((result) => this.#onOutcome(job, backend, startedAt, result)));
  }

  /**
   * A preview is an image like any other: it is shown only after the classifier has passed it (any doubt, and
   * the job simply shows no picture until its result).
   */
  async #showPreview(job: LiveJob, startedAt: number, preview: RgbPixels): Promise<void> {
    const verdict = await this.#options.moderator.judge(preview).catch(() => undefined);
    const running = this.#running.get(job.id);
    if (!verdict || verdict.flagged || !running || running.step >= running.total) return;
    const etaMs = Math.round(remainingByProgress(Date.now() - startedAt, running.step, running.total));
    job.handle.emit({ type: 'progress', step: running.step, total: running.total, etaMs, preview });
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch((error: unknown) => this.#options.log.error({ err: error }, 'engine task failed'));
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
  }

  async #onOutcome(job: LiveJob, backend: Backend, startedAt: number, outcome: RunOutcome): Promise<void> {
    this.#running.delete(job.id);
    this.#addRunning(job.userKey, -1);
    // The backend's slot is free now; post-processing below does not hold it.
    this.pump();
    this.#positions?.schedule();

    if (outcome.kind === 'cancelled') {
      this.#options.scheduler.refund(job.userKey, job.cost);
      this.#finish(job, 'cancelled', { type: 'cancelled' });
      return;
    }
    if (outcome.kind === 'lost') {
      this.#options.scheduler.refund(job.userKey, job.cost);
      if (this.#retryElsewhere(job, backend, outcome.error)) return;
      this.#options.log.warn({ job: job.id, backend: backend.name, error: outcome.error.message }, 'job lost with its backend');
      this.#lostOn.delete(job.id);
      this.#finish(job, 'failed', { type: 'failed', error: engineError('backend-lost', `${outcome.error.message}; no other backend could finish it`, { backend: backend.name }) });
      return;
    }
    this.#lostOn.delete(job.id);
    if (outcome.kind === 'failed') {
      this.#options.scheduler.refund(job.userKey, job.cost);
      this.#options.log.warn({ job: job.id, code: outcome.error.code, error: outcome.error.message }, 'job failed');
      this.#finish(job, 'failed', { type: 'failed', error: outcome.error });
      return;
    }
    this.#options.eta.observe(job.record.role, job.cost, outcome.output.timings.totalMs / 1000, backend.name);
    await this.#postprocessing.add(() => this.#deliver(job, backend, startedAt, outcome.output));
  }

  /**
   * A job whose backend went away mid-run goes back to the queue once, for another backend that serves it; false
   * when it was lost before or no other backend serves it (the caller fails it). It rejoins the end of its user's
   * queue, and is charged again when it starts.
   */
  #retryElsewhere(job: LiveJob, lostOn: Backend, error: { readonly message: string }): boolean {
    if (this.#halted || this.#lostOn.has(job.id)) return false;
    if (!this.#options.backends.some((b) => b !== lostOn && b.serves(job.record.spec))) return false;
    this.#lostOn.set(job.id, lostOn.name);
    this.#options.log.warn({ job: job.id, backend: lostOn.name, error: error.message }, 'backend lost a running job; queued again for another backend');
    this.#options.journal.markWaiting(job.id);
    job.lastPosition = -1;
    this.#options.scheduler.enqueue(job);
    this.#positions?.refresh(true);
    this.pump();
    return true;
  }

  async #deliver(job: LiveJob, backend: Backend, startedAt: number, output: PipelineOutput): Promise<void> {
    const { config, moderator, log, scheduler } = this.#options;
    try {
      const result = await assembleResult(
        { jobId: job.id, spec: job.record.spec, policy: job.record.policy, output, device: backend.name, enqueuedAt: job.enqueuedAt, startedAt },
        { moderator, dataDir: config.dataDir },
      );
      for (const image of result.images) {
        if (image.verdict.flagged) log.info({ job: job.id, index: image.index, verdict: image.verdict, policy: job.record.policy }, 'image flagged');
      }
      if (result.images.every((i) => i.withheld)) {
        // Nothing could be delivered: the job costs its user nothing.
        scheduler.refund(job.userKey, job.cost);
        this.#finish(job, 'blocked', { type: 'blocked', result });
      } else {
        this.#finish(job, 'done', { type: 'done', result });
      }
    } catch (error) {
      scheduler.refund(job.userKey, job.cost);
      log.error({ job: job.id, err: error }, 'post-processing failed');
      const failure = isStorageFailure(error) ? storageError(error) : engineError('internal', `Post-processing failed: ${(error as Error).message}`);
      this.#finish(job, 'failed', { type: 'failed', error: failure });
    }
  }

  #finish(job: LiveJob, status: Terminal, event: Extract<JobEvent, { type: Terminal }>): void {
    const result = event.type === 'done' || event.type === 'blocked' ? resultRecord(event.result) : undefined;
    const error = event.type === 'failed' ? event.error : undefined;
    this.#options.journal.finish(job.id, status, { ...(error ? { error } : {}), ...(result ? { result } : {}) });
    this.#live.delete(job.id);
    this.#lostOn.delete(job.id);
    job.handle.emit(event);
  }
}
