import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOS_BIN, runDos } from '../helpers/cli.js';
import { listFiles, readFixtureExpectation, sha256File } from '../helpers/seed-fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { closeAll, emulator } from './helpers.js';
import { botRest, postFixture } from './seed-post.js';

beforeAll(() => {
  if (!existsSync(DOS_BIN)) throw new Error(`${DOS_BIN} is missing: run "npm run build" first (npm test does)`);
});

afterEach(closeAll);

describe('seed archives through the dos command line on Discord', () => {
  it('sync, ls, get and verify a seed archive; get refuses to overwrite changed files without --force', async () => {
    const emu = await emulator();
    await postFixture(emu, botRest(emu));
    const expected = await readFixtureExpectation('legacy-v3.1');
    const home = tempDir('dos-seed-cli-home-');
    const cwd = tempDir('dos-seed-cli-cwd-');
    const env = { DOS_HOME: home, USER_KEY: expected.user_key, ...emu.env() };
    const dos = (args: string[]) => runDos(args, env, cwd);

    const init = await dos(['init']);
    expect(init.code, init.stderr).toBe(0);
    // A new machine: no index at all.
    rmSync(join(home, 'index'), { recursive: true, force: true });
    const sync = await dos(['sync', '--json']);
    expect(sync.code, sync.stderr).toBe(0);
    expect(JSON.parse(sync.stdout)).toMatchObject({ archives: 1, rejected: [] });

    const ls = await dos(['ls', '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual([expect.objectContaining({ id: '#271126-07', name: 'Holiday Photos', files: 5, status: 'complete' })]);
    const inside = await dos(['ls', '271126-7', '--json']);
    expect(inside.code, inside.stderr).toBe(0);
    expect(JSON.parse(inside.stdout).map((e: { path: string }) => e.path)).toEqual(Object.keys(expected.files).sort());

    const got = await dos(['get', '#271126-07', 'restored']);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/restored 5 file\(s\)/);
    expect(await listFiles(join(cwd, 'restored'))).toEqual(Object.keys(expected.files).sort());
    for (const [name, e] of Object.entries(expected.files)) expect(await sha256File(join(cwd, 'restored', name)), name).toBe(e.sha256);
    expect(readdirSync(join(home, 'downloads'))).toEqual([]);

    const verify = await dos(['verify', '#271126-07', '--deep', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, deep: true, files: 5, packs: 7 });

    writeFileSync(join(cwd, 'restored', 'hello.txt'), 'changed by hand, same length!');
    const refused = await dos(['get', '#271126-07', 'restored']);
    expect(refused.code).toBe(4); // EXISTS
    expect(refused.stderr).toMatch(/hello\.txt already exists/);
    const forced = await dos(['get', '#271126-07', 'restored', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await sha256File(join(cwd, 'restored', 'hello.txt'))).toBe(expected.files['hello.txt']!.sha256);
    expect(await listFiles(join(cwd, 'restored'))).toEqual(Object.keys(expected.files).sort());
  }, 45_000);
});
