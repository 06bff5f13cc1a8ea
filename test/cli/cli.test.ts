import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDos, DOS_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';

const KEY = 'a long passphrase for the cli tests';

beforeAll(() => {
  if (!existsSync(DOS_BIN)) throw new Error(`${DOS_BIN} is missing: run "npm run build" first (npm test does)`);
});

function setup() {
  const home = tempDir('dos-cli-home-');
  const cwd = tempDir('dos-cli-cwd-');
  const src = tempDir('dos-cli-src-');
  writeTree(src, { 'docs/readme.md': '# hello\n', 'photo.jpg': noise(300_000), 'Ünïcödé.txt': 'ü' });
  const env = { DOS_HOME: home, USER_KEY: KEY };
  const dos = (args: string[], extra: Record<string, string | undefined> = {}) => runDos(args, { ...env, ...extra }, cwd);
  return { home, cwd, src, env, dos };
}

describe('the dos command line', () => {
  it('puts, lists, gets, verifies and removes an archive; put creates the store on first use', async () => {
    const { src, dos, cwd } = setup();
    const put = await dos(['put', src, '--name', 'holiday', '--json']);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stderr).toMatch(/no DISCORD_BOT_TOKEN set: using the local store/);
    const archive = JSON.parse(put.stdout);
    expect(archive).toMatchObject({ name: 'holiday', files: 3, bytes: 300_000 + 8 + 2 });
    expect(archive.id).toMatch(/^#\d{6}-01$/);
    expect(archive.storedBytes).toBeGreaterThan(0);
    expect(archive.attachments).toBe(1);

    const second = await dos(['put', src, '--json']);
    expect(second.stderr).not.toMatch(/no DISCORD_BOT_TOKEN/); // said once, not every time

    const ls = JSON.parse((await dos(['ls', '--json'])).stdout);
    expect(ls.map((a: { id: string; name: string }) => a.name)).toEqual(['holiday', expect.any(String)]);
    const tree = JSON.parse((await dos(['ls', `${archive.id}/docs`, '--json'])).stdout);
    expect(tree).toEqual([expect.objectContaining({ path: 'docs/readme.md', type: 'file', size: 8 })]);

    const bare = archive.id.slice(1).replace(/-0(\d)$/, '-$1'); // 281126-1: the seed's short form
    const got = await dos(['get', bare, 'restored']);
    expect(got.code, got.stderr).toBe(0);
    expect(snapshot(join(cwd, 'restored'))).toEqual(snapshot(src));

    const one = await dos(['get', `${archive.id}/docs/readme.md`, 'single.md']);
    expect(one.code, one.stderr).toBe(0);
    expect(readFileSync(join(cwd, 'single.md'), 'utf8')).toBe('# hello\n');

    const rerun = await dos(['get', archive.id, 'restored', '--json']); // identical files: a re-run is a resume
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ skipped: 3 });
    writeFileSync(join(cwd, 'restored', 'docs', 'readme.md'), 'my own edits');
    expect((await dos(['get', archive.id, 'restored'])).code).toBe(4); // differs: refused without --force
    expect(readFileSync(join(cwd, 'restored', 'docs', 'readme.md'), 'utf8')).toBe('my own edits');
    expect((await dos(['get', archive.id, 'restored', '--force'])).code).toBe(0);
    expect(readFileSync(join(cwd, 'restored', 'docs', 'readme.md'), 'utf8')).toBe('# hello\n');

    const verify = await dos(['verify', archive.id, '--deep', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, deep: true, files: 3 });
    expect((await dos(['verify', '--all'])).code).toBe(0);

    const rm = await dos(['rm', archive.id, '--json']);
    expect(rm.code, rm.stderr).toBe(0);
    const status = JSON.parse((await dos(['status', '--json'])).stdout);
    expect(status).toMatchObject({ archives: 1, encrypted: true, pendingUploads: 0 });
  });

  it('exits with stable codes and clear messages on bad input', async () => {
    const { src, dos } = setup();
    expect((await dos(['put', src])).code).toBe(0);
    const wrongKey = await dos(['ls'], { USER_KEY: 'wrong' });
    expect(wrongKey.code).toBe(5);
    expect(wrongKey.stderr).toMatch(/WRONG_KEY.*does not match this store/);
    const noKey = await dos(['ls'], { USER_KEY: undefined });
    expect(noKey.code).toBe(5);
    expect(noKey.stderr).toMatch(/KEY_REQUIRED/);
    const unknown = await dos(['get', '#010101-99']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/no archive #010101-99/);
    const badArgs = await dos(['verify']);
    expect(badArgs.code).toBe(2);
    const missing = await dos(['put', join(src, 'nope')]);
    expect(missing.code).toBe(3);
  });

  it('refuses to restore or pass a file whose pack was tampered with, naming archive and file (frames open on a worker thread)', async () => {
    const { home, cwd, dos } = setup();
    const big = tempDir('dos-cli-big-');
    writeFileSync(join(big, 'video.mp4'), noise(3 * 1024 * 1024, 9)); // runs big enough for the frame worker
    const id = JSON.parse((await dos(['put', big, '--name', 'tampered', '--json'])).stdout).id;
    const packs = readdirSync(join(home, 'store', 'packs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(packs).toHaveLength(1);
    const packPath = join(packs[0]!.parentPath, packs[0]!.name);
    const pack = readFileSync(packPath);
    pack[pack.length - 5000]! ^= 0x01; // inside the last frame's ciphertext
    writeFileSync(packPath, pack);
    const get = await dos(['get', id, 'out']);
    expect(get.code).toBe(7);
    expect(get.stderr).toMatch(new RegExp(`CORRUPT.*${id}/video\\.mp4 at byte 2097152`));
    expect(existsSync(join(cwd, 'out', 'video.mp4'))).toBe(false);
    const verify = await dos(['verify', id, '--deep']);
    expect(verify.code).toBe(7);
    expect(verify.stdout + verify.stderr).toMatch(/video\.mp4/);
  });

  it('init refuses without USER_KEY unless --no-encryption, which every put then mentions', async () => {
    const { dos, src } = setup();
    const refused = await dos(['init'], { USER_KEY: undefined });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/--no-encryption/);
    const plain = await dos(['init', '--no-encryption'], { USER_KEY: undefined });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/UNENCRYPTED/);
    const put = await dos(['put', src], { USER_KEY: undefined });
    expect(put.code).toBe(0);
    expect(put.stderr).toMatch(/NOT encrypted/);
    expect((await dos(['init'])).code).toBe(6); // already exists
  });

  it('reads USER_KEY from a .env file, the real environment winning', async () => {
    const { dos, src, cwd } = setup();
    writeFileSync(join(cwd, '.env'), `# comment\nUSER_KEY="${KEY}"\n`);
    expect((await dos(['put', src], { USER_KEY: undefined })).code).toBe(0);
    expect((await dos(['ls'], { USER_KEY: 'the environment wins' })).code).toBe(5);
  });

  it('has --help on every command', async () => {
    const { dos } = setup();
    for (const command of ['init', 'put', 'ls', 'get', 'verify', 'rm', 'gc', 'status', 'sync', 'resume', 'slice', 'assemble', 'passwd']) {
      const help = await dos([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`Usage: dos ${command}`));
    }
  });

  it('slices a folder offline into a self-contained set and assembles it back', async () => {
    const { dos, src, cwd } = setup();
    const sliced = await dos(['slice', src, '--out', 'set', '--json']);
    expect(sliced.code, sliced.stderr).toBe(0);
    expect(existsSync(join(cwd, 'set', 'keyring.json'))).toBe(true);
    expect((await dos(['slice', src, '--out', 'set'])).code).toBe(4); // never mixes into a non-empty folder
    const assembled = await dos(['assemble', 'set', '--out', 'restored', '--json']);
    expect(assembled.code, assembled.stderr).toBe(0);
    const name = src.split('/').pop()!;
    expect(snapshot(join(cwd, 'restored', name))).toEqual(snapshot(src));
    expect(existsSync(join(cwd, 'set'))).toBe(true); // input kept without --delete-input
    expect((await dos(['assemble', 'set', '--out', 'restored2'], { USER_KEY: 'wrong' })).code).toBe(5);
  });

  it('reads back with node:crypto what it stored with the native AES-GCM, and the other way round; status names the cipher', async () => {
    const { dos, src, cwd } = setup();
    const nodeOnly = { DOS_NATIVE_AES: '0' };
    const byNative = JSON.parse((await dos(['put', src, '--name', 'native', '--json'])).stdout).id;
    const byNode = JSON.parse((await dos(['put', src, '--name', 'node', '--json'], nodeOnly)).stdout).id;
    const native = JSON.parse((await dos(['status', '--json'])).stdout).cipher;
    if (process.platform === 'linux') expect(native).toMatchObject({ native: true, fallbackReason: null });
    const forced = JSON.parse((await dos(['status', '--json'], nodeOnly)).stdout).cipher;
    expect(forced).toMatchObject({ native: false, implementation: expect.stringMatching(/^node:crypto/), fallbackReason: 'DOS_NATIVE_AES=0' });
    expect((await dos(['status'], nodeOnly)).stdout).toMatch(/cipher: +node:crypto .*\(DOS_NATIVE_AES=0\)/);

    const read = [[byNative, nodeOnly], [byNode, {}]] as const;
    for (const [id, env] of read) {
      const out = join(cwd, `out-${id.slice(1)}`);
      const get = await dos(['get', id, out], env);
      expect(get.code, get.stderr).toBe(0);
      expect(snapshot(out)).toEqual(snapshot(src));
      expect((await dos(['verify', id, '--deep'], env)).code).toBe(0);
    }
  });
});
