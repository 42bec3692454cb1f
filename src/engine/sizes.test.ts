import { describe, expect, it } from 'vitest';
import { parseAspectRatio, sizeForAspectRatio, ZIMAGE_BUCKETS, type SizeRules } from './sizes.ts';

const zimage: SizeRules = { nativeWidth: 1024, nativeHeight: 1024, multiple: 16, minSide: 256, maxSide: 2048 };
const mini: SizeRules = { nativeWidth: 256, nativeHeight: 256, multiple: 64, minSide: 128, maxSide: 512 };
const ratio = (text: string): number => {
  const parsed = parseAspectRatio(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
};

describe('aspect ratios', () => {
  it('land on Z-Image’s own buckets at its native area', () => {
    for (const [w, h] of ZIMAGE_BUCKETS) expect(sizeForAspectRatio(w / h, zimage)).toEqual({ width: w, height: h });
    expect(sizeForAspectRatio(ratio('16:9'), zimage)).toEqual({ width: 1280, height: 720 });
    expect(sizeForAspectRatio(ratio('4:3'), zimage)).toEqual({ width: 1152, height: 864 });
    expect(sizeForAspectRatio(ratio('3:4'), zimage)).toEqual({ width: 864, height: 1152 });
    expect(sizeForAspectRatio(ratio('21:9'), zimage)).toEqual({ width: 1344, height: 576 });
    expect(sizeForAspectRatio(ratio('1:1'), zimage)).toEqual({ width: 1024, height: 1024 });
  });

  it('scale to a small model’s native area and multiple', () => {
    expect(sizeForAspectRatio(1, mini)).toEqual({ width: 256, height: 256 });
    expect(sizeForAspectRatio(ratio('16:9'), mini)).toEqual({ width: 320, height: 192 });
    expect(sizeForAspectRatio(ratio('9:16'), mini)).toEqual({ width: 192, height: 320 });
  });

  it('shrink as a whole, keeping the ratio, under the operator’s largest side', () => {
    expect(sizeForAspectRatio(ratio('16:9'), zimage, 1024)).toEqual({ width: 1024, height: 576 });
    expect(sizeForAspectRatio(ratio('1:1'), zimage, 1000)).toEqual({ width: 992, height: 992 });
    expect(sizeForAspectRatio(ratio('1:1'), zimage, 4096)).toEqual({ width: 1024, height: 1024 });
  });

  it('read ratios written several ways and refuse the rest', () => {
    expect(ratio('16:9')).toBeCloseTo(16 / 9);
    expect(ratio('16x9')).toBeCloseTo(16 / 9);
    expect(ratio('１６：９')).toBeCloseTo(16 / 9);
    expect(ratio('1.5')).toBe(1.5);
    for (const bad of ['abc', '0:1', '5:1', '1:5', '']) expect(parseAspectRatio(bad).ok).toBe(false);
  });
});
