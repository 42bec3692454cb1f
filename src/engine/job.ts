import type { Role } from '../config/schema.ts';
import type { ModerationPolicy, ModerationVerdict } from '../moderation/verdict.ts';
import type { EngineError } from './errors.ts';
import type { NoiseSpec } from './noise-spec.ts';
import type { PipelineTimings, RgbPixels } from './pipeline.ts';
import type { JobAction, JobOwner, JobSpec } from './request.ts';

export type { JobAction } from './request.ts';

/** A job's record and events: the types the engine, its journal and every reader of its history share. */

export type JobStatus = 'waiting' | 'running' | 'done' | 'blocked' | 'failed' | 'cancelled';

export const TERMINAL: ReadonlySet<JobStatus> = new Set(['done', 'blocked', 'failed', 'cancelled']);

/**
 * Where a job was asked for, as the platform names it: the place a user's "latest draft" is looked up in and a
 * channel's history is read from. The engine stores it; it never interprets it.
 */
export interface JobScope {
  readonly platform: string;
  /** A Discord guild, a Slack workspace; null where the platform has none (the studio, the terminal, DMs). */
  readonly workspace: string | null;
  readonly channel: string;
}

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

/** The JobSpec fields a result repeats, so it shows how to reproduce it without its spec at hand. */
export const RESULT_SPEC_FIELDS = [
  'role',
  'width',
  'height',
  'steps',
  'guidance',
  'shift',
  'strength',
  'seed',
  'chaos',
  'style',
  'negativePrompt',
] as const satisfies readonly (keyof JobSpec)[];

export type ResultSpecFields = Pick<JobSpec, (typeof RESULT_SPEC_FIELDS)[number]>;

export interface ResultMeta extends ResultSpecFields {
  readonly jobId: string;
  readonly model: string;
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

/** What the journal keeps of a finished job: verdicts and file paths, never a withheld image. */
export interface JobResultRecord {
  /** Each candidate as delivered, less its pixels (a withheld one has no path: it was never stored). */
  readonly images: readonly Omit<DeliveredImage, 'png' | 'width' | 'height'>[];
  readonly meta: ResultMeta;
}

/** One job as the journal holds it. */
export interface JobRecord {
  readonly id: string;
  readonly seq: number;
  readonly owner: JobOwner;
  readonly scope: JobScope;
  readonly role: Role;
  readonly spec: JobSpec;
  readonly cost: number;
  /** The adapter's own data (where and how to deliver the result); the engine stores it and never reads it. */
  readonly delivery: unknown;
  readonly policy: ModerationPolicy;
  readonly parentId: string | null;
  /** Which candidate of the parent it was made from; null for a whole result (a reroll, an edit of every candidate). */
  readonly parentIndex: number | null;
  /** What made it; null for jobs journaled before lineage was recorded (their role says most of it). */
  readonly action: JobAction | null;
  readonly status: JobStatus;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly error: EngineError | null;
  readonly result: JobResultRecord | null;
  /** The backend (a device or a ComfyUI server, by name) it last ran on; null before it started. */
  readonly backend: string | null;
}

/** The events of one job, a closed union. */
export type JobEvent =
  | { readonly type: 'queued'; readonly position: number; readonly etaMs: number }
  | { readonly type: 'started'; readonly etaMs: number }
  | { readonly type: 'progress'; readonly step: number; readonly total: number; readonly etaMs: number; readonly preview?: RgbPixels }
  | { readonly type: 'done'; readonly result: JobResult }
  | { readonly type: 'blocked'; readonly result: JobResult }
  | { readonly type: 'failed'; readonly error: EngineError }
  | { readonly type: 'cancelled' };

export type TerminalEvent = Extract<JobEvent, { type: 'done' | 'blocked' | 'failed' | 'cancelled' }>;

export const isTerminal = (event: JobEvent): event is TerminalEvent =>
  event.type === 'done' || event.type === 'blocked' || event.type === 'failed' || event.type === 'cancelled';
