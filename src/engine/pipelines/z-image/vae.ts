import type { DeviceConfig } from '../../../config/schema.ts';
import { engineError, EngineFailure } from '../../errors.ts';
import type { ModelDirectory } from '../../model/manifest.ts';
import { floatInput, floatOutput, openGraph, requireTensors, runGraph, type GraphSession, type Log } from '../../onnx/session.ts';
import type { LatentShape } from './denoiser.ts';

export interface RgbFrame {
  readonly width: number;
  readonly height: number;
  /** 8-bit RGB, row-major, interleaved. */
  readonly data: Uint8Array;
}

/**
 * The VAE halves and Z-Image's latent constants: decode z / scaling + shift, then (x/2 + 0.5) clamped to [0, 1];
 * encode (mean − shift) · scaling.
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
      requireTensors(encoder, 'The VAE encoder', [vaeEncoder.input], [vaeEncoder.output]);
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

  /** Encodes one RGB frame (already at latent × downscale size) to normalised latents. */
  async encode(frame: RgbFrame): Promise<Float32Array> {
    const { vaeEncoder, latent } = this.#model.manifest;
    if (!this.#encoder || !vaeEncoder) {
      throw new EngineFailure(engineError('model-error', `Model ${this.#model.manifest.name} has no VAE encoder`));
    }
    const plane = frame.width * frame.height;
    const input = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) input[c * plane + p] = (frame.data[p * 3 + c]! / 255) * 2 - 1;
    const output = await runGraph(
      this.#encoder,
      { [vaeEncoder.input]: floatInput(this.#encoder, vaeEncoder.input, input, [1, 3, frame.height, frame.width]) },
      vaeEncoder.output,
    );
    const expected = latent.channels * (frame.height / vaeEncoder.downscale) * (frame.width / vaeEncoder.downscale);
    // Some exports return the posterior's mean and log-variance stacked on the channel axis: keep the mean.
    const raw = floatOutput(output);
    const mean = raw.length === 2 * expected ? raw.subarray(0, expected) : raw;
    if (mean.length !== expected) {
      throw new EngineFailure(
        engineError('model-error', `The VAE encoder returned ${output.dims.join('×')}; expected ${expected} values`, {
          file: this.#model.files.vaeEncoder ?? '',
        }),
      );
    }
    const out = new Float32Array(mean.length);
    for (let i = 0; i < mean.length; i++) out[i] = (mean[i]! - latent.shiftFactor) * latent.scalingFactor;
    return out;
  }

  async dispose(): Promise<void> {
    await this.#decoder.session.release();
    await this.#encoder?.session.release();
  }
}
