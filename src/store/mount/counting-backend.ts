import type { Backend, ByteRange, PackUpload } from '../../backends/backend.js';

/** What went through a backend (the mount reports it in `dos status`). */
export interface BackendCounters {
  reads: number;
  readBytes: number;
  writes: number;
  writtenBytes: number;
}

/**
 * The same backend, counting pack reads and writes. A proxy rather than a class listing every
 * member: the optional ones (seed archives, progress, upload hints...) must stay exactly as
 * present or absent as on the backend itself, including members added later.
 */
export function countingBackend(inner: Backend): { backend: Backend; counters: BackendCounters } {
  const counters: BackendCounters = { reads: 0, readBytes: 0, writes: 0, writtenBytes: 0 };
  const putPack = async (pack: PackUpload): Promise<string> => {
    const locator = await inner.putPack(pack);
    counters.writes++;
    counters.writtenBytes += pack.data.length;
    return locator;
  };
  const readPack = async (locator: string, range?: ByteRange): Promise<Buffer> => {
    const data = await inner.readPack(locator, range);
    counters.reads++;
    counters.readBytes += data.length;
    return data;
  };
  const backend = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'putPack') return putPack;
      if (prop === 'readPack') return readPack;
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { backend, counters };
}
