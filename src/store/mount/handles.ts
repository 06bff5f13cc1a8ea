import type { FileHandle } from 'node:fs/promises';
import type { FileReader } from './file-reader.js';
import { FsError } from './fs-error.js';
import type { Working } from './working-files.js';

/** What an open file handle reads from and writes to. */
export type Handle =
  /** A committed file, read through the frame cache. */
  | { kind: 'reader'; reader: FileReader }
  /** A plain local file: a Finder file, or a closed file's staging copy not committed yet. */
  | { kind: 'fd'; fh: FileHandle; writable: boolean }
  /** A file's working copy, shared by every handle open on it. */
  | { kind: 'working'; working: Working; writable: boolean };

/** The kernel's file handle numbers (positive 31-bit, reused after wrapping) → handles. */
export class HandleTable {
  private readonly handles = new Map<number, Handle>();
  private next = 1;

  add(handle: Handle): number {
    const fh = this.next;
    this.next = this.next >= 0x7fffffff ? 1 : this.next + 1;
    this.handles.set(fh, handle);
    return fh;
  }

  get(fh: number): Handle {
    const h = this.handles.get(fh);
    if (!h) throw new FsError('EBADF');
    return h;
  }

  find(fh: number): Handle | undefined {
    return this.handles.get(fh);
  }

  /** Forgets a handle; returns what it was (undefined if unknown). */
  take(fh: number): Handle | undefined {
    const h = this.handles.get(fh);
    this.handles.delete(fh);
    return h;
  }

  ids(): number[] {
    return [...this.handles.keys()];
  }
}
