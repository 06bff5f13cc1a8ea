/**
 * The seed's history log (legacy-format.md §3.7): every entry variant, ids kept exact, archive
 * ids derived for old entries without the seed's "today's date" fallback.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDosError } from '../../src/core/errors.js';
import { deriveArchiveId, parseHistoryLog, readHistoryLog } from '../../src/legacy/index.js';
import { makeTempDir, removeTempDir } from '../helpers/seed-fixtures.js';

/** One entry of every variant, written like Python's json.dump(indent=4) (ids as bare integers). */
const LOG = `[
    {
        "lot": 1,
        "timestamp": "2025-02-12 09:15:00",
        "status": "success",
        "file_count": 3,
        "total_size_bytes": 1200,
        "message_ids": [1339123456789012345, 1339123456789012346]
    },
    {
        "lot": 2,
        "archive_id": "#130225-02",
        "timestamp": "2025-02-13 10:00:00",
        "message_ids": [1339223456789012345, 1339223456789012346, 1339223456789012347],
        "status": "failed",
        "file_count": 2,
        "total_size_bytes": 2048,
        "uploaded_files": ["1-data_aaa_bbb_0000.bin"],
        "failed_files": ["2-manifest_100000_130225.json"],
        "errors": {"2-manifest_100000_130225.json": "HTTPException: 503 Service Unavailable"}
    },
    {
        "lot": 3,
        "archive_id": "#140225-03",
        "timestamp": "2025-02-14 11:00:00",
        "message_ids": [1440000000000000001],
        "status": "success",
        "file_count": 1,
        "total_size_bytes": 10,
        "uploaded_files": ["x.bin"],
        "failed_files": [],
        "archive_message_id": 1440000000000000002,
        "thread_id": 1440000000000000003
    },
    {
        "lot": 7,
        "archive_id": "#170126-07",
        "timestamp": "2026-01-17 14:30:05",
        "message_ids": [1443895810012345678],
        "status": "partial",
        "file_count": null,
        "total_size_bytes": 9964638,
        "uploaded_files": ["0001-5f2c0d9a11be-9c1e47a0b2d3f4e5-0000.bin"],
        "failed_files": ["1-manifest_143005_170126.json"],
        "thread_id": 1443895810012345677,
        "archive_message_id": 1443895810012345676,
        "archive_channel_id": 1443895800000000001,
        "storage_channel_id": null,
        "chunk_count": 2,
        "errors": {"1-manifest_143005_170126.json": "timeout"}
    },
    {
        "lot": "8",
        "timestamp": "not a date"
    },
    {
        "lot": null,
        "archive_id": "170126-9"
    },
    "not an entry",
    {
        "lot": 10,
        "timestamp": "2026-02-30 10:00:00"
    }
]`;

describe('parseHistoryLog', () => {
  const entries = parseHistoryLog(LOG);

  it('reads every variant and skips elements that are not entries', () => {
    expect(entries).toHaveLength(7);
    expect(entries.map((e) => e.era)).toEqual(['pre-repo', 'channel', 'migrated', 'card', 'pre-repo', 'channel', 'pre-repo']);
  });

  it('keeps every Discord id exact, as strings', () => {
    expect(entries[0]!.messageIds).toEqual(['1339123456789012345', '1339123456789012346']);
    expect(entries[2]).toMatchObject({ archiveMessageId: '1440000000000000002', threadId: '1440000000000000003', archiveChannelId: null });
    expect(entries[3]).toMatchObject({
      messageIds: ['1443895810012345678'],
      threadId: '1443895810012345677',
      archiveMessageId: '1443895810012345676',
      archiveChannelId: '1443895800000000001',
      storageChannelId: null,
    });
    expect(entries[3]!.raw.thread_id).toBe('1443895810012345677');
  });

  it('normalises stored archive ids and derives missing ones from lot + timestamp', () => {
    expect(entries[0]).toMatchObject({ archiveId: '#120225-01', archiveIdDerived: true, lot: 1 });
    expect(entries[1]).toMatchObject({ archiveId: '#130225-02', archiveIdDerived: false });
    expect(entries[5]).toMatchObject({ archiveId: '#170126-09', lot: null });
  });

  it('gives no id (instead of today’s date) when the timestamp does not parse or is impossible', () => {
    expect(entries[4]).toMatchObject({ lot: 8, archiveId: null, archiveIdDerived: false });
    expect(entries[6]).toMatchObject({ lot: 10, archiveId: null });
  });

  it('fills absent keys with null or empty values', () => {
    expect(entries[0]).toMatchObject({ uploadedFiles: [], failedFiles: [], errors: {}, threadId: null, chunkCount: null, status: 'success' });
    expect(entries[1]!.errors).toEqual({ '2-manifest_100000_130225.json': 'HTTPException: 503 Service Unavailable' });
    expect(entries[3]).toMatchObject({ fileCount: null, chunkCount: 2, totalSizeBytes: 9964638 });
  });

  it('refuses a log that is not a JSON list (the seed silently read it as empty)', () => {
    for (const text of ['[{"lot": 1}', '{"lot": 1}', '']) {
      let error: unknown;
      try {
        parseHistoryLog(text);
      } catch (err) {
        error = err;
      }
      expect(isDosError(error, 'CORRUPT'), text).toBe(true);
    }
  });
});

describe('deriveArchiveId', () => {
  it('is #DDMMYY-NN from the timestamp’s date and the lot', () => {
    expect(deriveArchiveId(7, '2026-01-17 14:30:05')).toBe('#170126-07');
    expect(deriveArchiveId(123, '2026-01-17 00:00:00')).toBe('#170126-123');
    expect(deriveArchiveId(5, '2026-1-7 3:04:05')).toBe('#070126-05'); // strptime accepts one-digit fields
  });
  it('is null without a lot or a parseable timestamp', () => {
    expect(deriveArchiveId(null, '2026-01-17 14:30:05')).toBeNull();
    expect(deriveArchiveId(7, null)).toBeNull();
    expect(deriveArchiveId(7, '17/01/2026')).toBeNull();
  });
});

describe('readHistoryLog', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await makeTempDir();
  });
  afterEach(async () => {
    await removeTempDir(tmp);
  });

  it('reads a log file, and a missing file is an empty history (fresh install)', async () => {
    await writeFile(join(tmp, 'discord-drive-history.json'), LOG);
    expect(await readHistoryLog(join(tmp, 'discord-drive-history.json'))).toHaveLength(7);
    expect(await readHistoryLog(join(tmp, 'missing.json'))).toEqual([]);
  });
});
