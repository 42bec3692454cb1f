import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { ComfyuiConfig } from '../../config/schema.ts';
import type { ProgressListener, RunOutcome } from '../backend.ts';
import { engineError, EngineFailure, isEngineError, type EngineError } from '../errors.ts';
import type { PipelineOutput, RawCandidate, RgbPixels } from '../pipeline.ts';
import type { JobSpec } from '../request.ts';
import { ComfyHttpError, ComfyUnreachable, type ComfyClient, type PromptRejection } from './client.ts';
import type { ComfyMessage, FileRef, ImageFrame } from './frames.ts';
import { candidateValues, maskPng, sourceOf, sourcePng } from './job-inputs.ts';
import { buildPrompt, type Workflow } from './workflow.ts';

/*
 * One file for one prompt's whole life on a server (over 300 lines on purpose): the socket's events, the reconnect
 * that asks /queue and /history, cancel and the hang timer all read and end the same watch, and split apart they
 * would have to share its state across files.
 */

/** Sampler previews are passed on at most this often, as the local pipeline's are. */
const PREVIEW_INTERVAL_MS = 600;

export interface RunContext {
  /** The server's configured name, for messages. */
  readonly server: string;
  readonly client: ComfyClient;
  readonly workflow: Workflow;
  readonly settings: ComfyuiConfig;
  /** Uploads a PNG under one of the ring's names; the name LoadImage takes. */
  readonly upload: (png: Buffer) => Promise<string>;
  readonly onProgress: ProgressListener;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) => void;
}

/** How one prompt ended, as seen from the socket (and, after a reconnect, from /queue and /history). */
type PromptEnd =
  | { readonly kind: 'success'; readonly promptId: string; readonly images: readonly ImageFrame[]; readonly files: readonly FileRef[] }
  | { readonly kind: 'failed'; readonly error: EngineError }
  | { readonly kind: 'lost'; readonly why: string }
  | { readonly kind: 'interrupted' }
  /** It ran while the socket was down, and its images (sent on the socket) were missed: run it again. */
  | { readonly kind: 'missed' };

interface Watch {
  readonly promptId: string;
  readonly candidate: number;
  started: boolean;
  node: string | null;
  readonly images: ImageFrame[];
  readonly files: FileRef[];
  settled: boolean;
  /** Why the bot stopped it (a cancel, a hang): what its execution_interrupted means. */
  stopping: PromptEnd | undefined;
  readonly resolve: (end: PromptEnd) => void;
}

/**
 * One job on one ComfyUI server: each candidate is one prompt with its own seed, queued when the previous one ended
 * (so the server holds one prompt of this job at a time, and the engine's fair queue stays the only queue). It follows
 * the prompt's events — execution_start, progress (the job's steps), binary previews, the output node's images,
 * execution_success / execution_error / execution_interrupted — and survives a dropped socket by asking /queue and
 * /history once it is back. A server that is gone is a `lost` outcome, for the dispatcher to run the job elsewhere.
 */
export class PromptRun {
  readonly #ctx: RunContext;
  readonly #spec: JobSpec;
  readonly outcome: Promise<RunOutcome>;
  #watch: Watch | undefined;
  #cancelled = false;
  #hungTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #lastPreview = -Infinity;
  #lastStepAt = 0;
  /** The job's progress as last reported: steps done over all candidates. */
  #step = 0;
  #total = 0;
  readonly #stepMs: number[] = [];

  constructor(ctx: RunContext, spec: JobSpec) {
    this.#ctx = ctx;
    this.#spec = spec;
    this.outcome = this.#run().catch((error: unknown): RunOutcome =>
      error instanceof ComfyUnreachable
        ? { kind: 'lost', error: engineError('backend-lost', error.message, { backend: ctx.server }) }
        : { kind: 'failed', error: this.#asError(error) },
    );
  }

  /** Whether its prompt is the one the server executes now (binary frames carry no prompt id). */
  get executing(): boolean {
    return this.#watch?.started === true && !this.#watch.settled;
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const watch = this.#watch;
    if (!watch || watch.settled) return;
    void this.#stopPrompt(watch, { kind: 'interrupted' });
  }

  onMessage(message: ComfyMessage): void {
    const watch = this.#watch;
    if (!watch || watch.settled || message.type === 'other' || message.type === 'status') return;
    // On a reconnect ComfyUI tells its running prompt's client which node executes, without the prompt id.
    if (message.type === 'executing' && message.data.prompt_id === undefined && message.data.node !== null && watch.started) {
      watch.node = message.data.node;
      return;
    }
    if (!('prompt_id' in message.data) || message.data.prompt_id !== watch.promptId) return;
    this.#armHung(watch);
    switch (message.type) {
      case 'execution_start':
        watch.started = true;
        break;
      case 'executing':
        watch.started = true;
        watch.node = message.data.node;
        // An older server's only end signal: the prompt left the executor (an error would have come first).
        if (message.data.node === null) watch.resolve({ kind: 'success', promptId: watch.promptId, images: watch.images, files: watch.files });
        break;
      case 'progress':
        if (message.data.node === undefined || message.data.node === this.#ctx.workflow.sampler) this.#onStep(watch, message.data.value, message.data.max);
        break;
      case 'executed':
        if (message.data.node === this.#ctx.workflow.output.node) watch.files.push(...(message.data.output?.images ?? []));
        break;
      case 'execution_success':
        watch.resolve({ kind: 'success', promptId: watch.promptId, images: watch.images, files: watch.files });
        break;
      case 'execution_error': {
        const { node_id: node, node_type: type, exception_message: text } = message.data;
        const where = node ? ` in node ${node}${type ? ` (${type})` : ''}` : '';
        const reason = `${(text ?? 'an error').trim()}${where}`;
        watch.resolve({ kind: 'failed', error: engineError('backend-failed', `ComfyUI on ${this.#ctx.server} failed${where}: ${(text ?? '').trim()}`, { backend: this.#ctx.server, reason }) });
        break;
      }
      case 'execution_interrupted':
        watch.resolve(watch.stopping ?? { kind: 'interrupted' });
        break;
      default:
        break;
    }
  }

  /** A binary image frame, while this run's prompt executes: the output node's image, or a sampler preview. */
  onImage(frame: ImageFrame): void {
    const watch = this.#watch;
    if (!watch || watch.settled) return;
    if (frame.promptId !== undefined && frame.promptId !== watch.promptId) return;
    this.#armHung(watch);
    const node = frame.node ?? watch.node;
    // Sampler previews are JPEG, SaveImageWebsocket's images PNG: when the executing node was missed (a reconnect),
    // the format tells them apart.
    const fromOutput = node === this.#ctx.workflow.output.node || (node === null && frame.format === 'png');
    if (this.#ctx.workflow.output.classType === 'SaveImageWebsocket' && fromOutput) {
      watch.images.push(frame);
      return;
    }
    const now = performance.now();
    if (!this.#ctx.settings.previews || now - this.#lastPreview < PREVIEW_INTERVAL_MS) return;
    this.#lastPreview = now;
    void this.#preview(watch, frame);
  }

  /**
   * The socket closed (false) or is back (true). While it is down the prompt may still run: it is given
   * requestTimeoutMs to come back, unless nothing listens at the address any more (`refused`: the process is gone,
   * and a restarted ComfyUI forgets its queue).
   */
  onSocket(open: boolean, refused = false): void {
    const watch = this.#watch;
    if (!watch || watch.settled) return;
    if (!open) {
      if (refused) {
        watch.resolve({ kind: 'lost', why: `${this.#ctx.server} went away while running this job (connection refused)` });
        return;
      }
      if (this.#graceTimer === undefined) {
        this.#graceTimer = setTimeout(() => watch.resolve({ kind: 'lost', why: `${this.#ctx.server} stopped answering while running this job` }), this.#ctx.settings.requestTimeoutMs);
        this.#graceTimer.unref();
      }
      return;
    }
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    void this.#reconcile(watch);
  }

  async #run(): Promise<RunOutcome> {
    const started = performance.now();
    const { workflow } = this.#ctx;
    const count = this.#spec.candidates.length;
    const uploads = new Map<string, string>();
    const upload = async (key: string, make: () => Promise<Buffer>): Promise<string> => {
      const known = uploads.get(key);
      if (known) return known;
      const name = await this.#ctx.upload(await make());
      uploads.set(key, name);
      return name;
    };
    const candidates: RawCandidate[] = [];
    for (let index = 0; index < count; index++) {
      if (this.#cancelled) return { kind: 'cancelled' };
      const source = sourceOf(this.#spec, index);
      const needsImage = workflow.targets.image.length > 0;
      if (needsImage && source === null) throw new EngineFailure(engineError('missing-image', 'The image to start from is no longer stored; upload it again'));
      const image = needsImage && source !== null ? await upload(`image:${source}`, () => sourcePng(source, this.#spec)) : undefined;
      const mask = workflow.targets.mask.length > 0 && source !== null ? await upload(`mask:${source}`, () => maskPng(this.#spec, source)) : undefined;
      const values = candidateValues(this.#spec, index, { ...(image ? { image } : {}), ...(mask ? { mask } : {}) }, this.#ctx.settings.vary);
      let end = await this.#runPrompt(index, buildPrompt(workflow, values));
      // Its images went by while the socket was down: the same prompt again (same seed, same image).
      if (end.kind === 'missed') end = await this.#runPrompt(index, buildPrompt(workflow, values));
      if (this.#cancelled) return { kind: 'cancelled' };
      switch (end.kind) {
        case 'failed':
          return { kind: 'failed', error: end.error };
        case 'lost':
          return { kind: 'lost', error: engineError('backend-lost', end.why, { backend: this.#ctx.server }) };
        case 'missed':
          return { kind: 'lost', error: engineError('backend-lost', `${this.#ctx.server} dropped the connection twice while sending this job's images`, { backend: this.#ctx.server }) };
        case 'interrupted':
          return { kind: 'failed', error: engineError('backend-failed', `The prompt was interrupted on ${this.#ctx.server} by someone else`, { backend: this.#ctx.server, reason: 'it was interrupted on the server' }) };
        case 'success':
          candidates.push(await this.#candidate(index, end));
      }
    }
    const totalMs = performance.now() - started;
    const output: PipelineOutput = {
      candidates,
      truncated: [],
      provider: 'comfyui',
      timings: { textEncodeMs: 0, denoiseMs: this.#stepMs.reduce((a, b) => a + b, 0), decodeMs: 0, encodeMs: 0, totalMs, stepMs: [...this.#stepMs] },
    };
    return { kind: 'done', output };
  }

  /** Queues one prompt and waits for its end. */
  async #runPrompt(candidate: number, graph: ReturnType<typeof buildPrompt>): Promise<PromptEnd> {
    const promptId = randomUUID();
    let resolve!: (end: PromptEnd) => void;
    const ended = new Promise<PromptEnd>((r) => {
      resolve = r;
    });
    const watch: Watch = {
      promptId,
      candidate,
      started: false,
      node: null,
      images: [],
      files: [],
      settled: false,
      stopping: undefined,
      resolve: (end) => {
        if (watch.settled) return;
        watch.settled = true;
        clearTimeout(this.#hungTimer);
        clearTimeout(this.#graceTimer);
        this.#graceTimer = undefined;
        resolve(end);
      },
    };
    this.#watch = watch;
    this.#lastStepAt = performance.now();
    this.#armHung(watch);
    const extra = { preview_method: this.#ctx.settings.previews ? 'auto' : 'none' };
    try {
      await this.#ctx.client.queuePrompt(graph, promptId, extra);
    } catch (error) {
      watch.resolve(this.#queueFailure(error));
    }
    if (!this.#ctx.client.socketOpen && !watch.settled) this.onSocket(false);
    if (this.#cancelled && !watch.settled) void this.#stopPrompt(watch, { kind: 'interrupted' });
    return ended;
  }

  #queueFailure(error: unknown): PromptEnd {
    if (error instanceof ComfyUnreachable) return { kind: 'lost', why: error.message };
    if (error instanceof ComfyHttpError && error.status === 400) {
      const body = error.body as PromptRejection;
      const nodes = Object.entries(body.node_errors ?? {}).flatMap(([id, n]) =>
        (n.errors ?? []).map((e) => `node ${id}${n.class_type ? ` (${n.class_type})` : ''}: ${e.message ?? ''}${e.details ? ` (${e.details})` : ''}`),
      );
      const reason = nodes.length > 0 ? nodes.join('; ') : `${body.error?.message ?? 'rejected'}${body.error?.details ? `: ${body.error.details}` : ''}`;
      return {
        kind: 'failed',
        error: engineError('backend-failed', `ComfyUI on ${this.#ctx.server} rejected ${this.#ctx.workflow.file}: ${reason}`, { backend: this.#ctx.server, reason: `it rejected the workflow (${reason})` }),
      };
    }
    return { kind: 'failed', error: engineError('backend-failed', `ComfyUI on ${this.#ctx.server}: ${(error as Error).message}`, { backend: this.#ctx.server, reason: (error as Error).message }) };
  }

  #armHung(watch: Watch): void {
    clearTimeout(this.#hungTimer);
    const seconds = this.#ctx.settings.hungPromptSeconds;
    this.#hungTimer = setTimeout(() => {
      const error = engineError('backend-hung', `ComfyUI on ${this.#ctx.server} made no progress for ${seconds} s`, { backend: this.#ctx.server, seconds });
      void this.#stopPrompt(watch, { kind: 'failed', error });
    }, seconds * 1000);
    this.#hungTimer.unref();
  }

  /**
   * Takes a prompt off the server: out of its queue if it has not started, interrupted (by its id, so nothing else is
   * touched) if it runs. A prompt that was still queued sends no event, so `/queue` says when it is gone.
   */
  async #stopPrompt(watch: Watch, end: PromptEnd): Promise<void> {
    const { client } = this.#ctx;
    watch.stopping ??= end;
    try {
      await client.deleteQueued(watch.promptId);
      await client.interrupt(watch.promptId);
      const queue = await client.queue();
      if (!queue.running.includes(watch.promptId)) watch.resolve(end);
      // Still running: its execution_interrupted ends the watch; the hung timer is the backstop.
      else if (end.kind === 'failed') setTimeout(() => watch.resolve(end), 1000).unref();
    } catch {
      watch.resolve(end.kind === 'interrupted' ? end : { kind: 'lost', why: `${this.#ctx.server} cannot be reached to stop the prompt` });
    }
  }

  /** The socket is back: where is the prompt now? */
  async #reconcile(watch: Watch): Promise<void> {
    const { client } = this.#ctx;
    try {
      const queue = await client.queue();
      if (watch.settled) return;
      if (queue.running.includes(watch.promptId) || queue.pending.includes(watch.promptId)) {
        // It may have started while the socket was down (its execution_start missed).
        if (queue.running.includes(watch.promptId)) watch.started = true;
        this.#armHung(watch);
        return;
      }
      const entry = await client.history(watch.promptId);
      if (watch.settled) return;
      if (!entry) {
        watch.resolve({ kind: 'lost', why: `${this.#ctx.server} restarted and no longer knows this job's prompt` });
        return;
      }
      if (entry.status?.status_str === 'error') {
        const message = entry.status.messages?.find(([event]) => event === 'execution_error')?.[1] as { exception_message?: string } | undefined;
        const reason = (message?.exception_message ?? 'an error').trim();
        watch.resolve({ kind: 'failed', error: engineError('backend-failed', `ComfyUI on ${this.#ctx.server} failed: ${reason}`, { backend: this.#ctx.server, reason }) });
        return;
      }
      const files = entry.outputs?.[this.#ctx.workflow.output.node]?.images ?? [];
      if (this.#ctx.workflow.output.classType !== 'SaveImageWebsocket') watch.resolve({ kind: 'success', promptId: watch.promptId, images: [], files });
      else if (watch.images.length > 0) watch.resolve({ kind: 'success', promptId: watch.promptId, images: watch.images, files: [] });
      else watch.resolve({ kind: 'missed' });
    } catch (error) {
      watch.resolve({ kind: 'lost', why: `${this.#ctx.server} cannot be reached (${(error as Error).message})` });
    }
  }

  #onStep(watch: Watch, value: number, max: number): void {
    const now = performance.now();
    this.#stepMs.push(now - this.#lastStepAt);
    this.#lastStepAt = now;
    const count = this.#spec.candidates.length;
    this.#step = watch.candidate * max + Math.min(value, max);
    this.#total = count * max;
    this.#ctx.onProgress(this.#step, this.#total);
  }

  async #preview(watch: Watch, frame: ImageFrame): Promise<void> {
    let pixels: RgbPixels;
    try {
      const { data, info } = await sharp(frame.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      pixels = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    } catch {
      return;
    }
    if (watch.settled) return;
    // The preview rides on a progress event of the step it shows (dispatch judges it before anyone sees it).
    if (this.#step > 0) this.#ctx.onProgress(this.#step, this.#total, pixels);
  }

  /** The output image of a finished prompt, checked to be a PNG of the size asked for. */
  async #candidate(index: number, end: Extract<PromptEnd, { kind: 'success' }>): Promise<RawCandidate> {
    const { workflow } = this.#ctx;
    let bytes: Buffer | undefined;
    if (workflow.output.classType === 'SaveImageWebsocket') {
      const frame = end.images[end.images.length - 1];
      if (frame && frame.format !== 'png') throw this.#badOutput('the output came back as JPEG, not PNG');
      bytes = frame?.bytes;
    } else {
      // A cached output node may not announce its files again; the history has them.
      const files = end.files.length > 0 ? end.files : ((await this.#ctx.client.history(end.promptId))?.outputs?.[workflow.output.node]?.images ?? []);
      if (files.length > 0) bytes = await this.#ctx.client.view(files[0]!);
    }
    if (!bytes) throw this.#badOutput(`no image came back from node ${workflow.output.node}`);
    // The job's size is its output's: an upscale's spec already has its workflow's scale applied.
    const { width, height } = this.#spec;
    let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
    try {
      meta = await sharp(bytes).metadata();
    } catch {
      throw this.#badOutput('the output is not an image');
    }
    if (meta.format !== 'png') throw this.#badOutput(`the output is ${meta.format ?? 'not an image'}, not PNG`);
    if (meta.width !== width || meta.height !== height) throw this.#badOutput(`the output is ${meta.width}×${meta.height}, not the ${width}×${height} asked for`);
    const { data } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const candidate = this.#spec.candidates[index]!;
    return { index, width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length), prompt: candidate.prompt, noise: candidate.noise };
  }

  #badOutput(reason: string): EngineFailure {
    return new EngineFailure(engineError('backend-bad-output', `ComfyUI on ${this.#ctx.server}: ${reason}`, { backend: this.#ctx.server, reason }));
  }

  #asError(error: unknown): EngineError {
    if (error instanceof EngineFailure) return error.error;
    if (isEngineError(error)) return error;
    this.#ctx.log('error', 'ComfyUI run failed', { server: this.#ctx.server, error: (error as Error).message });
    return engineError('backend-failed', `ComfyUI on ${this.#ctx.server}: ${(error as Error).message}`, { backend: this.#ctx.server, reason: (error as Error).message });
  }
}
