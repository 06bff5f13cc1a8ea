import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runDos } from '../helpers/cli.js';
import { copyFixtureChunks, readFixtureExpectation, sha256File, type SeedFixture } from '../helpers/seed-fixtures.js';
import { tempDir } from '../helpers/temp.js';

describe('dos assemble on sets the Python seed wrote', () => {
  it.each<SeedFixture>(['legacy-v3.1', 'legacy-v3.0'])('%s reassembles into OUT/<source_folder>/ with the expected sha256 of every file', async (fixture) => {
    const expected = await readFixtureExpectation(fixture);
    const work = tempDir();
    const chunks = await copyFixtureChunks(fixture, join(work, '[Archive] #271126-07'));
    const out = join(work, 'restored');
    const env = { DOS_HOME: join(work, 'home'), USER_KEY: expected.user_key };

    // The seed's id-style folder lookup: "271126-07" finds "[Archive] #271126-07" beside it.
    const run = await runDos(['assemble', join(work, '271126-07'), '--out', out, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ kind: 'seed', inputDeleted: false });

    const folder = join(out, expected.source_folder);
    expect(readdirSync(folder).sort()).toEqual(Object.keys(expected.files).sort());
    for (const [name, file] of Object.entries(expected.files)) expect(await sha256File(join(folder, name)), name).toBe(file.sha256);
    expect(readdirSync(chunks).length).toBeGreaterThan(0); // input kept without --delete-input

    const again = await runDos(['assemble', chunks, '--out', out], env);
    expect(again.code).toBe(4); // refuses to overwrite without --force
    const wrongKey = await runDos(['assemble', chunks, '--out', join(work, 'other')], { ...env, USER_KEY: 'wrong' });
    expect(wrongKey.code).toBe(7);
    expect(wrongKey.stderr).toMatch(/wrong USER_KEY or corrupted chunk/);
    expect(existsSync(join(work, 'other', expected.source_folder, 'hello.txt'))).toBe(false);
  });

  it('--delete-input removes the set only after everything was restored', async () => {
    const expected = await readFixtureExpectation('legacy-v3.1');
    const work = tempDir();
    const chunks = await copyFixtureChunks('legacy-v3.1', join(work, 'set'));
    const run = await runDos(['assemble', chunks, '--delete-input'], { DOS_HOME: join(work, 'home'), USER_KEY: expected.user_key });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(work, expected.source_folder, 'hello.txt'))).toBe(true);
    expect(existsSync(chunks)).toBe(false);
  });
});
