import { randomUUID } from 'node:crypto';
import type { ComfyDeviceConfig, ComfyuiConfig, Role } from '../../config/schema.ts';
import { ROLES } from '../../config/schema.ts';
import type { Backend, BackendStats, ProgressListener, RunOutcome } from '../backend.ts';
import { engineError } from '../errors.ts';
import type { JobSpec } from '../request.ts';
import { checkServer, type ServerCheck } from './checks.ts';
import { ComfyClient, type OpenSocket } from './client.ts';
import { workflowKindOf } from './job-inputs.ts';
import { PromptRun } from './prompt-run.ts';
import type { Workflow, WorkflowKind } from './workflow.ts';

export type ComfyLog = (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) => void;

export interface ComfyBackendOptions {
  readonly device: ComfyDeviceConfig;
  readonly settings: ComfyuiConfig;
  /** The loaded workflows, by kind (only the configured ones). */
  readonly workflows: ReadonlyMap<WorkflowKind, Workflow>;
  readonly log: ComfyLog;
  /** A slot freed, or what the server can run changed: the engine looks for work for it. */
  readonly onChange: () => void;
  /** Opens the server's WebSocket (the runtime's, on `ws`). */
  readonly openSocket: OpenSocket;
  readonly env?: NodeJS.ProcessEnv;
}

/** How a workflow kind reads in messages: the role it serves, and when that differs, which part of it. */
export function describeKind(kind: WorkflowKind): string {
  switch (kind) {
    case 'vary':
      return 'draft (Vary)';
    case 'inpaint':
      return 'edit with a mask or region';
    case 'edit':
      return 'edit by instruction';
    default:
      return kind;
  }
}

/** The role a workflow kind serves (upscale serves none of the three). */
const ROLE_OF: Readonly<Record<WorkflowKind, Role | null>> = { draft: 'draft', vary: 'draft', refine: 'refine', inpaint: 'edit', edit: 'edit', upscale: null };

/**
 * One ComfyUI server as a backend of the engine. It has `concurrency` slots while its checks pass and its socket is
 * open, none otherwise; it serves a job when the job's role is one of its roles and the job's workflow passed this
 * server's checks. The checks run at start and every `checkIntervalSeconds`, and again whenever the socket comes
 * back; each change of what the server can run is logged once, naming the server, the role and the missing file.
 */
export class ComfyBackend implements Backend {
  readonly provider = 'comfyui';
  readonly #options: ComfyBackendOptions;
  readonly #client: ComfyClient;
  readonly #roles: ReadonlySet<Role>;
  readonly #runs = new Map<number, PromptRun>();
  readonly #held = new Set<string>();
  #check: ServerCheck | undefined;
  #checking: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #runCounter = 0;
  #ring = 0;
  #stopping = false;
  #reconnects = 0;
  #opened = false;
  #closedLogged = false;

  constructor(options: ComfyBackendOptions) {
    this.#options = options;
    const { device, settings } = options;
    const env = options.env ?? process.env;
    const headers: Record<string, string> = {};
    if (device.authEnv !== null) {
      const value = env[device.authEnv];
      if (!value) throw new Error(`The ComfyUI server ${device.name} sends its ${device.authHeader} header from the environment variable ${device.authEnv}, which is not set`);
      headers[device.authHeader] = value;
    }
    this.#roles = new Set(device.roles ?? ROLES);
    this.#client = new ComfyClient({
      url: device.url,
      headers,
      clientId: `zimage-bot-${randomUUID()}`,
      requestTimeoutMs: settings.requestTimeoutMs,
      reconnectMinMs: settings.reconnectMinMs,
      reconnectMaxMs: settings.reconnectMaxMs,
      onMessage: (message) => {
        for (const run of this.#runs.values()) run.onMessage(message);
      },
      onImage: (frame) => {
        for (const run of this.#runs.values()) if (run.executing) run.onImage(frame);
      },
      onSocket: (open, error, refused) => this.#onSocket(open, error, refused === true),
      openSocket: options.openSocket,
    });
  }

  get name(): string {
    return this.#options.device.name;
  }

  get capacity(): number {
    return this.#options.device.concurrency;
  }

  /** Up: its last check answered and its socket is open. */
  get healthy(): boolean {
    return this.#check?.down === null && this.#client.socketOpen;
  }

  get freeSlots(): number {
    return this.healthy && !this.#stopping ? Math.max(0, this.capacity - this.#runs.size) : 0;
  }

  /** An upscale is no role's: every server whose checks pass for the upscale workflow runs it, whatever its roles. */
  serves(spec: JobSpec): boolean {
    return (spec.upscale !== undefined || this.#roles.has(spec.role)) && this.#check?.workflows.get(workflowKindOf(spec)) === null;
  }

  /** Its checks passed for a configured upscale workflow. */
  get upscales(): boolean {
    return !this.#stopping && this.#check?.down === null && this.#check.workflows.get('upscale') === null;
  }

  unavailable(spec: JobSpec): string | undefined {
    const kind = workflowKindOf(spec);
    if (spec.upscale === undefined && !this.#roles.has(spec.role)) return `${this.name} does not serve ${spec.role}`;
    if (!this.#options.workflows.has(kind)) return `no ${kind} workflow is configured (comfyui.workflows.${kind})`;
    if (!this.#check) return `${this.name} has not been checked yet`;
    if (this.#check.down !== null) return `${this.name} is unavailable: ${this.#check.down}`;
    const problem = this.#check.workflows.get(kind);
    if (problem) return `${this.name} cannot run ${describeKind(kind)}: ${problem}`;
    if (!this.#client.socketOpen) return `${this.name} is unavailable: its WebSocket is reconnecting`;
    return undefined;
  }

  stats(): BackendStats {
    return { name: this.name, provider: this.provider, idle: this.#runs.size === 0, restarts: this.#reconnects };
  }

  /** Connects and runs the first round of checks (a server that is down is reported, not fatal), then every interval. */
  async start(): Promise<void> {
    await this.#client.connect();
    await this.checkNow();
    this.#schedule();
  }

  /** Runs the checks now (one round at a time); resolves when they are done. */
  checkNow(): Promise<void> {
    this.#checking ??= (async () => {
      try {
        const check = await checkServer(this.#client, this.#options.workflows);
        if (!this.#stopping) this.#apply(check);
      } finally {
        this.#checking = undefined;
      }
    })();
    return this.#checking;
  }

  #schedule(): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      void this.checkNow().finally(() => this.#schedule());
    }, this.#options.settings.checkIntervalSeconds * 1000);
    this.#timer.unref();
  }

  /** Logs what changed (once per change) and lets the engine look for work. */
  #apply(check: ServerCheck): void {
    const before = this.#check;
    this.#check = check;
    const { log } = this.#options;
    if (check.down !== null) {
      if (before?.down !== check.down) log('warn', `ComfyUI ${this.name} is unavailable: ${check.down}`, { server: this.name });
    } else {
      if (before === undefined || before.down !== null) log('info', `ComfyUI ${this.name} is up`, { server: this.name, url: this.#client.url });
      for (const [kind, problem] of check.workflows) {
        const role = ROLE_OF[kind];
        if (role !== null && !this.#roles.has(role)) continue;
        const was = before?.down === null ? before.workflows.get(kind) : undefined;
        if (problem !== null && problem !== was) log('warn', `ComfyUI ${this.name}: ${describeKind(kind)} is unavailable: ${problem}`, { server: this.name, role: role ?? kind });
        if (problem === null && was !== null && was !== undefined) log('info', `ComfyUI ${this.name}: ${describeKind(kind)} is available again`, { server: this.name, role: role ?? kind });
      }
    }
    this.#options.onChange();
  }

  #onSocket(open: boolean, error: string | undefined, refused: boolean): void {
    for (const run of this.#runs.values()) run.onSocket(open, refused);
    if (this.#stopping) return;
    if (open) {
      if (this.#opened) this.#reconnects += 1;
      this.#opened = true;
      this.#closedLogged = false;
      void this.checkNow();
    } else if (!this.#closedLogged) {
      // Once per outage, not once per reconnect attempt.
      this.#closedLogged = true;
      this.#options.log('warn', `ComfyUI ${this.name}: the WebSocket closed (${error ?? 'no reason'}); reconnecting`, { server: this.name });
      this.#options.onChange();
    }
  }

  /** A free name of the upload ring: one no running job of this server still uses. */
  #uploadName(runNames: Set<string>): string {
    const size = this.#options.settings.uploadRing;
    for (let tried = 0; tried < size; tried++) {
      const name = `in-${this.#ring}.png`;
      this.#ring = (this.#ring + 1) % size;
      if (!this.#held.has(name)) {
        this.#held.add(name);
        runNames.add(name);
        return name;
      }
    }
    throw new Error(`comfyui.uploadRing (${size}) is too small for ${this.capacity} jobs at once on ${this.name}`);
  }

  run(spec: JobSpec, onProgress: ProgressListener): { run: number; outcome: Promise<RunOutcome> } {
    const id = ++this.#runCounter;
    const kind = workflowKindOf(spec);
    const workflow = this.#options.workflows.get(kind);
    if (!workflow) {
      return { run: id, outcome: Promise.resolve({ kind: 'failed', error: engineError('backend-failed', `No ${kind} workflow is configured`, { backend: this.name, reason: `no ${kind} workflow is configured` }) }) };
    }
    const names = new Set<string>();
    const { settings, log } = this.#options;
    const prompt = new PromptRun(
      {
        server: this.name,
        client: this.#client,
        workflow,
        settings,
        upload: (png) => this.#client.uploadImage(png, this.#uploadName(names), settings.uploadSubfolder),
        onProgress,
        log,
      },
      spec,
    );
    this.#runs.set(id, prompt);
    const outcome = prompt.outcome.then((result) => {
      this.#runs.delete(id);
      for (const name of names) this.#held.delete(name);
      return result;
    });
    return { run: id, outcome };
  }

  cancel(run: number): void {
    this.#runs.get(run)?.cancel();
  }

  async stop(options: { readonly graceful: boolean }): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    if (options.graceful) await Promise.allSettled([...this.#runs.values()].map((r) => r.outcome));
    else for (const run of this.#runs.values()) run.cancel();
    this.#client.close();
  }
}
