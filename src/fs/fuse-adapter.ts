import { constants as osConstants, platform } from 'node:os';
import type { FuseOps, FuseStat } from 'fuse-native';
import { errnoNameOf } from '../store/mount/fs-error.js';
import { requestedMtime } from './fuse-times.js';
import type { Attr, MountSession } from '../store/mount/session.js';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** A negative errno for the kernel, never -1 unless it really is EPERM. */
export function errnoOf(err: unknown): number {
  const name = errnoNameOf(err);
  const value = (osConstants.errno as Record<string, number | undefined>)[name === 'ENOTSUP' ? 'ENOTSUP' : name];
  return -(value ?? osConstants.errno.EIO);
}

function toStat(a: Attr, uid: number, gid: number): FuseStat {
  const type = a.type === 'dir' ? S_IFDIR : a.type === 'symlink' ? S_IFLNK : S_IFREG;
  // fuse-native hands the kernel unsigned times: one before 1970 would show as a date in the
  // far future. Shown as 1970 here; the archive keeps the real one.
  const time = new Date(Math.max(0, a.mtimeMs));
  return {
    mode: type | (a.mode & 0o7777), uid, gid, size: a.size, nlink: 1, ino: a.ino,
    blksize: 4096, blocks: Math.ceil(a.size / 512), atime: time, mtime: time, ctime: time,
  };
}

/**
 * Kernel ops in, session calls out: every op answers exactly once, with 0, a result, or a
 * negative errno. Write buffers are only used until the op answers (the session writes them
 * to the staging file before it resolves), as fuse-native reuses them afterwards.
 */
export function fuseOps(session: MountSession, log: (line: string) => void, timesFixed: boolean): FuseOps {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;

  const fail = (op: string, path: string, err: unknown): number => {
    const code = errnoOf(err);
    if (code === -osConstants.errno.EIO) log(`${op} ${path}: EIO: ${err instanceof Error ? err.message : String(err)}`);
    return code;
  };
  /** Runs an op that answers with a status only. */
  const run = (op: string, path: string, cb: (code: number) => void, fn: () => unknown): void => {
    let result: unknown;
    try {
      result = fn();
    } catch (err) {
      cb(fail(op, path, err));
      return;
    }
    Promise.resolve(result).then(() => cb(0), (err: unknown) => cb(fail(op, path, err)));
  };
  /** Runs an op that answers with a value. */
  const value = <T>(op: string, path: string, cb: (code: number, v?: T) => void, fn: () => T | Promise<T>): void => {
    let result: T | Promise<T>;
    try {
      result = fn();
    } catch (err) {
      cb(fail(op, path, err));
      return;
    }
    Promise.resolve(result).then((v) => cb(0, v), (err: unknown) => cb(fail(op, path, err)));
  };
  /** read and write answer with a byte count or a negative errno. */
  const count = (op: string, path: string, cb: (n: number) => void, fn: () => Promise<number>): void => {
    fn().then((n) => cb(n), (err: unknown) => cb(fail(op, path, err)));
  };

  return {
    init: (cb) => cb(0),
    access: (_path, _mode, cb) => cb(0),
    statfs: (path, cb) => value('statfs', path, cb, () => session.statfs()),
    getattr: (path, cb) => value('getattr', path, cb, () => andThen(session.getattr(path), (attr) => toStat(attr, uid, gid))),
    fgetattr: (path, _fd, cb) => value('getattr', path, cb, () => andThen(session.getattr(path), (attr) => toStat(attr, uid, gid))),
    readdir: (path, cb) => value('readdir', path, (code, names?: string[]) => cb(code, names), () => andThen(session.readdir(path), (names) => ['.', '..', ...names])),
    readlink: (path, cb) => value('readlink', path, cb, () => session.readlink(path)),
    open: (path, flags, cb) => value('open', path, cb, () => session.open(path, flags)),
    create: (path, mode, cb) => value('create', path, cb, () => session.create(path, mode)),
    read: (path, fd, buffer, length, position, cb) => count('read', path, cb, () => session.read(fd, buffer, length, position)),
    write: (path, fd, buffer, length, position, cb) => count('write', path, cb, () => session.write(fd, buffer, length, position)),
    flush: (path, fd, cb) => run('flush', path, cb, () => session.flush(fd)),
    fsync: (_path, _datasync, _fd, cb) => cb(0),
    release: (path, fd, cb) => run('release', path, cb, () => session.release(fd)),
    truncate: (path, size, cb) => run('truncate', path, cb, () => session.truncate(path, size)),
    ftruncate: (path, fd, size, cb) => run('truncate', path, cb, () => session.ftruncate(fd, size)),
    mkdir: (path, mode, cb) => run('mkdir', path, cb, async () => {
      if (!(await session.mkdirRoot(path))) await session.mkdir(path, mode);
    }),
    rmdir: (path, cb) => run('rmdir', path, cb, () => session.rmdir(path)),
    unlink: (path, cb) => run('unlink', path, cb, () => session.unlink(path)),
    rename: (from, to, cb) => run('rename', from, cb, () => session.rename(from, to)),
    chmod: (path, mode, cb) => run('chmod', path, cb, () => session.setAttr(path, { mode })),
    utimens: (path, atime, mtime, cb) => run('utimens', path, cb, () => session.setAttr(path, { mtimeMs: requestedMtime(atime, mtime, timesFixed) })),
    chown: (_path, _uid, _gid, cb) => cb(0),
    mknod: (_path, _mode, _dev, cb) => cb(-osConstants.errno.ENOTSUP),
    symlink: (_src, _dest, cb) => cb(-osConstants.errno.ENOTSUP),
    link: (_src, _dest, cb) => cb(-osConstants.errno.ENOTSUP),
    // Finder's com.apple.* attributes are accepted and forgotten; nothing else is stored.
    setxattr: (_path, name, _value, _position, _flags, cb) => cb(name.startsWith('com.apple.') ? 0 : -osConstants.errno.ENOTSUP),
    // Linux asks for security.capability before every write (4096 extra round trips for a
    // 512 MiB cp, halving its speed) until a getxattr answers ENOSYS, which the kernel then
    // remembers for the whole mount. macOS keeps the old answer (nothing stored) for Finder.
    getxattr: (_path, _name, _position, cb) => (platform() === 'linux' ? cb(-osConstants.errno.ENOSYS) : cb(0, null)),
    listxattr: (_path, cb) => cb(0, []),
    removexattr: (_path, name, cb) => cb(name.startsWith('com.apple.') ? 0 : -(osConstants.errno.ENODATA ?? 61)),
  };
}

/** Applies `fn` at once to a plain value (the hot path stays synchronous), or once a promise settles. */
function andThen<T, U>(v: T | Promise<T>, fn: (value: T) => U): U | Promise<U> {
  return v instanceof Promise ? v.then(fn) : fn(v);
}
