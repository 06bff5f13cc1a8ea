import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runDos } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';

/** Files in the local backend's pack folders: packs, and temporary files a crash left. */
function packFolderFiles(home: string): string[] {
  const root = join(home, 'store', 'packs');
  return readdirSync(root).flatMap((shard) => readdirSync(join(root, shard)));
}
const packsOnDisk = (home: string) => packFolderFiles(home).filter((n) => n.endsWith('.pack'));

function setup() {
  const home = tempDir('dos-resume-home-');
  const src = tempDir('dos-resume-src-');
  // ~3.5 packs of incompressible data plus small files, so crashes land between packs.
  const files: Record<string, Buffer | string> = {};
  for (let i = 0; i < 4; i++) files[`video-${i}.mov`] = noise(9 * 1024 * 1024, 40 + i);
  for (let i = 0; i < 20; i++) files[`notes/${i}.txt`] = `note ${i}\n`.repeat(100);
  writeTree(src, files);
  const dos = (args: string[], extra: Record<string, string> = {}) => runDos(args, { DOS_HOME: home, USER_KEY: 'resume test key', ...extra });
  return { home, src, dos };
}

describe('kill -9 during dos put, then dos resume', () => {
  it.each([
    ['after a pack is stored but before the index knows it', 'pack-stored:2'],
    ['right after the first pack is recorded', 'pack-recorded:1'],
    ['after three packs', 'pack-recorded:3'],
    ['after every pack, before the record is published', 'before-record'],
    ['after the record is published, before the index commits', 'before-commit'],
  ])('%s: same bytes, nothing uploaded twice, no orphans', async (_label, failpoint) => {
    const { home, src, dos } = setup();
    const crashed = await dos(['put', src, '--json'], { DOS_FAILPOINT: failpoint });
    expect(crashed.signal).toBe('SIGKILL');
    const packsBefore = packsOnDisk(home).length;

    const listed = JSON.parse((await dos(['ls', '--json'])).stdout) as Array<{ id: string; status: string }>;
    expect(listed).toEqual([expect.objectContaining({ status: 'failed' })]);

    const resumed = await dos(['resume', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const [outcome] = (JSON.parse(resumed.stdout) as { puts: Array<{ archive: string; completed: boolean; result: { attachments: number } }> }).puts;
    expect(outcome).toMatchObject({ archive: listed[0]!.id, completed: true });
    // Packs stored before the crash were reused, not uploaded again.
    expect(outcome!.result.attachments).toBeLessThanOrEqual(5 - Math.max(0, packsBefore - 1));

    const out = join(tempDir(), 'out');
    expect((await dos(['get', listed[0]!.id, out])).code).toBe(0);
    expect(snapshot(out)).toEqual(snapshot(src));
    expect((await dos(['verify', listed[0]!.id, '--deep'])).code).toBe(0);

    // Collect what the crash left; afterwards every pack on disk is one the archive uses.
    expect((await dos(['gc', '--orphan-grace', '0'])).code).toBe(0);
    const status = JSON.parse((await dos(['status', '--json'])).stdout) as { packs: number; storedBytes: number; bytes: number };
    expect(packsOnDisk(home).length).toBe(status.packs);
    expect(packFolderFiles(home).length).toBe(status.packs); // no temporary files left either
    expect(status.storedBytes).toBeLessThan(status.bytes * 1.02); // no duplicated data
    expect(JSON.parse((await dos(['resume', '--json'])).stdout)).toEqual({ puts: [], mountQueue: { changes: 0, drained: true }, seedUploads: [] });
  });

  it('the next dos put finishes an interrupted one first', async () => {
    const { src, dos } = setup();
    expect((await dos(['put', src], { DOS_FAILPOINT: 'pack-recorded:2' })).signal).toBe('SIGKILL');
    const next = await dos(['put', src, '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/resumed #\d{6}-01/);
    const listed = JSON.parse((await dos(['ls', '--json'])).stdout) as Array<{ status: string }>;
    expect(listed.map((a) => a.status)).toEqual(['complete', 'complete']);
  });
});
