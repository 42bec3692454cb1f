import { engineError, fail, ok, type Result } from './errors.ts';

/** Z-Image's resolution buckets at its native 1024² area (ComfyUI-ZImageLatent, the official Space). */
export const ZIMAGE_BUCKETS: readonly (readonly [number, number])[] = [
  [1024, 1024],
  [1152, 896],
  [896, 1152],
  [1152, 864],
  [864, 1152],
  [1248, 832],
  [832, 1248],
  [1280, 720],
  [720, 1280],
  [1344, 576],
  [576, 1344],
];

const BUCKET_AREA = 1024 * 1024;

export interface SizeRules {
  readonly nativeWidth: number;
  readonly nativeHeight: number;
  readonly multiple: number;
  readonly minSide: number;
  readonly maxSide: number;
}

/** Parses `16:9`, `16x9`, `16／9`, `1.5` into width/height. */
export function parseAspectRatio(text: string): Result<number> {
  const normalized = text.normalize('NFKC').trim();
  const match = /^(\d+(?:\.\d+)?)\s*(?:[:x×/]\s*(\d+(?:\.\d+)?))?$/i.exec(normalized);
  const a = match ? Number(match[1]) : Number.NaN;
  const b = match?.[2] === undefined ? 1 : Number(match[2]);
  const ratio = a / b;
  if (!match || !Number.isFinite(ratio) || ratio <= 0) {
    return fail(engineError('bad-size', `"${text}" is not an aspect ratio; write it like 16:9`, { value: text }));
  }
  if (ratio > 4 || ratio < 1 / 4) {
    return fail(engineError('out-of-range', `Aspect ratio ${text} is too extreme; use one between 1:4 and 4:1`, { setting: 'ar', value: text, min: '1:4', max: '4:1' }));
  }
  return ok(ratio);
}

const roundTo = (value: number, multiple: number): number => Math.max(multiple, Math.round(value / multiple) * multiple);

/**
 * The bucket closest to the wanted ratio (compared in log space, so 2:1 and 1:2 are equally far from 1:1), scaled to
 * the model's native area and rounded to its multiple; scaled down as a whole (keeping its ratio) when a side would
 * pass the model's or the operator's largest side.
 */
export function sizeForAspectRatio(ratio: number, rules: SizeRules, maxSide = Infinity): { width: number; height: number } {
  let best = ZIMAGE_BUCKETS[0]!;
  for (const bucket of ZIMAGE_BUCKETS) {
    if (Math.abs(Math.log(bucket[0] / bucket[1] / ratio)) < Math.abs(Math.log(best[0] / best[1] / ratio))) best = bucket;
  }
  const upper = Math.min(rules.maxSide, Math.max(rules.multiple, Math.floor(maxSide / rules.multiple) * rules.multiple));
  // The buckets are Z-Image's sizes at its 1024² native area: a model with another native area scales them alike.
  const native = Math.sqrt((rules.nativeWidth * rules.nativeHeight) / BUCKET_AREA);
  const scale = Math.min(native, upper / Math.max(best[0], best[1]));
  const side = (v: number): number => Math.min(upper, Math.max(rules.minSide, roundTo(v * scale, rules.multiple)));
  return { width: side(best[0]), height: side(best[1]) };
}

/** Checks an explicit width × height against the model's rules. */
export function checkSize(width: number, height: number, rules: SizeRules, maxSide: number): Result<{ width: number; height: number }> {
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(value) || value % rules.multiple !== 0) {
      return fail(
        engineError('bad-size', `${name} ${value} is not a multiple of ${rules.multiple}, which this model needs`, {
          setting: name,
          value,
          multiple: rules.multiple,
        }),
      );
    }
    const max = Math.min(rules.maxSide, maxSide);
    if (value < rules.minSide || value > max) {
      return fail(
        engineError('out-of-range', `${name} ${value} is outside ${rules.minSide}–${max}`, {
          setting: name,
          value,
          min: rules.minSide,
          max,
        }),
      );
    }
  }
  return ok({ width, height });
}
