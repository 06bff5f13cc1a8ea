import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DOS_BIN, runDos } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';
import { closeAll, emulator, packAttachments } from './helpers.js';

beforeAll(() => {
  if (!existsSync(DOS_BIN)) throw new Error(`${DOS_BIN} is missing: run "npm run build" first (npm test does)`);
});

afterEach(closeAll);

describe('the dos command line on Discord', () => {
  it('put, ls, get, verify and rm through the Discord backend', async () => {
    const emu = await emulator();
    const home = tempDir('dos-cli-home-');
    const cwd = tempDir('dos-cli-cwd-');
    const src = tempDir('dos-cli-src-');
    writeTree(src, { 'docs/readme.md': '# hello\n', 'photo.jpg': noise(300_000), 'Ünïcödé.txt': 'ü' });
    const env = { DOS_HOME: home, USER_KEY: 'a long passphrase for the cli tests', ...emu.env() };
    const dos = (args: string[]) => runDos(args, env, cwd);

    const put = await dos(['put', src, '--name', 'holiday', '--json']);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stderr).not.toMatch(/local store/);
    const archive = JSON.parse(put.stdout);
    expect(archive).toMatchObject({ name: 'holiday', files: 3 });
    expect(packAttachments(emu).length).toBe(archive.attachments);
    expect(readdirSync(join(home, 'index'))).toContain(`discord-${emu.archiveChannelId}.db`);

    const ls = JSON.parse((await dos(['ls', '--json'])).stdout);
    expect(ls.map((a: { id: string }) => a.id)).toEqual([archive.id]);

    const got = await dos(['get', archive.id, 'restored']);
    expect(got.code, got.stderr).toBe(0);
    expect(snapshot(join(cwd, 'restored'))).toEqual(snapshot(src));

    const verify = await dos(['verify', archive.id, '--deep', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, deep: true, files: 3 });

    const rm = await dos(['rm', archive.id]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(packAttachments(emu)).toEqual([]);
    expect(JSON.parse((await dos(['ls', '--json'])).stdout)).toEqual([]);
  }, 30_000);
});
