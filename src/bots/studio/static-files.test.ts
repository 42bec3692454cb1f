import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/fakes.ts';
import { loadStaticFiles } from './static-files.ts';

const PUBLIC = fileURLToPath(new URL('./public/', import.meta.url));

describe('static files', () => {
  it('lists only plain files of known types, by their own names', () => {
    const dir = tempDir('zimage-public-');
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    writeFileSync(join(dir, 'app.js'), 'export {}');
    writeFileSync(join(dir, 'notes.ts'), 'secret');
    writeFileSync(join(dir, '.env'), 'TOKEN=x');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'x.js'), 'nested');
    symlinkSync('/etc/passwd', join(dir, 'passwd.js'));
    const files = loadStaticFiles(dir);
    expect([...files.keys()].sort()).toEqual(['/', '/app.js', '/index.html']);
    expect(files.get('/')!.type).toBe('text/html; charset=utf-8');
    expect(files.get('/app.js')!.type).toBe('text/javascript; charset=utf-8');
  });

  it("serves the studio's front end", () => {
    const files = loadStaticFiles(PUBLIC);
    for (const path of ['/', '/index.html', '/app.js', '/feed.js', '/i18n.js', '/connection.js', '/mask-painter.js', '/studio.css', '/favicon.svg']) {
      expect(files.has(path), path).toBe(true);
    }
  });

  it('the front end works under the CSP and never turns text into HTML', () => {
    const html = readFileSync(join(PUBLIC, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/https?:\/\//);
    for (const name of readdirSync(PUBLIC).filter((n) => n.endsWith('.js'))) {
      const source = readFileSync(join(PUBLIC, name), 'utf8');
      expect(source, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
      expect(source, name).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    }
  });
});
