/** The part of fuse-native 2.2.6 dos uses (the package ships no types). */
declare module 'fuse-native' {
  type Cb<T = void> = (code: number, value?: T) => void;
  export interface FuseStat {
    mode: number; uid: number; gid: number; size: number; dev?: number; nlink: number; ino?: number; rdev?: number;
    blksize?: number; blocks?: number; atime: Date | number; mtime: Date | number; ctime: Date | number;
  }
  export interface FuseStatfs {
    bsize: number; frsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number; favail: number; fsid?: number; flag?: number; namemax: number;
  }
  export interface FuseOps {
    init?(cb: Cb): void;
    access?(path: string, mode: number, cb: Cb): void;
    statfs?(path: string, cb: Cb<FuseStatfs>): void;
    getattr?(path: string, cb: Cb<FuseStat>): void;
    fgetattr?(path: string, fd: number, cb: Cb<FuseStat>): void;
    flush?(path: string, fd: number, cb: Cb): void;
    fsync?(path: string, datasync: boolean, fd: number, cb: Cb): void;
    fsyncdir?(path: string, datasync: boolean, fd: number, cb: Cb): void;
    readdir?(path: string, cb: (code: number, names?: string[], stats?: FuseStat[]) => void): void;
    truncate?(path: string, size: number, cb: Cb): void;
    ftruncate?(path: string, fd: number, size: number, cb: Cb): void;
    readlink?(path: string, cb: Cb<string>): void;
    chown?(path: string, uid: number, gid: number, cb: Cb): void;
    chmod?(path: string, mode: number, cb: Cb): void;
    mknod?(path: string, mode: number, dev: number, cb: Cb): void;
    setxattr?(path: string, name: string, value: Buffer, position: number, flags: number, cb: Cb): void;
    getxattr?(path: string, name: string, position: number, cb: (code: number, value?: Buffer | null) => void): void;
    listxattr?(path: string, cb: (code: number, list?: string[]) => void): void;
    removexattr?(path: string, name: string, cb: Cb): void;
    open?(path: string, flags: number, cb: Cb<number>): void;
    opendir?(path: string, flags: number, cb: Cb<number>): void;
    read?(path: string, fd: number, buffer: Buffer, length: number, position: number, cb: (result: number) => void): void;
    write?(path: string, fd: number, buffer: Buffer, length: number, position: number, cb: (result: number) => void): void;
    release?(path: string, fd: number, cb: Cb): void;
    releasedir?(path: string, fd: number, cb: Cb): void;
    create?(path: string, mode: number, cb: Cb<number>): void;
    utimens?(path: string, atime: number, mtime: number, cb: Cb): void;
    unlink?(path: string, cb: Cb): void;
    rename?(src: string, dest: string, cb: Cb): void;
    link?(src: string, dest: string, cb: Cb): void;
    symlink?(src: string, dest: string, cb: Cb): void;
    mkdir?(path: string, mode: number, cb: Cb): void;
    rmdir?(path: string, cb: Cb): void;
  }
  export interface FuseOptions {
    debug?: boolean; force?: boolean; mkdir?: boolean; fsname?: string; subtype?: string; maxRead?: number;
    autoCache?: boolean; kernelCache?: boolean; attrTimeout?: number; entryTimeout?: number; allowOther?: boolean;
    timeout?: number | false | Record<string, number | false>;
    displayFolder?: string | boolean; uid?: number; gid?: number;
  }
  class Fuse {
    constructor(mnt: string, ops: FuseOps, opts?: FuseOptions);
    readonly mnt: string;
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    static unmount(mnt: string, cb: (err: Error | null) => void): void;
    static isConfigured(cb: (err: Error | null, configured: boolean) => void): void;
  }
  export default Fuse;
}
