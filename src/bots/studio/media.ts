import { LRUCache } from 'lru-cache';
import { randomBytes } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { composeGrid, withheldTile } from '../../engine/image/grid.ts';
import type { JobHistory } from '../../engine/history.ts';
import { JOB_ID } from './protocol.ts';

/** Grids kept in memory (the engine does not store them; they are recomposed from the candidates when evicted). */
const GRID_CACHE_SIZE = 32;
/** Board contact sheets kept for the panels that asked for them (a panel asks again when it opens). */
const BOARD_CACHE_SIZE = 16;
const BOARD_ID = /^[a-f0-9]{32}$/;

export interface MediaSource {
  readonly history: JobHistory;
  /** DATA_DIR/outputs: no file outside it is ever served. */
  readonly outputsDir: string;
  /** Jobs the studio no longer shows (deleted by their owner). */
  readonly hidden: (jobId: string) => boolean;
}

/** `/media/<jobId>/grid.png` or `/media/<jobId>/<index>.png`, else undefined. */
export function parseMediaPath(pathname: string): { jobId: string; what: 'grid' | number } | undefined {
  const match = /^\/media\/([^/]+)\/(grid|[0-9])\.png$/.exec(pathname);
  if (!match || !JOB_ID.test(match[1]!)) return undefined;
  return { jobId: match[1]!, what: match[2] === 'grid' ? 'grid' : Number(match[2]) };
}

/** `/board/<id>.png` (a contact sheet a board panel was sent), else undefined. */
export function parseBoardPath(pathname: string): string | undefined {
  const match = /^\/board\/([^/]+)\.png$/.exec(pathname);
  return match && BOARD_ID.test(match[1]!) ? match[1] : undefined;
}

/**
 * Result images for the page. Only what the journal names is served: a studio job's own candidate files, its grid,
 * or the placeholder tile of a withheld candidate. A path from the journal is still checked to lie inside
 * DATA_DIR/outputs (after resolving links), so a damaged journal cannot turn this into a file server.
 */
export class StudioMedia {
  readonly #source: MediaSource;
  readonly #grids = new LRUCache<string, Buffer>({ max: GRID_CACHE_SIZE });
  readonly #tiles = new Map<string, Promise<Buffer>>();
  readonly #boards = new LRUCache<string, Buffer>({ max: BOARD_CACHE_SIZE });

  constructor(source: MediaSource) {
    this.#source = source;
  }

  /** A live result's grid, so the page need not wait for a recomposition. */
  rememberGrid(jobId: string, png: Buffer): void {
    this.#grids.set(jobId, png);
  }

  /**
   * A board's contact sheet, kept for a while under a random id (it belongs to no job): its URL, served as results
   * are rather than inlined into the panel's message.
   */
  rememberBoard(png: Buffer): string {
    const id = randomBytes(16).toString('hex');
    this.#boards.set(id, png);
    return `/board/${id}.png`;
  }

  board(id: string): Buffer | undefined {
    return this.#boards.get(id);
  }

  async read(jobId: string, what: 'grid' | number): Promise<Buffer | undefined> {
    const record = this.#source.history.get(jobId);
    if (!record || record.owner.platform !== 'studio' || !record.result || this.#source.hidden(jobId)) return undefined;
    const { images, meta } = record.result;
    if (what === 'grid') {
      if (images.length < 2) return undefined;
      const cached = this.#grids.get(jobId);
      if (cached) return cached;
      const sorted = [...images].sort((a, b) => a.index - b.index);
      const files = await Promise.all(sorted.map((i) => (i.withheld ? null : this.#file(i.path))));
      if (files.some((file) => file === undefined)) return undefined;
      const grid = await composeGrid(files.map((png) => ({ png: png ?? null })), meta.width, meta.height);
      this.rememberGrid(jobId, grid);
      return grid;
    }
    const image = images.find((i) => i.index === what);
    if (!image) return undefined;
    if (image.withheld) return this.#placeholder(meta.width, meta.height);
    return this.#file(image.path);
  }

  async #file(path: string | null): Promise<Buffer | undefined> {
    if (path === null) return undefined;
    try {
      const root = await realpath(resolve(this.#source.outputsDir));
      const real = await realpath(resolve(path));
      const inside = relative(root, real);
      if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return undefined;
      return await readFile(real);
    } catch {
      return undefined;
    }
  }

  #placeholder(width: number, height: number): Promise<Buffer> {
    const key = `${width}x${height}`;
    let tile = this.#tiles.get(key);
    if (!tile) {
      tile = withheldTile(width, height);
      this.#tiles.set(key, tile);
    }
    return tile;
  }
}
