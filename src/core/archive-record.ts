import { createHmac, timingSafeEqual } from 'node:crypto';
import { DosError, ErrorCodes } from './errors.js';
import type { KeySet } from './keyring.js';
import type { ManifestFrame, ManifestPack } from './manifest.js';

/**
 * The archive record: the small, public pointer a backend publishes per archive (a file for
 * the local backend, the machine-readable block of an archive card on Discord). It says where
 * the current manifest's frames are, so the index can be rebuilt from the backend alone.
 * It is MACed with the record key, so nobody without USER_KEY can redirect it.
 */
export type ArchiveStatus = 'uploading' | 'complete' | 'partial' | 'failed' | 'deleted';

export interface ArchiveRecord {
  format: 'dos-archive';
  version: 4;
  storeId: string;
  archiveId: string;
  lot: number;
  name: string;
  generation: number;
  createdAt: string;
  updatedAt: string;
  status: ArchiveStatus;
  stats: { files: number; bytes: number; storedBytes: number; packs: number };
  manifest: { packs: ManifestPack[]; frames: ManifestFrame[]; length: number };
  mac?: string;
}

function macOf(keys: KeySet, record: ArchiveRecord): string {
  const { mac: _mac, ...unsigned } = record;
  return createHmac('sha256', keys.recordKey).update(JSON.stringify(unsigned)).digest('hex');
}

export function signRecord(keys: KeySet, record: ArchiveRecord): ArchiveRecord {
  const { mac: _mac, ...unsigned } = record;
  return { ...unsigned, mac: macOf(keys, unsigned as ArchiveRecord) };
}

export function encodeRecord(record: ArchiveRecord): Buffer {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

/** Parses a published record and checks its MAC; a forged or foreign record is CORRUPT. */
export function decodeRecord(keys: KeySet, bytes: Buffer): ArchiveRecord {
  let record: ArchiveRecord;
  try {
    record = JSON.parse(bytes.toString('utf8')) as ArchiveRecord;
  } catch (err) {
    throw new DosError(ErrorCodes.CORRUPT, 'an archive record is not valid JSON', {}, { cause: err });
  }
  if (!record || record.format !== 'dos-archive' || typeof record.archiveId !== 'string') {
    throw new DosError(ErrorCodes.CORRUPT, 'an archive record is malformed');
  }
  if (record.version !== 4) throw new DosError(ErrorCodes.UNSUPPORTED, `archive record version ${String(record.version)} is not supported`);
  if (record.storeId !== keys.storeId) {
    throw new DosError(ErrorCodes.CORRUPT, `archive record ${record.archiveId} belongs to another store`, { archive: record.archiveId });
  }
  const expected = Buffer.from(macOf(keys, record), 'hex');
  const actual = Buffer.from(typeof record.mac === 'string' ? record.mac : '', 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new DosError(ErrorCodes.CORRUPT, `archive record ${record.archiveId} failed authentication`, { archive: record.archiveId });
  }
  return record;
}
