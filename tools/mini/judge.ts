/**
 * The mini model's pixel judge, the same rules as tools/mini/judge.py (see its docstring), so `npm run eval:mini`
 * and the training-time eval agree: background from the border, object colour from the pixels far from the
 * background, position from the object's centroid on a 3×3 grid, and an informational shape guess.
 */
export interface JudgeSpec {
  readonly palette: Readonly<Record<string, readonly [number, number, number]>>;
  readonly colors: readonly string[];
  readonly positions: readonly string[];
  readonly border: number;
  readonly threshold: number;
}

export interface Judged {
  readonly background: string;
  readonly color: string | null;
  readonly position: string | null;
  readonly shape: string | null;
  readonly pixels: number;
}

const MIN_FRACTION = 0.001;

/** numpy's median: the mean of the two middle values for an even count. */
function median(values: number[]): number {
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

function nearest(spec: JudgeSpec, rgb: readonly number[], exclude?: string): string {
  let best = '';
  let bestDistance = Infinity;
  for (const name of spec.colors) {
    if (name === exclude) continue;
    const p = spec.palette[name]!;
    const d = (p[0] - rgb[0]!) ** 2 + (p[1] - rgb[1]!) ** 2 + (p[2] - rgb[2]!) ** 2;
    if (d < bestDistance) {
      bestDistance = d;
      best = name;
    }
  }
  return best;
}

export function judge(spec: JudgeSpec, rgb: Uint8Array, width: number, height: number): Judged {
  const b = spec.border;
  const ring: [number[], number[], number[]] = [[], [], []];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y >= b && y < height - b && x >= b && x < width - b) continue;
      for (let c = 0; c < 3; c++) ring[c]!.push(rgb[(y * width + x) * 3 + c]!);
    }
  }
  const bgRgb = ring.map((channel) => median(channel));
  const background = nearest(spec, bgRgb);
  const object: [number[], number[], number[]] = [[], [], []];
  const xs: number[] = [];
  const ys: number[] = [];
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const d = Math.sqrt((rgb[i]! - bgRgb[0]!) ** 2 + (rgb[i + 1]! - bgRgb[1]!) ** 2 + (rgb[i + 2]! - bgRgb[2]!) ** 2);
      if (d <= spec.threshold) continue;
      mask[y * width + x] = 1;
      for (let c = 0; c < 3; c++) object[c]!.push(rgb[i + c]!);
      xs.push(x);
      ys.push(y);
    }
  }
  const n = xs.length;
  if (n < Math.max(1, Math.floor(MIN_FRACTION * width * height))) return { background, color: null, position: null, shape: null, pixels: n };
  const color = nearest(spec, object.map((channel) => median(channel)), background);
  const cx = xs.reduce((s, v) => s + v, 0) / n + 0.5;
  const cy = ys.reduce((s, v) => s + v, 0) / n + 0.5;
  const col = Math.min(2, Math.floor((3 * cx) / width));
  const row = Math.min(2, Math.floor((3 * cy) / height));
  const position = spec.positions[3 * row + col]!;
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs) + 1;
  const y0 = Math.min(...ys);
  const y1 = Math.max(...ys) + 1;
  const fill = n / ((y1 - y0) * (x1 - x0));
  const my = (y0 + y1) >> 1;
  const mx = (x0 + x1) >> 1;
  let centre = 0;
  let cells = 0;
  for (let y = Math.max(0, my - 2); y < Math.min(height, my + 3); y++) {
    for (let x = Math.max(0, mx - 2); x < Math.min(width, mx + 3); x++) {
      centre += mask[y * width + x]!;
      cells += 1;
    }
  }
  const hole = centre / cells < 0.3 && fill < 0.75;
  const shape = hole ? 'ring' : fill >= 0.88 ? 'square' : fill >= 0.655 ? 'circle' : fill >= 0.465 ? 'triangle' : 'star';
  return { background, color, position, shape, pixels: n };
}
