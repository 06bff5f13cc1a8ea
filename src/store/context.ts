import type { Backend } from '../backends/backend.js';
import type { CompressionPolicy } from '../core/frame.js';
import type { KeySet } from '../core/keyring.js';
import type { StoreIndex } from '../index/store-index.js';

/** What every engine operation needs; built once by openStore. */
export interface StoreContext {
  backend: Backend;
  index: StoreIndex;
  keys: KeySet;
  frameSize: number;
  compression: CompressionPolicy;
  /** One-line notices for the user (the CLI prints them to stderr). */
  notice: (message: string) => void;
}

/** Progress of a long operation, in bytes; the CLI draws it as a bar on a TTY. */
export type ProgressFn = (done: number, total: number) => void;
