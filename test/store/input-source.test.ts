import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_COMPRESSION } from '../../src/core/frame.js';
import { InputSource, type SourceItem } from '../../src/store/input-source.js';
import { tempDir } from '../helpers/temp.js';
import { noise } from '../helpers/trees.js';

const FRAME = 64 * 1024;

async function framesOf(source: InputSource): Promise<{ lengths: number[]; ends: Array<Extract<SourceItem, { kind: 'end' }>> }> {
  const lengths: number[] = [];
  const ends: Array<Extract<SourceItem, { kind: 'end' }>> = [];
  source.start(() => {});
  for await (const item of source.items()) {
    if (item.kind === 'frame') lengths.push(item.plaintext.length);
    else if (item.kind === 'end') ends.push(item);
  }
  return { lengths, ends };
}

describe('reading the files of a put into frames', () => {
  it('cuts every file into whole frames and one shorter last frame, whatever its size', async () => {
    const dir = tempDir();
    const sizes = [0, 1, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME];
    const files = sizes.map((size, i) => {
      writeFileSync(join(dir, `f${i}`), noise(size, i));
      return { source: join(dir, `f${i}`), path: `f${i}` };
    });
    const { lengths, ends } = await framesOf(await InputSource.ofFiles(files, { frameSize: FRAME, compression: DEFAULT_COMPRESSION }));
    expect(lengths).toEqual([1, FRAME - 1, FRAME, FRAME, 1, FRAME, FRAME, FRAME]);
    expect(ends.map((e) => e.size)).toEqual(sizes);
  });

  it('still cuts whole frames from a file that grew after it was scanned', async () => {
    const dir = tempDir();
    const path = join(dir, 'growing.log');
    writeFileSync(path, 'ten bytes\n');
    const source = await InputSource.ofFiles([{ source: path, path: 'growing.log' }], { frameSize: FRAME, compression: DEFAULT_COMPRESSION });
    appendFileSync(path, noise(2 * FRAME));
    const { lengths, ends } = await framesOf(source);
    expect(lengths).toEqual([FRAME, FRAME, 10]);
    expect(ends[0]!.size).toBe(2 * FRAME + 10);
  });

  it('a missing file is final (NOT_FOUND); any other failure to stat it stays a system error, so a mount retries it', async () => {
    const dir = tempDir();
    const options = { frameSize: FRAME, compression: DEFAULT_COMPRESSION };
    const missing = await InputSource.ofFiles([{ source: join(dir, 'gone'), path: 'gone' }], options).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
    symlinkSync('loop', join(dir, 'loop')); // stat fails with ELOOP
    const looping = await InputSource.ofFiles([{ source: join(dir, 'loop'), path: 'loop' }], options).catch((e: unknown) => e);
    expect(looping).toMatchObject({ code: 'ELOOP' });
  });

  it.each([
    ['a FIFO (reading would wait forever)', (path: string) => execFileSync('mkfifo', [path])],
    ['a symlink to /dev/zero (reading would never end)', (path: string) => symlinkSync('/dev/zero', path)],
    ['a folder', (path: string) => mkdirSync(path)],
  ])('a file replaced after the scan by %s fails the put at once, reading nothing', async (_what, replace) => {
    const dir = tempDir();
    const path = join(dir, 'f');
    writeFileSync(path, 'scanned as a regular file');
    const source = await InputSource.ofFiles([{ source: path, path: 'f' }], { frameSize: FRAME, compression: DEFAULT_COMPRESSION });
    rmSync(path);
    replace(path);
    const err = await framesOf(source).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_INPUT' });
  });
});

