import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

/** A front-end file, read once at start-up. */
export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The front end as a fixed table of URL path → file, built from the public folder's own listing at start-up. A
 * request is served only when its path is a key of this table, so no path from a browser ever reaches the file
 * system: there is nothing to traverse. Only plain files with a known type are listed; `/` is index.html.
 */
export function loadStaticFiles(dir: string): ReadonlyMap<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const type = TYPES[extname(entry.name)];
    if (!entry.isFile() || type === undefined || !/^[a-z0-9][a-z0-9.-]*$/.test(entry.name)) continue;
    files.set(`/${entry.name}`, { body: readFileSync(join(dir, entry.name)), type });
  }
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}
