import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runDos } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';
import { closeAll, emulator, packAttachments } from './helpers.js';

afterEach(closeAll);

describe('kill -9 during dos put on Discord, then dos resume', () => {
  it.each([
    ['after a pack is posted but before the index knows it', 'pack-stored:2'],
    ['after two packs are recorded', 'pack-recorded:2'],
    ['after the card is published, before the index commits', 'before-commit'],
  ])('%s: same bytes, no duplicate attachments, no orphans', async (_label, failpoint) => {
    const emu = await emulator();
    const src = tempDir('dos-resume-src-');
    const files: Record<string, Buffer | string> = {};
    for (let i = 0; i < 4; i++) files[`clip-${i}.mov`] = noise(9 * 1024 * 1024, 70 + i);
    files['notes.txt'] = 'notes\n'.repeat(1000);
    writeTree(src, files);
    const env = { DOS_HOME: tempDir('dos-resume-home-'), USER_KEY: 'resume on discord', ...emu.env() };
    const dos = (args: string[], extra: Record<string, string> = {}) => runDos(args, { ...env, ...extra });

    expect((await dos(['put', src], { DOS_FAILPOINT: failpoint })).signal).toBe('SIGKILL');
    const resumed = await dos(['resume', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const [outcome] = (JSON.parse(resumed.stdout) as { puts: Array<{ archive: string; completed: boolean }> }).puts;
    expect(outcome).toMatchObject({ completed: true });

    const out = join(tempDir(), 'out');
    expect((await dos(['get', outcome!.archive, out])).code).toBe(0);
    expect(snapshot(out)).toEqual(snapshot(src));

    // Nothing was posted twice: every pack name appears once among the attachments.
    const names = packAttachments(emu).map((a) => a.filename);
    expect(new Set(names).size).toBe(names.length);
    // What the crash left (a pack posted but never recorded) is collected; then every pack
    // attachment is one the archive uses.
    expect((await dos(['gc', '--orphan-grace', '0'])).code).toBe(0);
    const status = JSON.parse((await dos(['status', '--json'])).stdout) as { packs: number };
    expect(packAttachments(emu).length).toBe(status.packs);
    expect((await dos(['verify', outcome!.archive, '--deep'])).code).toBe(0);
  }, 120_000);
});
