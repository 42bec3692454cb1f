import sharp from 'sharp';
import { normalizeInputImage, type InputLimits } from '../engine/image/input.ts';
import type { InputCheck } from '../moderation/input-check.ts';
import { fail, ok, type Result } from '../result.ts';
import type { AssistantError } from './errors.ts';

/**
 * The image a model is shown: checked exactly as an edit's input is (size and pixel caps, content sniffing, a full
 * decode, EXIF orientation, alpha flattened, sRGB, PNG; then the NSFW classifier), then shrunk to fit `maxSide`, as a
 * PNG data: URL. Nothing a user uploads reaches the model as they sent it.
 */
export async function imageForModel(
  bytes: Uint8Array,
  limits: InputLimits,
  maxSide: number,
  inputCheck: InputCheck | undefined,
): Promise<Result<string, AssistantError>> {
  const normalized = await normalizeInputImage(bytes, limits, 'image');
  if (!normalized.ok) return normalized;
  if (inputCheck) {
    const { data, info } = await sharp(normalized.value.png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const refusal = await inputCheck({ width: info.width, height: info.height, data });
    if (refusal) return fail(refusal);
  }
  const { png, width, height } = normalized.value;
  const shown = width <= maxSide && height <= maxSide ? png : await sharp(png).resize({ width: maxSide, height: maxSide, fit: 'inside' }).png({ compressionLevel: 3 }).toBuffer();
  return ok(`data:image/png;base64,${shown.toString('base64')}`);
}
