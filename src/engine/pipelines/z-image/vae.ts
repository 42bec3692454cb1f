import type { DeviceConfig } from '../../../config/schema.ts';
import { engineError, EngineFailure } from '../../errors.ts';
import type { ModelDirectory } from '../../model/manifest.ts';
import { floatInput, floatOutput, graphRunStats, openGraph, requireTensors, runGraph, type GraphSession, type Log } from '../../onnx/session.ts';
import type { LatentShape } from './denoiser.ts';

export interface RgbFrame {
  readonly width: number;
  readonly height: number;
  /** 8-bit RGB, row-major, interleaved. */
  readonly data: Uint8Array;
}

/** What the encoder says of an image, before scaling: a mean, and a log-variance when the export returns one. */
export interface Posterior {
  readonly mean: Float32Array;
  readonly logvar: Float32Array | null;
}

/**
 * The VAE halves and Z-Image's latent constants: decode z / scaling + shift, then (x/2 + 0.5) clamped to [0, 1];
 * encode to a posterior, from which `latents` takes the mean or a sample, (z − shift) · scaling.
 */
export class Vae {
  readonly #model: ModelDirectory;
  readonly #decoder: GraphSession;
  readonly #encoder: GraphSession | undefined;

  private constructor(model: ModelDirectory, decoder: GraphSession, encoder: GraphSession | undefined) {
    this.#model = model;
    this.#decoder = decoder;
    this.#encoder = encoder;
  }

  static async open(model: ModelDirectory, device: DeviceConfig, log: Log): Promise<Vae> {
    const { vaeDecoder, vaeEncoder } = model.manifest;
    const decoder = await openGraph(model.files.vaeDecoder, device, log);
    requireTensors(decoder, 'The VAE decoder', [vaeDecoder.input], [vaeDecoder.output]);
    let encoder: GraphSession | undefined;
    if (vaeEncoder && model.files.vaeEncoder) {
      encoder = await openGraph(model.files.vaeEncoder, device, log);
      requireTensors(encoder, 'The VAE encoder', [vaeEncoder.input], [vaeEncoder.output, ...(vaeEncoder.logvar ? [vaeEncoder.logvar] : [])]);
    }
    return new Vae(model, decoder, encoder);
  }

  get canEncode(): boolean {
    return this.#encoder !== undefined;
  }

  async decode(latents: readonly Float32Array[], shape: LatentShape): Promise<RgbFrame[]> {
    const { vaeDecoder, latent } = this.#model.manifest;
    const size = shape.channels * shape.height * shape.width;
    const frames: RgbFrame[] = [];
    for (let start = 0; start < latents.length; start += vaeDecoder.maxBatch) {
      const chunk = latents.slice(start, start + vaeDecoder.maxBatch);
      const input = new Float32Array(chunk.length * size);
      chunk.forEach((z, b) => {
        for (let i = 0; i < size; i++) input[b * size + i] = z[i]! / latent.scalingFactor + latent.shiftFactor;
      });
      const output = await runGraph(
        this.#decoder,
        { [vaeDecoder.input]: floatInput(this.#decoder, vaeDecoder.input, input, [chunk.length, shape.channels, shape.height, shape.width]) },
        vaeDecoder.output,
      );
      const [, channels, height, width] = output.dims as [number, number, number, number];
      if (channels !== 3 || height !== shape.height * vaeDecoder.upscale || width !== shape.width * vaeDecoder.upscale) {
        throw new EngineFailure(
          engineError('model-error', `The VAE decoder returned ${output.dims.join('×')}; expected ${chunk.length}×3×${shape.height * vaeDecoder.upscale}×${shape.width * vaeDecoder.upscale}`, {
            file: this.#model.files.vaeDecoder,
          }),
        );
      }
      const pixels = floatOutput(output);
      const plane = height * width;
      chunk.forEach((_, b) => {
        const rgb = new Uint8Array(plane * 3);
        const base = b * 3 * plane;
        for (let p = 0; p < plane; p++) {
          for (let c = 0; c < 3; c++) {
            const v = pixels[base + c * plane + p]! / 2 + 0.5;
            rgb[p * 3 + c] = Math.round(255 * (v < 0 ? 0 : v > 1 ? 1 : v));
          }
        }
        frames.push({ width, height, data: rgb });
      });
    }
    return frames;
  }

  /** True when the encoder returns a log-variance, so `latents` samples rather than taking the mean. */
  get samplesPosterior(): boolean {
    const encoder = this.#model.manifest.vaeEncoder;
    return encoder !== undefined && (encoder.moments || encoder.logvar !== undefined);
  }

  /** Encodes one RGB frame (already at latent × downscale size) to its posterior (unscaled). */
  async encode(frame: RgbFrame): Promise<Posterior> {
    const { vaeEncoder, latent } = this.#model.manifest;
    if (!this.#encoder || !vaeEncoder) {
      throw new EngineFailure(engineError('model-error', `Model ${this.#model.manifest.name} has no VAE encoder`));
    }
    const plane = frame.width * frame.height;
    const input = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) input[c * plane + p] = (frame.data[p * 3 + c]! / 255) * 2 - 1;
    const feeds = { [vaeEncoder.input]: floatInput(this.#encoder, vaeEncoder.input, input, [1, 3, frame.height, frame.width]) };
    const outputs = [vaeEncoder.output, ...(vaeEncoder.logvar ? [vaeEncoder.logvar] : [])];
    const started = performance.now();
    const result = await this.#encoder.session.run(feeds, outputs);
    graphRunStats.ms += performance.now() - started;
    graphRunStats.calls += 1;

    const expected = latent.channels * (frame.height / vaeEncoder.downscale) * (frame.width / vaeEncoder.downscale);
    const refuse = (message: string): never => {
      throw new EngineFailure(engineError('model-error', message, { file: this.#model.files.vaeEncoder ?? '' }));
    };
    const read = (name: string, values: number): Float32Array => {
      const tensor = result[name];
      if (!tensor) return refuse(`The VAE encoder returned no "${name}"`);
      const data = floatOutput(tensor);
      if (data.length === values) return data;
      if (!vaeEncoder.moments && !vaeEncoder.logvar && data.length === 2 * values) {
        return refuse(
          `The VAE encoder returned ${tensor.dims.join('×')}: twice the latent channels. If that is the mean and the log-variance, say so with vaeEncoder.moments: true in model.json`,
        );
      }
      return refuse(`The VAE encoder returned ${tensor.dims.join('×')} for "${name}"; expected ${values} values`);
    };
    if (vaeEncoder.moments) {
      // [1, 2C, h, w]: the first C channels are the mean, the next C the log-variance (diffusers' chunk(2, dim=1)).
      const moments = read(vaeEncoder.output, 2 * expected);
      return { mean: moments.subarray(0, expected), logvar: moments.subarray(expected) };
    }
    return { mean: read(vaeEncoder.output, expected), logvar: vaeEncoder.logvar ? read(vaeEncoder.logvar, expected) : null };
  }

  /**
   * Normalised latents from a posterior: (z − shift) · scaling, with z the mean, or z = mean + e^(logvar/2)·ε when
   * the encoder gave a log-variance and ε is given (log-variance clamped to [−30, 20] as diffusers does).
   */
  latents(posterior: Posterior, eps: Float32Array | null): Float32Array {
    const { scalingFactor, shiftFactor } = this.#model.manifest.latent;
    const { mean, logvar } = posterior;
    const out = new Float32Array(mean.length);
    for (let i = 0; i < mean.length; i++) {
      const z = logvar && eps ? mean[i]! + Math.exp(0.5 * Math.min(20, Math.max(-30, logvar[i]!))) * eps[i]! : mean[i]!;
      out[i] = (z - shiftFactor) * scalingFactor;
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.#decoder.session.release();
    await this.#encoder?.session.release();
  }
}
