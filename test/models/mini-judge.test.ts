// The mini model's pixel judge (tools/mini/judge.ts, the rules of judge.py) on scenes drawn here with the geometry of
// tools/mini/data.py: it must name every shape, colour, background and position of a clean render, of a softened one,
// and ignore the few off-colour corner pixels the model's decoder leaves.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyShape, judge, type JudgeSpec } from '../../tools/mini/judge.ts';

const heldout = JSON.parse(readFileSync(new URL('../../tools/mini/heldout.json', import.meta.url), 'utf8')) as {
  palette: JudgeSpec['palette'];
  colors: string[];
  positions: string[];
  judge: { border: number; threshold: number };
};
const spec: JudgeSpec = { ...heldout, border: heldout.judge.border, threshold: heldout.judge.threshold };
const SIZE = 256;
const SS = 4;

type Shape = 'circle' | 'square' | 'triangle' | 'star' | 'ring';

/** Is (x, y) inside the polygon (even-odd rule)? */
function inPolygon(points: readonly [number, number][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i]!;
    const [xj, yj] = points[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** data.py's shapes: radius r, centre (cx, cy), all in output pixels. */
function inside(shape: Shape, cx: number, cy: number, r: number, x: number, y: number): boolean {
  const d = Math.hypot(x - cx, y - cy);
  if (shape === 'circle') return d <= r;
  if (shape === 'ring') return d <= 1.05 * r && d > 0.55 * 1.05 * r;
  if (shape === 'square') return Math.abs(x - cx) <= 0.9 * r && Math.abs(y - cy) <= 0.9 * r;
  const polygon: [number, number][] = [];
  if (shape === 'triangle') {
    for (const a of [-90, 30, 150]) polygon.push([cx + 1.25 * r * Math.cos((a * Math.PI) / 180), cy + 1.25 * r * Math.sin((a * Math.PI) / 180)]);
  } else {
    for (let k = 0; k < 10; k++) {
      const rr = k % 2 === 0 ? 1.3 * r : 0.65 * r;
      const a = ((-90 + 36 * k) * Math.PI) / 180;
      polygon.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a)]);
    }
  }
  return inPolygon(polygon, x, y);
}

/** Antialiased render (4× supersampling), optionally box-blurred `soften` times (3×3), with stray corner pixels. */
function render(scene: { shape: Shape; color: string; background: string; cx: number; cy: number; r: number }, soften = 0, corners = false): Uint8Array {
  const bg = spec.palette[scene.background]!;
  const fg = spec.palette[scene.color]!;
  let plane = new Float64Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      if (Math.abs(x - scene.cx) > 1.4 * scene.r + 2 || Math.abs(y - scene.cy) > 1.4 * scene.r + 2) continue;
      let hits = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) if (inside(scene.shape, scene.cx, scene.cy, scene.r, x + (sx + 0.5) / SS, y + (sy + 0.5) / SS)) hits++;
      }
      plane[y * SIZE + x] = hits / (SS * SS);
    }
  }
  for (let pass = 0; pass < soften; pass++) {
    const next = new Float64Array(SIZE * SIZE);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        let sum = 0;
        let count = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || yy >= SIZE || xx < 0 || xx >= SIZE) continue;
            sum += plane[yy * SIZE + xx]!;
            count++;
          }
        }
        next[y * SIZE + x] = sum / count;
      }
    }
    plane = next;
  }
  const rgb = new Uint8Array(SIZE * SIZE * 3);
  for (let p = 0; p < SIZE * SIZE; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(bg[c]! + (fg[c]! - bg[c]!) * plane[p]!);
  if (corners) {
    // what the decoder leaves: a few pixels far from the background in each corner
    for (const [x, y] of [[0, 0], [1, 0], [0, 1], [SIZE - 1, 0], [0, SIZE - 1], [SIZE - 1, SIZE - 1], [SIZE - 2, SIZE - 1]] as const) {
      for (let c = 0; c < 3; c++) rgb[(y * SIZE + x) * 3 + c] = 255 - bg[c]!;
    }
  }
  return rgb;
}

const shapes: Shape[] = ['circle', 'square', 'triangle', 'star', 'ring'];
const scenes = shapes.flatMap((shape, k) =>
  [
    { r: 18, cell: 0 },
    { r: 34, cell: 4 },
    { r: 22, cell: 8 },
  ].map(({ r, cell }, j) => ({
    shape,
    r,
    cx: ((2 * (cell % 3) + 1) / 6) * SIZE,
    cy: ((2 * Math.floor(cell / 3) + 1) / 6) * SIZE,
    position: spec.positions[cell]!,
    color: spec.colors[(k * 3 + j) % spec.colors.length]!,
    background: spec.colors[(k * 3 + j + 5) % spec.colors.length]!,
  })),
);

describe('tools/mini judge', () => {
  it.each(scenes)('reads a $r-px $color $shape at the $position on $background', (scene) => {
    for (const [soften, corners] of [
      [0, false],
      [0, true],
      [2, true],
    ] as const) {
      const seen = judge(spec, render(scene, soften, corners), SIZE, SIZE);
      expect({ soften, corners, shape: seen.shape, color: seen.color, background: seen.background, position: seen.position }).toEqual({
        soften,
        corners,
        shape: scene.shape,
        color: scene.color,
        background: scene.background,
        position: scene.position,
      });
    }
  });

  it('finds no object in a plain image', () => {
    const rgb = new Uint8Array(SIZE * SIZE * 3).fill(128);
    expect(judge(spec, rgb, SIZE, SIZE)).toMatchObject({ background: 'gray', color: null, position: null, shape: null });
  });

  it('calls a blob a circle, not the shape it was asked for', () => {
    expect(classifyShape(0.78, 0.97, 1)).toBe('circle');
    expect(classifyShape(0.55, 0.7, 0)).toBe('ring');
    expect(classifyShape(0.55, 0.7, 1)).toBe('star');
  });
});
