import madge from 'madge';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/fakes.ts';

/**
 * The layering rules of docs/architecture.md, checked on the import graph (madge reads the sources, type-only
 * imports included) rather than by eye.
 */
const SRC = join(ROOT, 'src');
const graph = await madge(SRC, { fileExtensions: ['ts'], tsConfig: join(ROOT, 'tsconfig.json'), excludeRegExp: [/\.test\.ts$/] });
const imports: Record<string, string[]> = graph.obj();
const files = Object.keys(imports);

/** Every package a file imports by name (madge lists only the project's own files). */
function packagesOf(file: string): string[] {
  const source = readFileSync(join(SRC, file), 'utf8');
  return [...source.matchAll(/^(?:import|export)[^'"]*from\s+'([^'.][^']*)'/gm)].map((m) => m[1]!);
}

describe('architecture', () => {
  it('has no circular imports in src/', () => {
    expect(graph.circular()).toEqual([]);
  });

  it('keeps the journal private to the engine', () => {
    const readers = files.filter((file) => !file.startsWith('engine/') && imports[file]!.some((dep) => dep.startsWith('engine/journal/')));
    expect(readers).toEqual([]);
  });

  it('keeps platforms out of the core, the engine and moderation', () => {
    const platformFree = files.filter((file) => /^(engine|moderation|bots\/core)\//.test(file));
    expect(platformFree.length).toBeGreaterThan(20);
    const offenders = platformFree.flatMap((file) => packagesOf(file).filter((pkg) => /^(discord\.js|@slack\/|ws$)/.test(pkg)).map((pkg) => `${file} → ${pkg}`));
    expect(offenders).toEqual([]);
    const upward = platformFree.flatMap((file) => imports[file]!.filter((dep) => /^bots\/(discord|slack|studio)\//.test(dep)).map((dep) => `${file} → ${dep}`));
    expect(upward).toEqual([]);
    const engineToBots = files.filter((file) => /^(engine|moderation)\//.test(file)).flatMap((file) => imports[file]!.filter((dep) => dep.startsWith('bots/')).map((dep) => `${file} → ${dep}`));
    expect(engineToBots).toEqual([]);
  });

  it('keeps each platform in its own adapter', () => {
    const crossing = files
      .filter((file) => /^bots\/(discord|slack|studio)\//.test(file))
      .flatMap((file) => {
        const own = file.split('/')[1]!;
        return imports[file]!.filter((dep) => /^bots\/(discord|slack|studio)\//.test(dep) && dep.split('/')[1] !== own).map((dep) => `${file} → ${dep}`);
      });
    expect(crossing).toEqual([]);
  });
});
