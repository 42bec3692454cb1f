import type { Role } from '../config/schema.ts';
import type { EngineError } from './errors.ts';
import type { PipelineOutput, RgbPixels } from './pipeline.ts';
import type { JobSpec } from './request.ts';

/**
 * How one run on a backend ended. A run never rejects: failures, crashes and cancellation are outcomes. `lost`: the
 * backend went away mid-job (a server that died or restarted), through no fault of the job, so the dispatcher may
 * run it once more on another backend that serves it.
 */
export type RunOutcome =
  | { readonly kind: 'done'; readonly output: PipelineOutput }
  | { readonly kind: 'failed'; readonly error: EngineError }
  | { readonly kind: 'lost'; readonly error: EngineError }
  | { readonly kind: 'cancelled' };

export type ProgressListener = (step: number, total: number, preview?: RgbPixels) => void;

export interface BackendStats {
  readonly name: string;
  readonly provider: string;
  readonly idle: boolean;
  readonly restarts: number;
}

/**
 * Where a job runs: an inference worker on a local device (worker/worker-host.ts) or a ComfyUI server
 * (comfyui/comfy-backend.ts). The engine hands a backend a job only when it has a free slot and serves the job, so
 * the order across users is the scheduler's alone.
 */
export interface Backend {
  readonly name: string;
  /** What really computes (cpu, cuda, webgpu…), as the backend learned it when it started. */
  readonly provider: string;
  /** Jobs it can take right now. */
  readonly freeSlots: number;
  /** Whether this backend can run the job at all (its role's model is there). */
  serves(spec: JobSpec): boolean;
  /**
   * Why this backend cannot run the job now (it does not serve it, or it is down), in words for the refusal users
   * read when no backend can; undefined when it can. Backends without it can whenever they serve the job.
   */
  unavailable?(spec: JobSpec): string | undefined;
  /** Jobs it runs at once when healthy (1 if absent), for queue positions and ETAs. */
  readonly capacity?: number;
  /** Whether it can run an upscale now (an upscale model whose checks passed); absent: it cannot. */
  readonly upscales?: boolean;
  run(spec: JobSpec, onProgress: ProgressListener): { readonly run: number; readonly outcome: Promise<RunOutcome> };
  /** Asks a run to stop at its next step boundary. */
  cancel(run: number): void;
  stats(): BackendStats;
  /** Graceful: lets the running job finish first. */
  stop(options: { readonly graceful: boolean }): Promise<void>;
}

/**
 * A backend limited to some roles: a local device never runs a role a ComfyUI server is configured for, so the mini
 * model is never a silent stand-in for it.
 */
export function limitedToRoles(backend: Backend, roles: ReadonlySet<Role>): Backend {
  return {
    get name() {
      return backend.name;
    },
    get provider() {
      return backend.provider;
    },
    get freeSlots() {
      return backend.freeSlots;
    },
    serves: (spec) => roles.has(spec.role) && backend.serves(spec),
    // An upscale is no role's model: the backend itself says whether it can run one.
    unavailable: (spec) => (roles.has(spec.role) || spec.upscale ? backend.unavailable?.(spec) : `${backend.name} does not serve ${spec.role}`),
    ...(backend.capacity !== undefined ? { capacity: backend.capacity } : {}),
    get upscales() {
      return backend.upscales;
    },
    run: (spec, onProgress) => backend.run(spec, onProgress),
    cancel: (run) => backend.cancel(run),
    stats: () => backend.stats(),
    stop: (options) => backend.stop(options),
  };
}
