import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { platform } from 'node:os';
import { resolve } from 'node:path';
import Fuse from 'fuse-native';
import { DosError, ErrorCodes } from '../core/errors.js';
import type { MountSession } from '../store/mount/session.js';
import { fuseOps } from './fuse-adapter.js';
import { fuseTimesFixed } from './fuse-times.js';

export interface MountedFs {
  mountpoint: string;
  unmount(): Promise<void>;
}

/** Whether `dir` is a mount point right now (Linux: /proc/self/mountinfo), and of which type. */
function mountTypeAt(dir: string): string | null {
  if (platform() !== 'linux') return null;
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0 || unescape(fields[4] ?? '') !== dir) continue;
    return fields[dash + 1] ?? 'unknown';
  }
  return null;
}

function lazyUnmount(dir: string): void {
  const attempts: Array<[string, string[]]> = platform() === 'darwin'
    ? [['diskutil', ['unmount', 'force', dir]]]
    : [['fusermount', ['-uz', dir]], ['fusermount3', ['-uz', dir]], ['umount', ['-l', dir]]];
  for (const [cmd, args] of attempts) {
    try {
      execFileSync(cmd, args, { stdio: 'ignore' });
      return;
    } catch {
      // try the next tool
    }
  }
}

/**
 * Makes `dir` usable as a mount point: creates it if missing, and detaches a stale FUSE mount
 * that a crashed dos left ("Transport endpoint is not connected"). `isOurs` tells whether a
 * live mount there belongs to a running dos (then it is an error, not something to undo).
 */
export function prepareMountpoint(dir: string, liveMountHere: boolean): { recovered: boolean } {
  const type = mountTypeAt(dir);
  let stale = false;
  try {
    statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTCONN' || code === 'ECONNABORTED') stale = true;
    else if (code === 'ENOENT') mkdirSync(dir, { recursive: true });
    else throw err;
  }
  if (type !== null && !stale) {
    if (liveMountHere) throw new DosError(ErrorCodes.BUSY, `${dir} is already mounted by a running dos mount`);
    if (!type.startsWith('fuse')) throw new DosError(ErrorCodes.BUSY, `${dir} is already a mount point (${type})`);
    stale = true; // a FUSE mount nobody serves any more
  }
  if (stale) {
    lazyUnmount(dir);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  }
  if (!statSync(dir).isDirectory()) throw new DosError(ErrorCodes.BAD_INPUT, `${dir} is not a folder`);
  return { recovered: stale };
}

/** Mounts the session at `mountpoint` with fuse-native (FUSE 2, multi-threaded in C). */
export function mountFilesystem(session: MountSession, mountpoint: string, log: (line: string) => void): Promise<MountedFs> {
  const dir = resolve(mountpoint);
  const slow = 120_000;
  const timesFixed = fuseTimesFixed();
  if (!timesFixed) log('fuse-native was not rebuilt with dos\'s utimens fix (run ./scripts/setup.sh): modification times set through the mount (cp -p, rsync -t, tar) take the access time instead');
  const fuse = new Fuse(dir, fuseOps(session, log, timesFixed), {
    // fuse-native has no option for these; it joins options with commas (DESIGN.md §9).
    fsname: 'dos,big_writes,use_ino',
    autoCache: true,
    force: false,
    // Ops answer within 15 s or fail with ETIMEDOUT; reads of cold data may need the network longer.
    timeout: { default: 15_000, read: slow, open: slow, create: slow, truncate: slow, ftruncate: slow, mkdir: slow, flush: slow, release: slow },
  });
  return new Promise((resolvePromise, reject) => {
    fuse.mount((err) => {
      if (err) {
        reject(new DosError(ErrorCodes.BACKEND, `could not mount ${dir}: ${err.message} (is FUSE installed? see native-notes/fuse.md)`, {}, { cause: err }));
        return;
      }
      resolvePromise({
        mountpoint: dir,
        unmount: () => new Promise<void>((done) => {
          fuse.unmount((unmountErr) => {
            if (unmountErr) {
              log(`unmount: ${unmountErr.message}; detaching lazily`);
              lazyUnmount(dir);
            }
            done();
          });
        }),
      });
    });
  });
}
