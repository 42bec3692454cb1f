import type { DeviceConfig } from '../../../config/schema.ts';
import { engineError, EngineFailure } from '../../errors.ts';
import { loadModelDirectory, type ModelDirectory } from '../../model/manifest.ts';
import type { Log } from '../../onnx/session.ts';
import { Denoiser } from './denoiser.ts';
import { LatentMemo } from './latent-memo.ts';
import { fitPreviewMap, type PreviewMap } from './preview.ts';
import { PromptEncoder } from './text-encoder.ts';
import { Vae } from './vae.ts';

/** Every graph of one model directory, loaded on one device. */
export interface ModelBundle {
  readonly model: ModelDirectory;
  readonly encoder: PromptEncoder;
  readonly denoiser: Denoiser;
  readonly vae: Vae;
  /** Latent → colour map for live previews, fitted to this model's VAE at load. */
  readonly preview: PreviewMap;
  /** The provider the transformer really runs on (after any fallback). */
  readonly provider: string;
  /** The latents of this model's recent outputs, so a refine or edit of one skips the encoder's lossy round trip. */
  readonly memo: LatentMemo;
}

export async function openModelBundle(dir: string, device: DeviceConfig, log: Log, memoBytes: number): Promise<ModelBundle> {
  const model = loadModelDirectory(dir);
  const { image, vaeDecoder, vaeEncoder } = model.manifest;
  if (image.multiple % vaeDecoder.upscale !== 0) {
    throw new EngineFailure(
      engineError('model-error', `${dir}/model.json: image.multiple (${image.multiple}) must be a multiple of vaeDecoder.upscale (${vaeDecoder.upscale})`),
    );
  }
  if (vaeEncoder && (image.multiple / vaeDecoder.upscale) * vaeEncoder.downscale < 1) {
    throw new EngineFailure(engineError('model-error', `${dir}/model.json: vaeEncoder.downscale must be positive`));
  }
  const [encoder, denoiser, vae] = await Promise.all([
    PromptEncoder.open(model, device, log),
    Denoiser.open(model, device, log),
    Vae.open(model, device, log),
  ]);
  const preview = await fitPreviewMap(vae, model.manifest.latent.channels, vaeDecoder.upscale);
  return { model, encoder, denoiser, vae, preview, provider: denoiser.provider, memo: new LatentMemo(memoBytes) };
}

export async function closeModelBundle(bundle: ModelBundle): Promise<void> {
  await Promise.all([bundle.encoder.dispose(), bundle.denoiser.dispose(), bundle.vae.dispose()]);
}
