import { join } from 'node:path';
import { isComfyDevice, type ProfileConfig, type Role } from '../config/schema.ts';
import type { ImageModerator, ModerationPolicy } from '../moderation/verdict.ts';
import { Admission, type AdmissionChecks, type AdmittedJob } from './admission.ts';
import type { Backend, BackendStats } from './backend.ts';
import { upscaleModelOf } from './comfyui/setup.ts';
import { Dispatch } from './dispatch.ts';
import { engineError, fail, ok, type EngineError, type Result } from './errors.ts';
import { JOURNAL_UNAVAILABLE } from './journal/journal-writer.ts';
import { EtaModel } from './eta.ts';
import { FairScheduler } from './fair-scheduler.ts';
import type { JobHistory } from './history.ts';
import type { JobHandle } from './job-handle.ts';
import type { JobEvent, JobRecord, JobScope } from './job.ts';
import { JournalWriter } from './journal/journal-writer.ts';
import { JobJournal } from './journal/journal.ts';
import { TeamStore, type CandidateVotes, type SettingsKey, type TeamRecords, type Voter } from './journal/team-store.ts';
import type { LiveJob } from './live-job.ts';
import { Positions } from './positions.ts';
import type { StyleCatalog } from './prompt/styles.ts';
import { recoverJobs, type ResumeDecision } from './recovery.ts';
import type { GenerationRequest, JobSpec, ModelInfo } from './request.ts';
import { jobCost, samplingSettings, type SamplingSettings } from './sampling-settings.ts';
import type { Scheduler } from './scheduler.ts';
import { jobsOnly, type QueueItem, type SharedCallRequest } from './shared-gate.ts';
import { upscaledSize, type UpscaleModel } from './upscale-request.ts';
import { startBackends, type BackendOptions } from './start-backends.ts';

export type { AdmittedJob } from './admission.ts';
export type { ResumeDecision } from './recovery.ts';
export { SharedCallRefused, type SharedCallRequest } from './shared-gate.ts';
export type { BoardEntry, CandidateVotes, SettingsKey, TeamRecords, Voter } from './journal/team-store.ts';

export interface EngineOptions extends AdmissionChecks, BackendOptions {
  readonly models: Readonly<Record<Role, ModelInfo>>;
  readonly styles: StyleCatalog;
  readonly moderator: ImageModerator;
  readonly randomSeed?: () => number;
  /** The ordering policy (jobs and shared calls); deficit round robin by user and cost unless given. */
  readonly scheduler?: Scheduler<QueueItem>;
}

export interface SubmitOptions {
  /** Where the job was asked for (a user's "latest" is looked up per scope); the owner's platform alone if absent. */
  readonly scope?: JobScope;
  /** The adapter's own data, kept in the journal as JSON so a restart knows where to deliver. */
  readonly delivery?: unknown;
  readonly policy?: ModerationPolicy;
  /** Subscribed before the first event, so no event can be missed. */
  readonly onEvent?: (event: JobEvent) => void;
}

const SHUTTING_DOWN = engineError('shutting-down', 'The bot is restarting; try again in a minute');

/**
 * The one queue in front of the GPUs: admission (admission.ts), a pluggable ordering policy (scheduler.ts), the job
 * state machine over the backends (dispatch.ts), queue positions (positions.ts), results (result-assembly.ts) and
 * start-up recovery (recovery.ts), over a SQLite journal it keeps to itself. Everyone else reads `history`. Over 300
 * lines as the facade it is: each public method is a few lines handing over to one of those parts.
 */
export class Engine {
  readonly #options: EngineOptions;
  readonly #journal: JobJournal;
  readonly #team: TeamStore;
  readonly #writer: JournalWriter;
  readonly #backends: readonly Backend[];
  /** The jobs in the fair queue, without the shared calls among them. */
  readonly #scheduler: Scheduler<LiveJob>;
  readonly #admission: Admission;
  readonly #dispatch: Dispatch;
  readonly #upscale: UpscaleModel | null;
  #accepting = true;
  #shutdown: Promise<void> | undefined;

  private constructor(options: EngineOptions, journal: JobJournal, team: TeamStore, backends: readonly Backend[]) {
    this.#options = options;
    this.#journal = journal;
    this.#team = team;
    this.#writer = new JournalWriter(journal, options.logger);
    this.#backends = backends;
    const { config } = options;
    const queue = options.scheduler ?? new FairScheduler<QueueItem>({ quantum: config.queue.quantum });
    const localNames = new Set(config.devices.filter((device) => !isComfyDevice(device)).map((device) => device.name));
    const eta = new EtaModel({ initialSecondsPerCost: config.queue.initialSecondsPerCost, smoothing: config.queue.etaSmoothing });
    this.#dispatch = new Dispatch({
      config,
      journal: this.#writer,
      scheduler: queue,
      backends,
      local: (backend) => localNames.has(backend.name),
      sharedCost: sharedCallCost(config.profiles.draft, options.models.draft),
      eta,
      moderator: options.moderator,
      log: options.logger,
    });
    this.#scheduler = jobsOnly(queue, this.#dispatch.shared);
    this.#upscale = upscaleModelOf(options.comfyWorkflows);
    this.#admission = new Admission({ ...options, waiting: this.#scheduler, history: journal, upscale: this.#upscale });
    this.#dispatch.attach(
      new Positions({
        scheduler: this.#scheduler,
        eta,
        running: () => this.#dispatch.running(),
        backends: () => backends.map((b) => ({ name: b.name, capacity: b.capacity ?? 1, serves: (job) => b.serves(job.record.spec) })),
        updateIntervalMs: config.queue.updateIntervalMs,
      }),
    );
  }

  /** Opens the journal and starts the backends (start-backends.ts). */
  static async start(options: EngineOptions): Promise<Engine> {
    const file = join(options.config.dataDir, 'zimage.db');
    const journal = new JobJournal(file);
    const team = new TeamStore(file);
    let pump = (): void => undefined;
    let backends: Backend[];
    try {
      backends = await startBackends(options, () => pump());
    } catch (error) {
      team.close();
      journal.close();
      throw error;
    }
    const engine = new Engine(options, journal, team, backends);
    pump = () => engine.#dispatch.pump();
    return engine;
  }


  /** Every job, read-only. */
  get history(): JobHistory {
    return this.#journal;
  }

  /** Votes, the messages that show each job, channel and personal settings: read-only. */
  get team(): TeamRecords {
    return this.#team;
  }

  get models(): Readonly<Record<Role, ModelInfo>> {
    return this.#options.models;
  }

  get styles(): StyleCatalog {
    return this.#options.styles;
  }

  /** A role's steps range, defaults, guidance and shift: its profile over its model's manifest. */
  sampling(role: Role): SamplingSettings {
    return samplingSettings(role, this.#options.config.profiles[role], this.#options.models[role]);
  }

  /**
   * Whether an Upscale can run now: an upscale workflow is configured and some backend passed its checks for it; given
   * an image's size, also whether its upscale stays within limits.maxSide. Results offer Upscale only then.
   */
  canUpscale(size?: { readonly width: number; readonly height: number }): boolean {
    if (this.#upscale === null) return false;
    if (size) {
      const out = upscaledSize(size, this.#upscale.scale);
      if (Math.max(out.width, out.height) > this.#options.config.limits.maxSide) return false;
    }
    return this.#backends.some((b) => b.upscales === true);
  }

  /** False while paused or shutting down: new jobs are refused. */
  get accepting(): boolean {
    return this.#accepting && this.#shutdown === undefined;
  }

  /** Stops taking new jobs (they are refused as 'shutting-down'); waiting and running jobs go on. */
  pause(): void {
    this.#accepting = false;
  }

  resume(): void {
    this.#accepting = true;
  }

  /** A live (waiting or running) job. */
  job(id: string): JobHandle | undefined {
    return this.#dispatch.job(id);
  }

  /** Jobs waiting and running, shared calls (runShared) waiting and running, and each backend. */
  stats(): { waiting: number; running: number; shared: { waiting: number; running: number }; workers: BackendStats[] } {
    return {
      waiting: this.#scheduler.size,
      running: this.#dispatch.runningCount,
      shared: { waiting: this.#dispatch.shared.waiting, running: this.#dispatch.sharedRunning },
      workers: this.#backends.map((b) => b.stats()),
    };
  }

  /** Every check a request must pass, without queueing it; `submit` takes the result. Changes nothing. */
  async check(request: GenerationRequest): Promise<Result<AdmittedJob>> {
    if (!this.accepting) return fail(SHUTTING_DOWN);
    if (!this.#writer.healthy) return fail(JOURNAL_UNAVAILABLE);
    const admitted = await this.#admission.check(request);
    if (!admitted.ok) return admitted;
    const refusal = this.#noBackend(admitted.value.spec);
    return refusal ? fail(refusal) : admitted;
  }

  /** The refusal of a job no backend can run now (its servers are down or lack its workflow's files), with why. */
  #noBackend(spec: JobSpec): EngineError | undefined {
    if (this.#backends.some((b) => b.serves(spec) && b.unavailable?.(spec) === undefined)) return undefined;
    const reasons = this.#backends.map((b) => b.unavailable?.(spec) ?? `${b.name} does not serve ${spec.role}`);
    const why = reasons.length > 0 ? reasons.join('; ') : 'no device is configured';
    if (spec.upscale) return engineError('no-backend', `No backend can upscale now: ${why}`, { role: spec.role, action: 'upscale', reasons: why });
    return engineError('no-backend', `No backend can run ${spec.role} now: ${why}`, { role: spec.role, reasons: why });
  }

  /**
   * Queues a request (checked here) or an admitted job (checked by `check`). Refusals come back as typed errors and
   * change nothing: not the queue, not the journal, not the disk.
   */
  async submit(job: GenerationRequest | AdmittedJob, options: SubmitOptions = {}): Promise<Result<JobHandle>> {
    let admitted: AdmittedJob;
    if ('spec' in job) {
      admitted = job;
    } else {
      const checked = await this.check(job);
      if (!checked.ok) return checked;
      admitted = checked.value;
    }
    // Checking took time: the caps may have filled, or a shutdown begun, meanwhile. The slot is held until queued.
    const reservation = this.accepting ? this.#admission.reserve(admitted.userKey) : SHUTTING_DOWN;
    if (typeof reservation !== 'function') return fail(reservation);
    try {
      const stored = await this.#admission.store(admitted);
      if (!stored.ok) return stored;
      const record = this.#journalAdd(admitted, options);
      return record.ok ? ok(this.#dispatch.enqueue(record.value, options.onEvent)) : record;
    } finally {
      reservation();
    }
  }

  #journalAdd(admitted: AdmittedJob, options: SubmitOptions): Result<JobRecord> {
    return this.#writer.add({
      id: admitted.id,
      owner: admitted.owner,
      scope: options.scope ?? { platform: admitted.owner.platform, workspace: null, channel: '' },
      spec: admitted.spec,
      cost: admitted.cost,
      delivery: options.delivery,
      policy: options.policy ?? 'block',
      parentId: admitted.parentId,
      parentIndex: admitted.parentIndex,
      action: admitted.action,
    });
  }

  /**
   * Runs `run` as work of its own in the fair queue (a prompt-assistant model on this machine's GPU): it waits its
   * user's turn like a job, at the cost of a one-image draft, then holds a local device's slot until `run` settles.
   * Not journaled. An aborted signal takes it out of the queue or frees its slot (rejecting with the signal's reason);
   * a shutdown refuses the waiting ones, and where every device is a ComfyUI server it is refused at once (both with
   * SharedCallRefused, whose `error` says why).
   */
  runShared<T>(request: SharedCallRequest, run: () => Promise<T>): Promise<T> {
    return this.#dispatch.runShared(request, run);
  }

  /** Cancels a job by id (the adapters' Cancel button, after the core's permission check). */
  cancel(jobId: string): Result<void> {
    return this.#dispatch.cancel(jobId) ? ok(undefined) : fail(engineError('unknown-job', `Job ${jobId} is not waiting or running`, { job: jobId }));
  }

  /** Replaces an adapter's data of a job (its message moved, an expired token dropped); never the job itself. */
  updateDelivery(jobId: string, delivery: unknown): void {
    this.#writer.setDelivery(jobId, delivery);
  }

  /** Rewrites the adapter data of every job of a platform for which `rewrite` returns something (a token sweep). */
  rewriteDeliveries(platform: string, rewrite: (delivery: unknown) => unknown): number {
    const changes = [...this.#journal.deliveries(platform)].flatMap(({ id, delivery }) => {
      const changed = rewrite(delivery);
      return changed === undefined ? [] : [{ id, changed }];
    });
    for (const { id, changed } of changes) this.#writer.setDelivery(id, changed);
    return changes.length;
  }

  /** One person's vote for a candidate, or its withdrawal (`on` false); the job's votes after it. */
  vote(jobId: string, candidate: number, voter: Voter, on: boolean): Result<CandidateVotes[]> {
    return this.#teamWrite('vote', () => {
      this.#team.vote(jobId, candidate, voter, on);
      return this.#team.votes(jobId);
    });
  }

  /** A deleted result leaves the board. */
  clearVotes(jobId: string): Result<void> {
    return this.#teamWrite('clear votes', () => this.#team.clearVotes(jobId));
  }

  /** Records that a platform message (by the adapter's key for it) shows a job, so a reaction on it finds the job. */
  linkMessage(platform: string, message: string, jobId: string): Result<void> {
    return this.#teamWrite('link a message', () => this.#team.linkMessage(platform, message, jobId));
  }

  /** Saves a channel's or a person's settings (the core validated them). */
  saveSettings(key: SettingsKey, value: unknown, by: string): Result<void> {
    return this.#teamWrite('save settings', () => this.#team.saveSettings(key, value, by));
  }

  /** Saves a set of prompt suggestions under its id (the core's value, stored as it is). */
  saveSuggestions(id: string, value: unknown): Result<void> {
    return this.#teamWrite('save prompt suggestions', () => this.#team.saveSuggestions(id, value));
  }

  /** A team write is one short statement: a locked or read-only journal refuses it plainly, and nothing is half done. */
  #teamWrite<T>(what: string, write: () => T): Result<T> {
    try {
      return ok(write());
    } catch (error) {
      this.#options.logger.warn({ err: error }, `could not ${what}: the journal refused the write`);
      return fail(JOURNAL_UNAVAILABLE);
    }
  }

  /** Start-up: re-queues the unfinished jobs their adapters can still deliver, fails the rest with the reason. */
  recover(decide: (record: JobRecord) => ResumeDecision): { resumed: JobHandle[]; failed: JobRecord[] } {
    return recoverJobs(
      { unfinished: () => this.#journal.unfinished(), journal: this.#writer, isLive: (id) => this.#dispatch.has(id), enqueue: (record) => this.#dispatch.enqueue(record), log: this.#options.logger },
      decide,
    );
  }

  /**
   * SIGTERM: stop accepting, let running jobs finish and be delivered, keep waiting jobs in the journal for the
   * next start, stop the backends.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      this.#dispatch.halt();
      await this.#dispatch.drain();
      await Promise.all(this.#backends.map((b) => b.stop({ graceful: true })));
      this.#writer.close();
      this.#team.close();
      this.#journal.close();
    })();
    return this.#shutdown;
  }

  /** Tests and the benchmark: stop everything now, as a crash would (the journal keeps what it has). */
  async kill(): Promise<void> {
    this.#accepting = false;
    this.#dispatch.halt();
    await Promise.all(this.#backends.map((b) => b.stop({ graceful: false })));
    this.#writer.close();
    this.#team.close();
    this.#journal.close();
  }
}

/**
 * A shared call's cost: one candidate of a draft at the draft model's native size and default steps (and guidance),
 * the smallest ordinary job. A model call is short GPU work of unknown size (it depends on the model and the answer),
 * so it is charged as the cheapest thing a user can draft, and takes its turns with everyone's jobs as that draft
 * would. Derived from the installed draft model, it keeps that weight whatever the model's cost units come to.
 */
export function sharedCallCost(profile: ProfileConfig, model: ModelInfo): number {
  const settings = samplingSettings('draft', profile, model);
  return jobCost({
    steps: settings.steps,
    strength: 1,
    guidance: settings.guidance,
    inversion: 0,
    width: model.size.nativeWidth,
    height: model.size.nativeHeight,
    candidates: [0],
    image: null,
  });
}
