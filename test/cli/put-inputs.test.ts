import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDos } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';

/** What `dos put` refuses before uploading anything, and what it does not leave behind. */

function setup() {
  const home = tempDir('dos-inputs-home-');
  const dos = (args: string[], cwd?: string, extra: Record<string, string> = {}) => runDos(args, { DOS_HOME: home, USER_KEY: 'inputs test key', ...extra }, cwd);
  const packs = () => {
    try {
      return readdirSync(join(home, 'store', 'packs')).flatMap((shard) => readdirSync(join(home, 'store', 'packs', shard)));
    } catch {
      return [];
    }
  };
  return { home, dos, packs };
}

describe('dos put inputs', () => {
  it.each([
    ['a backslash', 'a\\\\b.txt'],
    ['a leading drive letter', 'C:x.txt'],
  ])('a name with %s is refused before anything is uploaded, and the next put is not blocked by it', async (_what, name) => {
    const { dos, packs } = setup();
    const src = tempDir();
    writeTree(src, { 'fine.txt': 'fine', 'sub/ok.bin': noise(100_000, 1) });
    writeFileSync(join(src, name), 'x'); // at the archive root, where a drive letter reads as an absolute path
    const put = await dos(['put', src]);
    expect(put.code, put.stderr).toBe(2);
    expect(put.stderr).toMatch(/rename it first/);
    expect(put.stderr).not.toMatch(/unexpected error/);
    expect(packs()).toEqual([]);
    const other = tempDir();
    writeTree(other, { 'a.txt': 'a' });
    const next = await dos(['put', other, '--json']);
    expect(next.code, next.stderr).toBe(0);
  });

  it('a name that is not valid UTF-8 is refused with a clear error', async () => {
    const { dos } = setup();
    const src = tempDir();
    writeTree(src, { 'fine.txt': 'fine' });
    execFileSync('sh', ['-c', `printf x > "$(printf '%s/bad\\377name' '${src}')"`]);
    const put = await dos(['put', src]);
    expect(put.code, put.stderr).toBe(2);
    expect(put.stderr).toMatch(/is not valid UTF-8; rename it first/);
  });

  it('an interrupted put of a relative path resumes from that folder, wherever the resume runs', async () => {
    const { dos } = setup();
    const a = tempDir();
    const b = tempDir();
    writeTree(join(a, 'docs'), { 'w.txt': 'right folder\n', 'big.bin': noise(12 * 1024 * 1024, 2) });
    writeTree(join(b, 'docs'), { 'w.txt': 'WRONG folder\n', 'big.bin': noise(12 * 1024 * 1024, 3) });
    const crashed = await dos(['put', 'docs'], a, { DOS_FAILPOINT: 'pack-stored:1' });
    expect(crashed.signal).toBe('SIGKILL');
    mkdirSync(join(b, 'other'));
    writeFileSync(join(b, 'other', 'o.txt'), 'o');
    expect((await dos(['put', 'other'], b)).code).toBe(0); // resumes "docs" first
    const out = join(tempDir(), 'out');
    expect((await dos(['get', 'docs', out])).code).toBe(0);
    expect(snapshot(out)).toEqual(snapshot(join(a, 'docs')));
  });
});
