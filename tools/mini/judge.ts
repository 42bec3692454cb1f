/**
 * The mini model's pixel judge, the same rules as tools/mini/judge.py (see its docstring), so `npm run eval:mini`
 * and the training-time eval agree: background from the border; the object is the largest connected patch of pixels far
 * from the background (stray decoder pixels in the corners are not the object); its colour is their median, its
 * position their centroid on a 3×3 grid, its shape read from how much of its bounding box and of its convex hull it
 * fills.
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

/** The largest 8-connected component of `mask` (ties: the first met in raster order), as a new mask. */
function largestComponent(mask: Uint8Array, width: number, height: number): Uint8Array {
  const seen = new Uint8Array(width * height);
  let best: number[] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    seen[start] = 1;
    stack.push(start);
    const pixels: number[] = [];
    while (stack.length > 0) {
      const p = stack.pop()!;
      pixels.push(p);
      const y = Math.floor(p / width);
      const x = p - y * width;
      for (let yy = y - 1; yy <= y + 1; yy++) {
        for (let xx = x - 1; xx <= x + 1; xx++) {
          if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
          const q = yy * width + xx;
          if (mask[q] && !seen[q]) {
            seen[q] = 1;
            stack.push(q);
          }
        }
      }
    }
    if (pixels.length > best.length) best = pixels;
  }
  const out = new Uint8Array(width * height);
  for (const p of best) out[p] = 1;
  return out;
}

/** Area of the convex hull of the mask's pixel squares: each row's outer pixels' corners, monotone chain, shoelace. */
function hullArea(mask: Uint8Array, width: number, height: number): number {
  const keys = new Set<number>();
  const points: [number, number][] = [];
  const add = (x: number, y: number): void => {
    const key = y * (width + 1) + x;
    if (keys.has(key)) return;
    keys.add(key);
    points.push([x, y]);
  };
  for (let y = 0; y < height; y++) {
    let first = -1;
    let last = -1;
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      if (first < 0) first = x;
      last = x;
    }
    if (first < 0) continue;
    add(first, y);
    add(first, y + 1);
    add(last + 1, y);
    add(last + 1, y + 1);
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: [number, number], a: [number, number], b: [number, number]): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const half = (ordered: [number, number][]): [number, number][] => {
    const chain: [number, number][] = [];
    for (const p of ordered) {
      while (chain.length >= 2 && cross(chain[chain.length - 2]!, chain[chain.length - 1]!, p) <= 0) chain.pop();
      chain.push(p);
    }
    return chain;
  };
  const hull = [...half(points).slice(0, -1), ...half([...points].reverse()).slice(0, -1)];
  let twice = 0;
  for (let i = 0; i < hull.length; i++) {
    const [x0, y0] = hull[i]!;
    const [x1, y1] = hull[(i + 1) % hull.length]!;
    twice += x0 * y1 - x1 * y0;
  }
  return Math.abs(twice) / 2;
}

/** The shape rule of judge.py's `classify_shape` (see its docstring for why the thresholds sit where they do). */
export function classifyShape(fill: number, solidity: number, centre: number): string {
  if (centre < 0.3 && fill < 0.8) return 'ring';
  if (solidity < 0.85) return 'star';
  if (fill >= 0.86) return 'square';
  if (fill >= 0.7) return 'circle';
  return 'triangle';
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
  const far = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    const i = p * 3;
    const d = Math.sqrt((rgb[i]! - bgRgb[0]!) ** 2 + (rgb[i + 1]! - bgRgb[1]!) ** 2 + (rgb[i + 2]! - bgRgb[2]!) ** 2);
    if (d > spec.threshold) far[p] = 1;
  }
  const mask = largestComponent(far, width, height);
  const object: [number[], number[], number[]] = [[], [], []];
  let n = 0;
  let sumX = 0;
  let sumY = 0;
  let x0 = width;
  let x1 = 0;
  let y0 = height;
  let y1 = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      for (let c = 0; c < 3; c++) object[c]!.push(rgb[(y * width + x) * 3 + c]!);
      n += 1;
      sumX += x;
      sumY += y;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x + 1);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y + 1);
    }
  }
  if (n < Math.max(1, Math.floor(MIN_FRACTION * width * height))) return { background, color: null, position: null, shape: null, pixels: n };
  const color = nearest(spec, object.map((channel) => median(channel)), background);
  const cx = sumX / n + 0.5;
  const cy = sumY / n + 0.5;
  const col = Math.min(2, Math.floor((3 * cx) / width));
  const row = Math.min(2, Math.floor((3 * cy) / height));
  const position = spec.positions[3 * row + col]!;
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
  const shape = classifyShape(fill, n / hullArea(mask, width, height), centre / cells);
  return { background, color, position, shape, pixels: n };
}
