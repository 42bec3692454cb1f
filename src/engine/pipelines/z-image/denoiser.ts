import type { DeviceConfig } from '../../../config/schema.ts';
import { engineError, EngineFailure } from '../../errors.ts';
import type { ModelDirectory } from '../../model/manifest.ts';
import { floatInput, floatOutput, int64Input, openGraph, requireTensors, runGraph, type GraphSession, type Log } from '../../onnx/session.ts';
import { applyGuidance } from './flow-match-euler.ts';
import type { TextFeatures } from './text-encoder.ts';

export interface LatentShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

interface Item {
  readonly latent: Float32Array;
  readonly text: TextFeatures;
}

/**
 * The transformer: one velocity per candidate per step. Candidates (and the negative branch of CFG) share a batch
 * up to the graph's maxBatch; prompts of different lengths share one only when the graph takes a text mask, else
 * they run in groups of equal length. Exports that drop the batch axis at B = 1 are handled by reading by size.
 */
export class Denoiser {
  readonly #model: ModelDirectory;
  readonly #graph: GraphSession;

  private constructor(model: ModelDirectory, graph: GraphSession) {
    this.#model = model;
    this.#graph = graph;
  }

  static async open(model: ModelDirectory, device: DeviceConfig, log: Log): Promise<Denoiser> {
    const t = model.manifest.transformer;
    const graph = await openGraph(model.files.transformer, device, log);
    requireTensors(graph, 'The transformer', [t.latents, t.timestep, t.textFeatures, ...(t.textMask ? [t.textMask] : [])], [t.output]);
    return new Denoiser(model, graph);
  }

  get provider(): string {
    return this.#graph.provider;
  }

  /** Model calls one step costs for `candidates` with or without CFG. */
  callsPerStep(candidates: number, cfg: boolean): number {
    return Math.ceil((candidates * (cfg ? 2 : 1)) / this.#model.manifest.transformer.maxBatch);
  }

  /**
   * Velocities for each candidate at model timestep t. With `negatives`, classifier-free guidance is applied per
   * candidate: pred = pos + g·(pos − neg), optionally renormalised.
   */
  async velocities(
    latents: readonly Float32Array[],
    shape: LatentShape,
    timestep: number,
    texts: readonly TextFeatures[],
    guidance: { readonly negatives: readonly TextFeatures[]; readonly scale: number; readonly normalization: number } | null,
  ): Promise<Float32Array[]> {
    const items: Item[] = latents.map((latent, i) => ({ latent, text: texts[i]! }));
    if (guidance) latents.forEach((latent, i) => items.push({ latent, text: guidance.negatives[i]! }));
    const outputs = await this.#runAll(items, shape, timestep);
    const velocities = outputs.slice(0, latents.length);
    if (guidance) {
      velocities.forEach((pos, i) => applyGuidance(pos, outputs[latents.length + i]!, guidance.scale, guidance.normalization));
    }
    return velocities;
  }

  async #runAll(items: readonly Item[], shape: LatentShape, timestep: number): Promise<Float32Array[]> {
    const { maxBatch, textMask } = this.#model.manifest.transformer;
    const out = new Array<Float32Array>(items.length);
    const pending = items.map((item, index) => ({ item, index }));
    while (pending.length > 0) {
      const first = pending[0]!;
      const batch = textMask
        ? pending.slice(0, maxBatch)
        : pending.filter((p) => p.item.text.length === first.item.text.length).slice(0, maxBatch);
      for (const member of batch) pending.splice(pending.indexOf(member), 1);
      const results = await this.#run(
        batch.map((b) => b.item),
        shape,
        timestep,
      );
      batch.forEach((member, i) => (out[member.index] = results[i]!));
    }
    return out;
  }

  async #run(items: readonly Item[], shape: LatentShape, timestep: number): Promise<Float32Array[]> {
    const t = this.#model.manifest.transformer;
    const batch = items.length;
    const size = shape.channels * shape.height * shape.width;
    const hidden = items[0]!.text.hiddenSize;
    const seq = Math.max(...items.map((i) => i.text.length));
    const latents = new Float32Array(batch * size);
    const text = new Float32Array(batch * seq * hidden);
    const mask = new BigInt64Array(batch * seq);
    items.forEach((item, b) => {
      latents.set(item.latent, b * size);
      text.set(item.text.features, b * seq * hidden);
      mask.fill(1n, b * seq, b * seq + item.text.length);
    });
    const latentDims = t.latentRank === 5 ? [batch, shape.channels, 1, shape.height, shape.width] : [batch, shape.channels, shape.height, shape.width];
    const feeds = {
      [t.latents]: floatInput(this.#graph, t.latents, latents, latentDims),
      [t.timestep]: floatInput(this.#graph, t.timestep, new Float32Array(batch).fill(timestep), [batch]),
      [t.textFeatures]: floatInput(this.#graph, t.textFeatures, text, [batch, seq, hidden]),
      ...(t.textMask ? { [t.textMask]: int64Input(mask, [batch, seq]) } : {}),
    };
    const velocity = floatOutput(await runGraph(this.#graph, feeds, t.output));
    if (velocity.length !== batch * size) {
      throw new EngineFailure(
        engineError('model-error', `The transformer returned ${velocity.length} values for a batch of ${batch}×${size}`, {
          file: this.#model.files.transformer,
        }),
      );
    }
    return items.map((_, b) => velocity.slice(b * size, (b + 1) * size));
  }

  async dispose(): Promise<void> {
    await this.#graph.session.release();
  }
}
