import { join } from 'node:path';
import type { ImageModerator, ModerationPolicy } from '../moderation/verdict.ts';
import { RESULT_SPEC_FIELDS, type JobResult, type JobResultRecord, type ResultSpecFields } from './job.ts';
import type { PipelineOutput } from './pipeline.ts';
import { postprocess } from './postprocess.ts';
import type { JobSpec } from './request.ts';

export interface AssemblyInput {
  readonly jobId: string;
  readonly spec: JobSpec;
  readonly policy: ModerationPolicy;
  readonly output: PipelineOutput;
  /** The backend that ran it. */
  readonly device: string;
  readonly enqueuedAt: number;
  readonly startedAt: number;
}

export interface AssemblyDeps {
  readonly moderator: ImageModerator;
  readonly dataDir: string;
}

function specFields(spec: JobSpec): ResultSpecFields {
  return Object.fromEntries(RESULT_SPEC_FIELDS.map((key) => [key, spec[key]])) as unknown as ResultSpecFields;
}

/**
 * A finished run → the job's result: each candidate judged by the classifier, encoded with its parameters and
 * stored (unless withheld), the grid composed, and the meta that says how to reproduce it and what it took.
 */
export async function assembleResult(input: AssemblyInput, deps: AssemblyDeps): Promise<JobResult> {
  const began = Date.now();
  const { images, grid } = await postprocess({
    jobId: input.jobId,
    spec: input.spec,
    candidates: input.output.candidates,
    policy: input.policy,
    moderator: deps.moderator,
    outputDir: join(deps.dataDir, 'outputs', input.jobId),
  });
  const now = Date.now();
  return {
    images,
    grid,
    meta: {
      ...specFields(input.spec),
      jobId: input.jobId,
      model: input.spec.modelName,
      provider: input.output.provider,
      device: input.device,
      truncated: input.output.truncated,
      timings: {
        ...input.output.timings,
        queueMs: input.startedAt - input.enqueuedAt,
        postprocessMs: now - began,
        wallMs: now - input.enqueuedAt,
      },
    },
  };
}

/** What the journal keeps of a result: no pixels. */
export function resultRecord(result: JobResult): JobResultRecord {
  return {
    images: result.images.map(({ png: _png, width: _width, height: _height, ...stored }) => stored),
    meta: result.meta,
  };
}
