/**
 * Manifest parsing and the decision procedure of legacy-format.md §1.5, as pure functions.
 */
import { describe, expect, it } from 'vitest';
import { isDosError } from '../../src/core/errors.js';
import { parseSeedManifest, seedOutputDir } from '../../src/legacy/index.js';

const parse = (manifest: unknown) => parseSeedManifest(JSON.stringify(manifest), '7-manifest_232332_271126.json');
const files = { a: { original_name: 'a.txt', chunks: [] } };

describe('decode mode: chosen only from encrypted and encryption_scope', () => {
  it.each([
    ['3.1: encrypted, scope "chunk"', { version: '3.1', encrypted: true, encryption_scope: 'chunk' }, 'per-chunk'],
    ['3.0: encrypted, scope missing → "file"', { version: '3.0', encrypted: true }, 'file-scope'],
    ['encrypted, scope null → not "chunk"', { encrypted: true, encryption_scope: null }, 'file-scope'],
    ['2.x: encrypted missing', { version: '2.1' }, 'plain'],
    ['encrypted false', { encrypted: false }, 'plain'],
    ['version is ignored: "3.1" without encryption is plain', { version: '3.1' }, 'plain'],
    ['version is ignored: "2.0" with encryption is file scope', { version: '2.0', encrypted: true }, 'file-scope'],
    ['unencrypted, explicitly gzip', { compression: 'gzip-9' }, 'gzip'],
    ['unencrypted, compression null', { compression: null }, 'plain'],
    ['encrypted: compression key is irrelevant', { encrypted: true, encryption_scope: 'chunk', compression: 'none' }, 'per-chunk'],
  ])('%s', (_label, head, mode) => {
    expect(parse({ ...head, files }).mode).toBe(mode);
  });
});

describe('entries', () => {
  it('sorts object chunk entries stably by index (missing index = 0) and keeps string lists in order', () => {
    const m = parse({
      encrypted: true,
      files: {
        x: {
          original_name: 'x',
          original_size: 3,
          chunks: [
            { name: 'c2', index: 2, size: 50 },
            { name: 'nx', size: 50 },
            { name: 'c1', index: 1 },
            { name: 'c0', index: 0 },
          ],
        },
        y: { original_name: 'y', total_size: 2, chunks: ['s1', 's0'] },
      },
    });
    expect(m.files[0]!.chunks.map((c) => c.name)).toEqual(['nx', 'c0', 'c1', 'c2']);
    expect(m.files[0]!.chunks[0]!.size).toBe(50);
    expect(m.files[0]).toMatchObject({ expectedSize: 3, sizeKey: 'original_size' });
    expect(m.files[1]!.chunks.map((c) => c.name)).toEqual(['s1', 's0']);
    expect(m.files[1]).toMatchObject({ expectedSize: 2, sizeKey: 'total_size' });
  });

  it('keeps the manifest order of files, treats missing chunks as none, and skips .DS_Store', () => {
    const m = parse({ files: { b: { original_name: 'b' }, ds: { original_name: '.DS_Store', chunks: ['x'] }, a: { original_name: 'a', chunks: null } } });
    expect(m.files.map((f) => f.originalName)).toEqual(['b', 'a']);
    expect(m.files.every((f) => f.chunks.length === 0)).toBe(true);
    expect(m.skipped).toEqual([{ fileId: 'ds', originalName: '.DS_Store', reason: expect.any(String) }]);
  });

  it('reads the non-ASCII escapes the seed wrote and accepts a BOM', () => {
    const m = parseSeedManifest('\uFEFF{"source_folder": "Caf\\u00e9", "files": {"a": {"original_name": "unicod\\u00e9 \\ud83d\\ude00.txt"}}}', 'manifest.json');
    expect(m.sourceFolder).toBe('Café');
    expect(m.files[0]!.originalName).toBe('unicodé 😀.txt');
    expect(m.version).toBeNull();
  });

  it('never throws a TypeError on garbage', () => {
    for (const text of ['', 'null', '42', '"x"', '[1]', '{"files": null}', '{"files": {"a": null}}', '{"files": {"a": {"original_name": "a", "chunks": [null]}}}', '{"files": {"a": {"original_name": "a", "chunks": [{"name": 5}]}}}']) {
      let error: unknown;
      try {
        parseSeedManifest(text, 'm.json');
      } catch (err) {
        error = err;
      }
      expect(isDosError(error), text).toBe(true);
    }
  });
});

describe('output folder (legacy-format.md §2.4)', () => {
  const manifest = (sourceFolder?: string) => parse({ source_folder: sourceFolder, files });
  it('is OUT/<source_folder>, which may be nested', () => {
    expect(seedOutputDir(manifest('Holiday 2025'), '/out', 1)).toBe('/out/Holiday 2025');
    expect(seedOutputDir(manifest('a/b'), '/out', 2)).toBe('/out/a/b');
  });
  it('else OUT/restored_<manifest name> when the folder holds several manifests, else OUT', () => {
    expect(seedOutputDir(manifest(''), '/out', 2)).toBe('/out/restored_7-manifest_232332_271126');
    expect(seedOutputDir(manifest(), '/out', 1)).toBe('/out');
  });
});
