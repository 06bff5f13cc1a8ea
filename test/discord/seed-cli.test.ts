import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOS_BIN, runDos } from '../helpers/cli.js';
import { listFiles, readFixtureExpectation, sha256File } from '../helpers/seed-fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { openStore } from '../../src/store/open-store.js';
import { writeSeedSet } from '../helpers/seed-writer.js';
import { noise } from '../helpers/trees.js';
import { FAST_RETRY, backendFor, closeAll, emulator } from './helpers.js';
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
  it('dos resume finishes a seed upload the bot left unfinished, from the folder it was started in', async () => {
    const emu = await emulator();
    const home = tempDir('dos-seed-resume-home-');
    const upload = tempDir('dos-seed-resume-upload-');
    const env = { DOS_HOME: home, USER_KEY: 'resume key', ...emu.env() };
    const init = await runDos(['init'], env);
    expect(init.code, init.stderr).toBe(0);
    const data = noise(13_000, 41);
    await writeSeedSet({ format: '2.1', dir: upload, files: [{ name: 'plain.dat', data }], sourceFolder: 'Plain41', chunkSize: 1000 });
    expect(readdirSync(upload)).toHaveLength(14);

    // The bot's !upload, on the same index: every attempt at the thread's first message fails.
    const bot = await openStore({ backend: backendFor(emu), indexPath: join(home, 'index', `discord-${emu.archiveChannelId}.db`), userKey: 'resume key' });
    emu.faults.serverError({ method: 'POST', path: new RegExp(`^/channels/(?!${emu.archiveChannelId})\\d+/messages$`), count: FAST_RETRY.attempts, status: 502 });
    const partial = await bot.uploadSeedSet(upload);
    emu.faults.clear();
    await bot.close();
    expect(partial).toMatchObject({ status: 'partial', removedLocal: false });
    expect(readdirSync(upload)).toHaveLength(14);

    const resumed = await runDos(['resume', '--json'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).seedUploads).toEqual([
      expect.objectContaining({ archiveId: partial.archiveId, dir: upload, outcome: expect.objectContaining({ status: 'success', attachments: 14, removedLocal: true }) }),
    ]);
    expect(readdirSync(upload)).toEqual([]); // every file verified in the thread, then removed
    const out = join(tempDir(), 'out');
    const got = await runDos(['get', partial.archiveId, out], env);
    expect(got.code, got.stderr).toBe(0);
    expect(readFileSync(join(out, 'plain.dat')).equals(data)).toBe(true);
    const again = await runDos(['resume'], env);
    expect(again.stdout).toMatch(/nothing to resume/);
  }, 60_000);

  it('dos passwd: refused while seed archives need the passphrase itself; with --force the pinned keyring changes and SEED_USER_KEY reads them', async () => {
    const emu = await emulator();
    await postFixture(emu, botRest(emu));
    const expected = await readFixtureExpectation('legacy-v3.1');
    const home = tempDir('dos-seed-passwd-home-');
    const cwd = tempDir('dos-seed-passwd-cwd-');
    const mine = join(tempDir('dos-seed-passwd-src-'), 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'letter.txt'), 'to be read with the new passphrase\n');
    const oldKey = expected.user_key;
    const newKey = 'the new passphrase for this server';
    const env = { DOS_HOME: home, USER_KEY: oldKey, ...emu.env() };
    expect((await runDos(['put', mine, '--name', 'mine'], env, cwd)).code).toBe(0);
    expect((await runDos(['sync'], env, cwd)).code).toBe(0);

    const refused = await runDos(['passwd'], { ...env, NEW_USER_KEY: newKey }, cwd);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/1 archive\(s\) made by the Python seed/);
    const forced = await runDos(['passwd', '--force'], { ...env, NEW_USER_KEY: newKey }, cwd);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/still need the OLD passphrase: set SEED_USER_KEY/);

    // Another machine: no index, the pinned keyring is all it has.
    const elsewhere = { DOS_HOME: tempDir('dos-seed-passwd-other-'), ...emu.env() };
    expect((await runDos(['ls'], { ...elsewhere, USER_KEY: oldKey }, cwd)).code).toBe(5);
    const withNew = { ...elsewhere, USER_KEY: newKey, SEED_USER_KEY: oldKey };
    const ls = await runDos(['ls', '--json'], withNew, cwd);
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout).map((a: { name: string }) => a.name).sort()).toEqual(['Holiday Photos', 'mine']);
    const got = await runDos(['get', 'mine', 'restored-mine'], withNew, cwd);
    expect(got.code, got.stderr).toBe(0);
    expect(readFileSync(join(cwd, 'restored-mine', 'letter.txt'), 'utf8')).toBe('to be read with the new passphrase\n');
    const newKeyOnly = await runDos(['get', '#271126-07', 'not-restored'], { ...elsewhere, USER_KEY: newKey }, cwd);
    expect(newKeyOnly.code).toBe(7);
    expect(newKeyOnly.stderr).toMatch(/wrong USER_KEY or corrupted chunk .* \(seed data is read with SEED_USER_KEY when that is set\)/);
    const seed = await runDos(['get', '#271126-07', 'restored-seed'], withNew, cwd);
    expect(seed.code, seed.stderr).toBe(0);
    for (const [name, e] of Object.entries(expected.files)) expect(await sha256File(join(cwd, 'restored-seed', name)), name).toBe(e.sha256);
  }, 60_000);
});
