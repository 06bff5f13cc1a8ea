import type { EntryRow } from '../../index/store-index.js';
import type { TreeChange } from '../tree-change.js';

/** A file whose content is a local staging file (written through the mount, not committed yet). */
export interface StagedFile {
  staging: string;
  size: number;
  mode: number;
  mtimeMs: number;
}

/** What a path of the overlay holds, in front of the committed tree. */
type LocalNode =
  | { kind: 'whiteout' }
  /** A folder made here: opaque (nothing committed shows through it). */
  | { kind: 'dir'; mode: number; mtimeMs: number }
  | { kind: 'file'; file: StagedFile }
  /** The committed entry at `source` shown at this path (a rename, or new attributes). */
  | { kind: 'ref'; source: string; mode?: number; mtimeMs?: number };

/** A path as the mount shows it. */
export interface ViewNode {
  type: 'file' | 'dir' | 'symlink';
  size: number;
  mode: number;
  mtimeMs: number;
  /** The committed entry behind it (file frames, symlink target), if any. */
  entry?: EntryRow;
  /** For folders: the committed folder whose children show through ('' = archive root). */
  source?: string;
  /** Local content not committed yet. */
  staged?: StagedFile;
}

export interface CommittedTree {
  entry(path: string): EntryRow | undefined;
  children(path: string): EntryRow[];
  root(): { mode: number; mtimeMs: number };
}

const DIR_MODE = 0o755;
const FILE_MODE = 0o644;

export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export const isUnder = (path: string, dir: string): boolean => path.startsWith(`${dir}/`);

/**
 * One archive as the mount shows it: the committed tree (the index) with the changes that are
 * not committed yet laid over it. The overlay is a pure function of the committed tree and the
 * pending changes, replayed in order (`apply`), so after a commit it is rebuilt from what is
 * still pending; files open for writing are laid on top (`setFile`).
 */
export class Overlay {
  private readonly nodes = new Map<string, LocalNode>();
  private readonly kids = new Map<string, Set<string>>();
  private changes = 0;

  constructor(private readonly tree: CommittedTree) {}

  /**
   * Counts changes to this overlay (a rebuild after a commit clears it too): what it shows
   * cannot have changed while this stays the same. Lets a reader's per-read check skip
   * resolve(), which reads the committed entry from the index.
   */
  get version(): number {
    return this.changes;
  }

  clear(): void {
    this.changes++;
    this.nodes.clear();
    this.kids.clear();
  }

  get size(): number {
    return this.nodes.size;
  }

  private set(path: string, node: LocalNode): void {
    this.changes++;
    this.nodes.set(path, node);
    const parent = parentPath(path);
    let names = this.kids.get(parent);
    if (!names) this.kids.set(parent, (names = new Set()));
    names.add(baseName(path));
  }

  private unset(path: string): void {
    if (!this.nodes.delete(path)) return;
    this.changes++;
    const parent = parentPath(path);
    const names = this.kids.get(parent);
    names?.delete(baseName(path));
    if (names && names.size === 0) this.kids.delete(parent);
  }

  /** Local nodes at and under `path` (deepest last). */
  private subtree(path: string): Array<[string, LocalNode]> {
    const out: Array<[string, LocalNode]> = [];
    const own = this.nodes.get(path);
    if (own) out.push([path, own]);
    const walk = (dir: string) => {
      for (const name of this.kids.get(dir) ?? []) {
        const child = dir === '' ? name : `${dir}/${name}`;
        out.push([child, this.nodes.get(child)!]);
        walk(child);
      }
    };
    walk(path);
    return out;
  }

  private clearSubtree(path: string): void {
    for (const [p] of this.subtree(path).reverse()) this.unset(p);
  }

  private fromEntry(entry: EntryRow, attrs?: { mode?: number; mtimeMs?: number }): ViewNode {
    return {
      type: entry.type, size: entry.type === 'file' ? entry.size : entry.type === 'symlink' ? Buffer.byteLength(entry.target ?? '') : 0,
      mode: attrs?.mode ?? entry.mode, mtimeMs: attrs?.mtimeMs ?? entry.mtimeMs, entry, source: entry.type === 'dir' ? entry.path : undefined,
    };
  }

  private committedAt(source: string, attrs?: { mode?: number; mtimeMs?: number }): ViewNode | undefined {
    if (source === '') {
      const root = this.tree.root();
      return { type: 'dir', size: 0, mode: attrs?.mode ?? root.mode, mtimeMs: attrs?.mtimeMs ?? root.mtimeMs, source: '' };
    }
    const entry = this.tree.entry(source);
    return entry && this.fromEntry(entry, attrs);
  }

  /** The node at `path` ('' = the archive's root), or undefined. */
  resolve(path: string): ViewNode | undefined {
    let p = path;
    for (;;) {
      const node = p === '' ? undefined : this.nodes.get(p);
      if (node) {
        if (p === path) {
          switch (node.kind) {
            case 'whiteout': return undefined;
            case 'dir': return { type: 'dir', size: 0, mode: node.mode, mtimeMs: node.mtimeMs };
            case 'file': return { type: 'file', size: node.file.size, mode: node.file.mode, mtimeMs: node.file.mtimeMs, staged: node.file };
            case 'ref': return this.committedAt(node.source, node);
          }
        }
        if (node.kind !== 'ref') return undefined; // under a whiteout, a file, or an opaque new folder
        return this.committedAt(node.source + path.slice(p.length));
      }
      if (p === '') return this.committedAt(path);
      p = parentPath(p);
    }
  }

  /** The children of a folder by name, or undefined when `path` is not a folder. */
  list(path: string): Map<string, ViewNode> | undefined {
    const dir = this.resolve(path);
    if (!dir || dir.type !== 'dir') return undefined;
    const out = new Map<string, ViewNode>();
    const prefix = path === '' ? '' : `${path}/`;
    if (dir.source !== undefined) {
      for (const entry of this.tree.children(dir.source)) {
        const name = baseName(entry.path);
        if (!this.nodes.has(prefix + name)) out.set(name, this.fromEntry(entry));
      }
    }
    for (const name of this.kids.get(path) ?? []) {
      const node = this.resolve(prefix + name);
      if (node) out.set(name, node);
    }
    return out;
  }

  /** Lays a file open for writing (or just closed) over `path`. */
  setFile(path: string, file: StagedFile): void {
    this.clearSubtree(path);
    this.set(path, { kind: 'file', file });
  }

  /** Replays one change on the view (the same change the engine will commit). */
  apply(change: TreeChange, size?: number): void {
    switch (change.op) {
      case 'mkdir': {
        const existing = this.resolve(change.path);
        if (existing?.type === 'dir') {
          this.setAttr(change.path, change.mode, change.mtimeMs);
          return;
        }
        this.ensureParents(change.path);
        this.clearSubtree(change.path);
        this.set(change.path, { kind: 'dir', mode: change.mode ?? DIR_MODE, mtimeMs: change.mtimeMs ?? Date.now() });
        return;
      }
      case 'put-file': {
        const existing = this.resolve(change.path);
        if (existing?.type === 'dir') return; // the engine refuses it too
        this.ensureParents(change.path);
        this.setFile(change.path, { staging: change.source, size: size ?? 0, mode: change.mode ?? existing?.mode ?? FILE_MODE, mtimeMs: change.mtimeMs ?? Date.now() });
        return;
      }
      case 'remove': {
        this.clearSubtree(change.path);
        this.set(change.path, { kind: 'whiteout' });
        return;
      }
      case 'rename': {
        const { from, to } = change;
        if (from === to || isUnder(to, from)) return;
        const moving = this.resolve(from);
        if (!moving) return; // already applied (a replay after a crash)
        const own = this.nodes.get(from);
        const node: LocalNode = own && own.kind !== 'whiteout'
          ? own
          : moving.staged ? { kind: 'file', file: moving.staged }
            : moving.source !== undefined ? { kind: 'ref', source: moving.source, mode: moving.mode, mtimeMs: moving.mtimeMs }
              : moving.entry ? { kind: 'ref', source: moving.entry.path, mode: moving.mode, mtimeMs: moving.mtimeMs }
                : { kind: 'dir', mode: moving.mode, mtimeMs: moving.mtimeMs };
        const below = this.subtree(from).filter(([p]) => p !== from);
        this.ensureParents(to);
        this.clearSubtree(from);
        this.clearSubtree(to);
        this.set(to, node);
        for (const [p, n] of below) this.set(to + p.slice(from.length), n);
        this.set(from, { kind: 'whiteout' });
        return;
      }
      case 'set-attr':
        this.setAttr(change.path, change.mode, change.mtimeMs);
        return;
    }
  }

  private setAttr(path: string, mode: number | undefined, mtimeMs: number | undefined): void {
    const own = this.nodes.get(path);
    if (own && own.kind === 'file') {
      own.file = { ...own.file, mode: mode ?? own.file.mode, mtimeMs: mtimeMs ?? own.file.mtimeMs };
      return;
    }
    if (own && (own.kind === 'dir' || own.kind === 'ref')) {
      if (mode !== undefined) own.mode = mode;
      if (mtimeMs !== undefined) own.mtimeMs = mtimeMs;
      return;
    }
    const node = this.resolve(path);
    if (!node || path === '') return;
    if (node.staged) this.set(path, { kind: 'file', file: { ...node.staged, mode: mode ?? node.staged.mode, mtimeMs: mtimeMs ?? node.staged.mtimeMs } });
    else if (node.entry) this.set(path, { kind: 'ref', source: node.entry.path, mode: mode ?? node.mode, mtimeMs: mtimeMs ?? node.mtimeMs });
  }

  /** The engine creates missing parent folders; so does the view. */
  private ensureParents(path: string): void {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!this.resolve(dir)) {
        this.clearSubtree(dir);
        this.set(dir, { kind: 'dir', mode: DIR_MODE, mtimeMs: Date.now() });
      }
    }
  }
}

/** Where `path` is after `from` moved to `to` (null: removed); unchanged when outside `from`. */
export function pathAfterMove(path: string, from: string, to: string | null): string | null {
  if (path !== from && !isUnder(path, from)) return path;
  return to === null ? null : to + path.slice(from.length);
}

/** Which content a file node shows: its staging copy, or its committed version. */
export function contentKey(node: ViewNode): string {
  return node.staged ? `staged:${node.staged.staging}` : `entry:${node.entry?.sha256 ?? ''}:${node.size}`;
}

