import sharp from 'sharp';

export interface GridTile {
  /** Encoded image (PNG), or null for a withheld candidate. */
  readonly png: Buffer | null;
}

/**
 * A grey tile with a struck-through circle: the place of a candidate the moderation withheld. No text, so it needs
 * no font and reads the same in every language; the message beside the grid says why.
 */
export async function withheldTile(width: number, height: number): Promise<Buffer> {
  const r = Math.round(Math.min(width, height) * 0.22);
  const stroke = Math.max(3, Math.round(r * 0.18));
  const cx = width / 2;
  const cy = height / 2;
  const d = r / Math.SQRT2;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs><pattern id="p" width="16" height="16" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
    <rect width="16" height="16" fill="#3a3d42"/><rect width="8" height="16" fill="#34373b"/></pattern></defs>
  <rect width="100%" height="100%" fill="url(#p)"/>
  <circle cx="${cx}" cy="${cy}" r="${r}" fill="none" stroke="#c9ccd1" stroke-width="${stroke}"/>
  <line x1="${cx - d}" y1="${cy + d}" x2="${cx + d}" y2="${cy - d}" stroke="#c9ccd1" stroke-width="${stroke}"/>
</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Lays out 1–4 tiles as 1×1, 2×1, or 2×2 with a thin gutter; withheld tiles get the placeholder. */
export async function composeGrid(tiles: readonly GridTile[], width: number, height: number): Promise<Buffer> {
  const gutter = Math.max(2, Math.round(Math.min(width, height) / 128));
  const columns = tiles.length === 1 ? 1 : 2;
  const rows = Math.ceil(tiles.length / columns);
  const placeholder = tiles.some((t) => t.png === null) ? await withheldTile(width, height) : null;
  return sharp({
    create: {
      width: columns * width + (columns - 1) * gutter,
      height: rows * height + (rows - 1) * gutter,
      channels: 3,
      background: { r: 24, g: 25, b: 28 },
    },
  })
    .composite(
      tiles.map((tile, i) => ({
        input: tile.png ?? placeholder!,
        left: (i % columns) * (width + gutter),
        top: Math.floor(i / columns) * (height + gutter),
      })),
    )
    .png()
    .toBuffer();
}
