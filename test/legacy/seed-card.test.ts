/**
 * Seed archive cards (legacy-format.md §3.2–3.3): parsing every form the seed accepted, with
 * snowflakes kept exact, and rendering cards the Python tool can read that always fit Discord.
 */
import { describe, expect, it } from 'vitest';
import { DISCORD_LIMITS, embedLength, formatBytes, parseSeedCard, renderSeedCard, type SeedCardMeta } from '../../src/legacy/index.js';

const SNOWFLAKE = '1443895810012345678';

/** A card exactly as the seed's !upload wrote it (JSON produced by Python's json.dumps). */
const SEED_JSON =
  '{"lot":7,"archive_id":"#170126-07","timestamp":"2026-01-17 14:30:05","status":"success","file_count":2,"total_size_bytes":9961472,' +
  '"uploaded_files":["0001-a.bin","2-manifest_143005_170126.json"],"failed_files":[],"message_ids":[1443895810012345678,1443895810012345679],' +
  '"chunk_count":2,"files_display":["Caf\\u00e9 \\u00fcber.mov","notes.txt"],"uploader":"shakib","archive_channel_id":1443895800000000001,' +
  '"storage_channel_id":null,"thread_id":1443895810012345677}';
const SEED_CONTENT = '```json\n' + SEED_JSON + '\n```';

const META: SeedCardMeta = {
  lot: 7,
  archive_id: '#170126-07',
  timestamp: '2026-01-17 14:30:05',
  status: 'success',
  file_count: 2,
  total_size_bytes: 9961472,
  uploaded_files: ['0001-a.bin', '2-manifest_143005_170126.json'],
  failed_files: [],
  message_ids: [SNOWFLAKE, '1443895810012345679'],
  chunk_count: 2,
  files_display: ['Café über.mov', 'notes.txt'],
  uploader: 'shakib',
  archive_channel_id: '1443895800000000001',
  storage_channel_id: null,
  thread_id: '1443895810012345677',
};

describe('parseSeedCard', () => {
  it('reads the ```json block with every snowflake exact (as strings) and adds archive_message_id', () => {
    const card = parseSeedCard(SEED_CONTENT, [], '1443895899999999999');
    expect(card).toEqual({ ...META, archive_message_id: '1443895899999999999' });
    expect(card!.message_ids![0]).toBe(SNOWFLAKE);
  });

  it('keeps an archive_message_id the card already carries (cards rewritten by !resume)', () => {
    const content = SEED_CONTENT.replace('"thread_id"', '"archive_message_id":1443895811111111111,"thread_id"');
    expect(parseSeedCard(content, [], '1')!.archive_message_id).toBe('1443895811111111111');
  });

  it('matches the fence lazily: the JSON ends at the first } followed by ```', () => {
    const content = '```json\n{"archive_id":"#010126-01","lot":1}\n```\nand later {"not": "this"} ```';
    expect(parseSeedCard(content, [], '5')).toEqual({ archive_id: '#010126-01', lot: 1, archive_message_id: '5' });
  });

  it('falls back to the greedy {…} span when there is no fenced block', () => {
    const content = `Archive card: {"archive_id":"#010126-02","thread_id":${SNOWFLAKE},"errors":{"a.bin":"HTTP 500"}} (edited)`;
    expect(parseSeedCard(content, [], '5')).toEqual({ archive_id: '#010126-02', thread_id: SNOWFLAKE, errors: { 'a.bin': 'HTTP 500' }, archive_message_id: '5' });
  });

  it('falls back to the first embed when there is no JSON (or it does not parse)', () => {
    const embeds = [
      {
        title: '📦 Archive #170126-07',
        fields: [
          { name: '📅 Timestamp', value: '2026-01-17 14:30:05' },
          { name: '📁 Files', value: '3 files (showing 10)\na.mov\nb.mov' },
          { name: '📊 Total Size', value: '9.50 MB' },
          { name: '✅ Status', value: 'partial' },
        ],
        footer: { text: 'Lot 7 • Uploader: shakib' },
      },
      { title: '📦 Archive #999999-99' },
    ];
    const expected = {
      archive_id: '#170126-07',
      timestamp: '2026-01-17 14:30:05',
      files_display: ['3 files (showing 10)', 'a.mov', 'b.mov'],
      status: 'partial',
      lot: 7,
      archive_message_id: '42',
    };
    expect(parseSeedCard('', embeds, '42')).toEqual(expected);
    expect(parseSeedCard('```json\n{not json}\n```', embeds, '42')).toEqual(expected);
  });

  it('returns null for messages that are not cards', () => {
    expect(parseSeedCard('hello', [], '1')).toBeNull();
    expect(parseSeedCard('{}', [], '1')).toBeNull();
    expect(parseSeedCard('[1, 2]', [], '1')).toBeNull();
    expect(parseSeedCard('', [{ title: 'no id here', fields: [{ name: 'Size', value: '1 B' }] }], '1')).toBeNull();
  });

  it('keeps unknown keys and wrongly typed known keys in `extra` instead of losing them', () => {
    const card = parseSeedCard('{"archive_id":"#010126-03","lot":"seven","future_key":{"big":12345678901234567890}}', [], '1')!;
    expect(card.archive_id).toBe('#010126-03');
    expect(card.lot).toBeUndefined();
    expect(card.extra).toEqual({ lot: 'seven', future_key: { big: '12345678901234567890' } });
  });
});

describe('renderSeedCard', () => {
  it('writes exactly what the seed wrote for a card that fits: compact ASCII JSON, ids as bare integers', () => {
    expect(renderSeedCard(META).content).toBe(SEED_CONTENT);
  });

  it('builds the seed embed: title, fields in order, colour by status, footer', () => {
    const { embed } = renderSeedCard({ ...META, progress_text: 'Uploading... 1/2 chunks (9.50 MB / 9.50 MB)' });
    expect(embed.title).toBe('📦 Archive #170126-07');
    expect(embed.color).toBe(0x2ecc71);
    expect(embed.fields).toEqual([
      { name: '📅 Timestamp', value: '2026-01-17 14:30:05', inline: false },
      { name: '📁 Files', value: 'Café über.mov\nnotes.txt', inline: false },
      { name: '📊 Total Size', value: '9.50 MB', inline: true },
      { name: '🧩 Chunks', value: '2 chunks', inline: true },
      { name: '✅ Status', value: 'success', inline: true },
      { name: '💾 Download', value: '`!download #170126-07`', inline: false },
      { name: '⏳ Progress', value: 'Uploading... 1/2 chunks (9.50 MB / 9.50 MB)', inline: false },
    ]);
    expect(embed.footer).toEqual({ text: 'Lot 7 • Uploader: shakib' });
  });

  it.each([
    ['success', 0x2ecc71],
    ['PARTIAL', 0xf1c40f],
    ['failed', 0xe74c3c],
    ['deleted', 0x7f8c8d],
    ['unknown', 0x95a5a6],
  ])('colours status %s', (status, color) => {
    expect(renderSeedCard({ status }).embed.color).toBe(color);
  });

  it('follows the seed for missing values: Unknown, unknown, "{n} files", no footer', () => {
    const { embed } = renderSeedCard({ archive_id: '#010126-01', file_count: 4 });
    expect(embed.fields.map((f) => f.value)).toEqual(['unknown', '4 files', 'Unknown size', 'Unknown', 'unknown', '`!download #010126-01`']);
    expect(embed.footer).toBeUndefined();
    const many = renderSeedCard({ files_display: Array.from({ length: 12 }, (_, i) => `f${i}`) }).embed.fields[1]!.value;
    expect(many.split('\n')).toEqual(['12 files (showing 10)', ...Array.from({ length: 10 }, (_, i) => `f${i}`)]);
  });

  it('applies the seed truncation: lists over 120 items, then the three lists dropped past 1800 characters', () => {
    const ids = Array.from({ length: 150 }, (_, i) => String(1443895810012345000n + BigInt(i)));
    const json = renderSeedCard({ archive_id: '#010126-01', message_ids: ids }).content;
    expect(json).toContain('"metadata_truncated":true');
    expect(json).toContain('"message_ids_truncated":true');
    expect(json).not.toContain('"message_ids":[');
    const small = renderSeedCard({ archive_id: '#010126-01', message_ids: ids.slice(0, 121) }).content;
    expect(small).toContain('"message_ids_truncated":true');
  });

  it('stays within every Discord limit with 500 long non-ASCII names, and round-trips through parse', () => {
    const names = Array.from({ length: 500 }, (_, i) => `${i} 日本語のとても長いファイル名 — ünïcödé 😀 ${'é'.repeat(200)}.mov`);
    const errors = Object.fromEntries(names.slice(0, 100).map((n) => [n, `HTTPException: 413 Payload Too Large ${'x'.repeat(300)}`]));
    const meta: SeedCardMeta = {
      ...META,
      status: 'partial',
      uploader: 'ü'.repeat(3000),
      files_display: names,
      uploaded_files: names,
      failed_files: names,
      errors,
      progress_text: `Uploading... ${'…'.repeat(2000)}`,
      timestamp: 't'.repeat(500),
      archive_id: `#170126-07${'x'.repeat(400)}`,
    };
    const { content, embed } = renderSeedCard(meta);
    expect(content.length).toBeLessThanOrEqual(DISCORD_LIMITS.content);
    expect(content).toMatch(/^[\x00-\x7f]*$/);
    expect(embed.title.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedTitle);
    for (const field of embed.fields) {
      expect(field.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedFieldValue);
      expect(field.value.length).toBeGreaterThan(0);
    }
    expect(embed.footer!.text.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedFooter);
    expect(embedLength(embed)).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);

    const back = parseSeedCard(content, [embed], '1443895899999999999')!;
    expect(back.thread_id).toBe(META.thread_id);
    expect(back.archive_channel_id).toBe(META.archive_channel_id);
    expect(back.lot).toBe(7);
    expect(back.status).toBe('partial');
    expect(back.archive_message_id).toBe('1443895899999999999');
  });

  it('keeps as many file names as fit, ending with "… and N more"', () => {
    const names = Array.from({ length: 500 }, (_, i) => `Ünïcode file ${i}.mov`);
    const { content } = renderSeedCard({ ...META, files_display: names });
    const back = parseSeedCard(content, [], '1')!;
    const shown = back.files_display as string[];
    expect(shown.length).toBeGreaterThan(10);
    expect(shown.slice(0, -1)).toEqual(names.slice(0, shown.length - 1));
    expect(shown.at(-1)).toBe(`… and ${500 - (shown.length - 1)} more`);
    // The seed's own rule dropped the three lists first; ids that locate the archive survive.
    expect(back.metadata_truncated).toBe(true);
    expect(back.message_ids).toBeUndefined();
    expect(back.thread_id).toBe(META.thread_id);
    expect(content.length).toBeLessThanOrEqual(2000);
  });

  it('round-trips a parsed card: render(parse(card)) gives the same card', () => {
    const parsed = parseSeedCard(SEED_CONTENT, [], '1443895899999999999')!;
    const again = parseSeedCard(renderSeedCard(parsed).content, [], 'other')!;
    expect(again).toEqual(parsed);
    expect(renderSeedCard(parsed).content).toContain(`"archive_message_id":1443895899999999999`);
  });
});

describe('formatBytes (the seed’s format_bytes, Python rounding)', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1024, '1.00 KB'],
    [1152, '1.12 KB'], // exact tie 1.125: Python rounds half to even, toFixed would say 1.13
    [1664, '1.62 KB'], // 1.625
    [1408, '1.38 KB'], // 1.375
    [1179648, '1.12 MB'],
    [9961472, '9.50 MB'],
    [1e12, '931.32 GB'],
    [3 * 1024 ** 5, '3072.00 TB'],
    [null, 'Unknown size'],
  ])('%s → %s', (size, text) => {
    expect(formatBytes(size)).toBe(text);
  });
});
