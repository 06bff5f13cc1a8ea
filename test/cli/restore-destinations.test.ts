import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOS_BIN, runDos } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { snapshot, writeTree } from '../helpers/trees.js';

/** Where restored files land, when that place is odd: links, files in the way, long names, the set's own folder. */

beforeAll(() => {
  if (!existsSync(DOS_BIN)) throw new Error(`${DOS_BIN} is missing: run "npm run build" first (npm test does)`);
});

function setup() {
  const home = tempDir('dos-dest-home-');
  const cwd = tempDir('dos-dest-cwd-');
  const outside = tempDir('dos-dest-outside-');
  writeFileSync(join(outside, 'readme.md'), 'not yours to overwrite\n');
  const dos = (args: string[]) => runDos(args, { DOS_HOME: home, USER_KEY: 'destination tests' }, cwd);
  return { cwd, outside, dos };
}

describe('restore destinations', () => {
  it('get without DEST refuses a symlink where the folder named after the archive would go', async () => {
    const { cwd, outside, dos } = setup();
    const src = join(tempDir(), 'docs');
    writeTree(src, { 'readme.md': '# mine\n' });
    expect((await dos(['put', src])).code).toBe(0);
    symlinkSync(outside, join(cwd, 'docs'));
    for (const args of [['get', 'docs'], ['get', 'docs', '--force']]) {
      const got = await dos(args);
      expect(got.code, got.stderr).toBe(8);
      expect(got.stderr).toMatch(/docs is not a plain folder; refusing to write through it/);
    }
    expect(readFileSync(join(outside, 'readme.md'), 'utf8')).toBe('not yours to overwrite\n');
    // A DEST the user names may be a link: that is where they asked for it.
    expect((await dos(['get', 'docs', join(cwd, 'docs'), '--force'])).code).toBe(0);
  });

  it('a DEST that is a file is refused with a clear error, not a crash', async () => {
    const { cwd, dos } = setup();
    const src = join(tempDir(), 'docs');
    writeTree(src, { 'readme.md': '# mine\n', 'sub/x.txt': 'x' });
    expect((await dos(['put', src])).code).toBe(0);
    writeFileSync(join(cwd, 'afile'), 'keep');
    for (const args of [['get', 'docs', 'afile'], ['get', 'docs/sub', 'afile/inside']]) {
      const got = await dos(args);
      expect(got.code, got.stderr).toBe(4);
      expect(got.stderr).toMatch(/afile is in the way( of .*afile\/inside)?: a file, not a folder/);
      expect(got.stderr).not.toMatch(/unexpected error/);
    }
    expect(readFileSync(join(cwd, 'afile'), 'utf8')).toBe('keep');
  });

  it('restores a file whose name is as long as names can be (255 bytes)', async () => {
    const { cwd, dos } = setup();
    const src = join(tempDir(), 'long');
    const name = `${'é'.repeat(120)}${'n'.repeat(11)}.txt`; // 240 + 11 + 4 = 255 bytes
    writeTree(src, { [name]: 'long name\n' });
    expect((await dos(['put', src])).code).toBe(0);
    const got = await dos(['get', 'long', 'out']);
    expect(got.code, got.stderr).toBe(0);
    expect(readdirSync(join(cwd, 'out'))).toEqual([name]);
  });

  it('restores names that differ only by case or normalisation as distinct files where the file system tells them apart', async () => {
    const { cwd, dos } = setup();
    const src = join(tempDir(), 'names');
    writeTree(src, { 'Report.txt': 'upper\n', 'report.txt': 'lower\n', 'caf\u00e9.txt': 'nfc\n', 'cafe\u0301.txt': 'nfd\n' });
    expect((await dos(['put', src])).code).toBe(0);
    const got = await dos(['get', 'names', 'out', '--json']);
    expect(got.code, got.stderr).toBe(0);
    expect(snapshot(join(cwd, 'out'))).toEqual(snapshot(src));
  });

  it('a re-run leaves restored symlinks alone; --force replaces a changed one', async () => {
    const { cwd, dos } = setup();
    const src = join(tempDir(), 'links');
    writeTree(src, { 'real.txt': 'real\n' });
    symlinkSync('real.txt', join(src, 'link'));
    expect((await dos(['put', src])).code).toBe(0);
    expect((await dos(['get', 'links', 'out'])).code).toBe(0);
    const again = await dos(['get', 'links', 'out', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ skipped: 2 });
    rmSync(join(cwd, 'out', 'link'));
    symlinkSync('/etc/hostname', join(cwd, 'out', 'link'));
    expect((await dos(['get', 'links', 'out'])).code).toBe(4);
    expect(readlinkSync(join(cwd, 'out', 'link'))).toBe('/etc/hostname');
    expect((await dos(['get', 'links', 'out', '--force'])).code).toBe(0);
    expect(readlinkSync(join(cwd, 'out', 'link'))).toBe('real.txt');
    expect(readdirSync(join(cwd, 'out')).sort()).toEqual(['link', 'real.txt']);
  });

  it('assemble refuses to restore a set into its own folder (where --delete-input would then remove what it restored)', async () => {
    const { cwd, dos } = setup();
    const src = join(tempDir(), 'docs');
    writeTree(src, { 'readme.md': '# mine\n' });
    // The natural naming: docs sliced to usb/docs, whose parent is where assemble restores by default.
    expect((await dos(['slice', src, '--out', 'usb/docs'])).code).toBe(0);
    const set = snapshot(join(cwd, 'usb', 'docs'));
    for (const extra of [[], ['--delete-input']]) {
      const run = await dos(['assemble', 'usb/docs', ...extra]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/overlaps it; choose another folder with --out/);
      expect(snapshot(join(cwd, 'usb', 'docs'))).toEqual(set);
    }
    const elsewhere = await dos(['assemble', 'usb/docs', '--out', 'restored', '--delete-input']);
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    expect(snapshot(join(cwd, 'restored', 'docs'))).toEqual(snapshot(src));
    expect(existsSync(join(cwd, 'usb', 'docs'))).toBe(false);
  });

  it('assemble refuses a symlink where the folder named after the archive would go', async () => {
    const { cwd, outside, dos } = setup();
    const src = join(tempDir(), 'docs');
    writeTree(src, { 'readme.md': '# mine\n' });
    expect((await dos(['slice', src, '--out', 'set'])).code).toBe(0);
    mkdirSync(join(cwd, 'out'));
    symlinkSync(outside, join(cwd, 'out', 'docs'));
    const run = await dos(['assemble', 'set', '--out', 'out', '--force']);
    expect(run.code, run.stderr).toBe(8);
    expect(readFileSync(join(outside, 'readme.md'), 'utf8')).toBe('not yours to overwrite\n');
  });
});
