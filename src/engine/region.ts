import { engineError, fail, ok, type Result } from './errors.ts';

/** A rectangle in fractions of the image (0–1), feathered into a mask by the pipeline. */
export interface Region {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

const NAMED: Readonly<Record<string, Region>> = {
  left: { x: 0, y: 0, w: 0.5, h: 1 },
  right: { x: 0.5, y: 0, w: 0.5, h: 1 },
  top: { x: 0, y: 0, w: 1, h: 0.5 },
  bottom: { x: 0, y: 0.5, w: 1, h: 0.5 },
  center: { x: 0.25, y: 0.25, w: 0.5, h: 0.5 },
};

const ALIASES: Readonly<Record<string, string>> = {
  centre: 'center',
  middle: 'center',
  左: 'left',
  左边: 'left',
  左侧: 'left',
  右: 'right',
  右边: 'right',
  右侧: 'right',
  上: 'top',
  上面: 'top',
  上方: 'top',
  下: 'bottom',
  下面: 'bottom',
  下方: 'bottom',
  中间: 'center',
  中央: 'center',
  中心: 'center',
};

export const REGION_NAMES = Object.keys(NAMED);

/** `left`, `右边`, or `x,y,w,h` in percent of the image (`10,20,50,40`). */
export function parseRegion(text: string): Result<Region> {
  const normalized = text.normalize('NFKC').trim().toLowerCase();
  const named = NAMED[ALIASES[normalized] ?? normalized];
  if (named) return ok(named);
  const parts = normalized.split(/\s*[,，]\s*|\s+/u).map((p) => p.replace(/%$/, ''));
  if (parts.length === 4 && parts.every((p) => /^\d+(\.\d+)?$/.test(p))) {
    const [x, y, w, h] = parts.map(Number) as [number, number, number, number];
    if (w > 0 && h > 0 && x + w <= 100 + 1e-9 && y + h <= 100 + 1e-9) return ok({ x: x / 100, y: y / 100, w: w / 100, h: h / 100 });
    return fail(
      engineError('unknown-region', `Region ${text} does not fit inside the image; x+w and y+h must be at most 100 (percent)`, {
        value: text,
      }),
    );
  }
  return fail(
    engineError('unknown-region', `Unknown region "${text}"; use ${REGION_NAMES.join(', ')} or x,y,w,h in percent`, {
      value: text,
      allowed: REGION_NAMES.join(', '),
    }),
  );
}
