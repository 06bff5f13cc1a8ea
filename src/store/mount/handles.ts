import type { FileHandle } from 'node:fs/promises';
import type { ArchiveView } from './archive-view.js';
import type { FileReader } from './file-reader.js';
import { FsError } from './fs-error.js';
import type { Working } from './working-files.js';

/**
 * A read-only handle on an archive file keeps reading that file's current content, as a
 * descriptor on a local disk does: the kernel's page cache is one per file, so bytes an older
 * version served to one handle would be served to every later reader too.
 */
export interface Follow {
  view: ArchiveView;
  /** The file's path now (renames move it); null once it was removed or replaced. */
  path: string | null;
  /** Which content the handle reads (see contentKey). */
  content: string;
  /** The view's overlay version when that was last checked (see Overlay.version). */
  checked: number;
}

/** What an open file handle reads from and writes to. */
export type Handle = (
  /** A committed file, read through the frame cache. */
  | { kind: 'reader'; reader: FileReader }
  /** A plain local file: a Finder file, or a closed file's staging copy not committed yet. */
  | { kind: 'fd'; fh: FileHandle; writable: boolean }
  /** A file's working copy, shared by every handle open on it. */
  | { kind: 'working'; working: Working; writable: boolean }
) & { follow?: Follow };

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

  /** Points a handle number at another source (a reader following its file's new content). */
  replace(fh: number, handle: Handle): boolean {
    if (!this.handles.has(fh)) return false;
    this.handles.set(fh, handle);
    return true;
  }

  /** Open handles that follow a file (see Follow). */
  followers(): Follow[] {
    const out: Follow[] = [];
    for (const h of this.handles.values()) if (h.follow) out.push(h.follow);
    return out;
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
