import sharp from 'sharp';

/** One tile of a contact sheet: a stored candidate (null or unreadable: a plain tile) and its rank. */
export interface SheetTile {
  readonly path: string | null;
  readonly rank: number;
}

const CELL = 256;
const GAP = 8;
const COLUMNS = 4;
const BACKGROUND = { r: 24, g: 24, b: 27, alpha: 1 };
const PLACEHOLDER = { r: 63, g: 63, b: 70, alpha: 1 };

/** 3×5 pixel digits: a rank badge needs no font, so the sheet looks the same on a machine without any. */
const DIGITS = ['111101101101111', '010110010010111', '111001111100111', '111001111001111', '101101111001001', '111100111001111', '111100111101111', '111001001001001', '111101111101111', '111101111001111'];

/** The rank as an SVG badge: a dark rounded square with the number drawn in white cells. */
function badge(rank: number): Buffer {
  const digits = String(rank).split('').map(Number);
  const pixel = 6;
  const width = digits.length * 4 * pixel - pixel + 2 * pixel * 2;
  const height = 5 * pixel + 2 * pixel * 2;
  const cells = digits.flatMap((digit, d) =>
    [...DIGITS[digit]!].flatMap((on, i) =>
      on === '1' ? [`<rect x="${2 * pixel + d * 4 * pixel + (i % 3) * pixel}" y="${2 * pixel + Math.floor(i / 3) * pixel}" width="${pixel}" height="${pixel}" fill="#fff"/>`] : [],
    ),
  );
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height}" rx="${pixel}" fill="#000" fill-opacity="0.72"/>${cells.join('')}</svg>`);
}

async function tile(entry: SheetTile): Promise<Buffer> {
  const plain = sharp({ create: { width: CELL, height: CELL, channels: 4, background: PLACEHOLDER } });
  let base = plain;
  if (entry.path) {
    try {
      // Letterboxed, so a 16:9 candidate keeps its shape beside a square one.
      base = sharp(await sharp(entry.path).resize(CELL, CELL, { fit: 'contain', background: BACKGROUND }).png().toBuffer());
    } catch {
      // A file removed or unreadable since: the tile stays plain, the rest of the sheet is still worth showing.
      base = plain;
    }
  }
  return base.composite([{ input: badge(entry.rank), top: GAP, left: GAP }]).png().toBuffer();
}

/** Candidates side by side, up to four per row, each with its rank in the corner (sharp, PNG). */
export async function contactSheet(entries: readonly SheetTile[]): Promise<Buffer> {
  const columns = Math.min(COLUMNS, entries.length);
  const rows = Math.ceil(entries.length / COLUMNS);
  const tiles = await Promise.all(entries.map(tile));
  return sharp({ create: { width: columns * CELL + (columns + 1) * GAP, height: rows * CELL + (rows + 1) * GAP, channels: 4, background: BACKGROUND } })
    .composite(tiles.map((input, i) => ({ input, left: GAP + (i % COLUMNS) * (CELL + GAP), top: GAP + Math.floor(i / COLUMNS) * (CELL + GAP) })))
    .png()
    .toBuffer();
}
