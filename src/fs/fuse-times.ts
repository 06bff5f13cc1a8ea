import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * What fuse-native's `utimens` arguments mean (native-notes/fuse.md). Its bundled libfuse 2.9
 * calls utimens only when both times are set (utimes, touch, touch -d, cp -p, rsync -t, tar),
 * with "now" already turned into the current time by the kernel; `touch -a` and `touch -m`
 * alone never reach the filesystem. fuse-native 2.2.6 as published then passes the access
 * time in both arguments; dos's patch (patches/fuse-native+2.2.6.patch, compiled by `npm ci`)
 * passes the modification time second, as documented.
 */

/** Whether the loaded fuse-native binary is dos's patched build (it exports a marker). */
export function fuseTimesFixed(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const packageDir = dirname(require.resolve('fuse-native/package.json'));
    // The loader fuse-native itself uses, so this is the very binary the mount runs on.
    const load = createRequire(join(packageDir, 'index.js'))('node-gyp-build') as (dir: string) => Record<string, unknown>;
    return load(packageDir).dos_utimens_fixed === 1;
  } catch {
    return false;
  }
}

/** The largest time a JavaScript Date holds (±100 million days around 1970). */
const MAX_DATE_MS = 8.64e15;

/**
 * fuse-native hands times over as unsigned 64-bit milliseconds, so a time before 1970 (touch -d
 * 1960-01-01) arrives wrapped, near 2^64, as a double that holds it only to about 2 s (fuse-native
 * joins the two halves in JavaScript). Unwrapped to the negative time it is, in whole seconds:
 * within 2 s of the time asked for, where it was stored as a date in the year 2446 before.
 */
function signedMs(unsigned: number): number {
  if (unsigned <= MAX_DATE_MS) return unsigned;
  const signed = Math.round((unsigned - 2 ** 64) / 1000) * 1000;
  return signed >= -MAX_DATE_MS ? signed : 0;
}

/** UTIME_NOW's nanosecond code in whole milliseconds, as some setups hand it over (about 1073). */
const SPECIAL_BELOW_MS = 2000;

/**
 * The modification time a utimens call sets. With the patched build it is the second
 * argument as given (a file may really be from 1970: reproducible builds use mtime 1).
 * Without it the second argument is the access time, the best guess there is (touch,
 * touch -d and Finder set both times to one value); a special code there means "now".
 */
export function requestedMtime(atimeMs: number, mtimeArgument: number, fixed: boolean, now = Date.now()): number {
  if (fixed) return signedMs(mtimeArgument);
  return atimeMs < SPECIAL_BELOW_MS ? now : atimeMs;
}
