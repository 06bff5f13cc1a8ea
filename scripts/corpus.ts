import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The benchmark corpus of issue #2 (~140 MB): 24 incompressible 4 MiB "photos", 18 × 2 MiB
 * text files, 300 small JSON files and a deep tree. Deterministic, so runs compare.
 */
export function makeCorpus(root: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const write = (path: string, data: Buffer | string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), data);
    files++;
    bytes += Buffer.byteLength(data);
  };
  for (let i = 0; i < 24; i++) write(`photos/IMG_${1000 + i}.jpg`, pseudoRandom(4 * 1024 * 1024, `photo${i}`));
  for (let i = 0; i < 18; i++) write(i % 2 === 0 ? `documents/notes-${i}.txt` : `logs/server-${i}.log`, i % 2 === 0 ? prose(2 * 1024 * 1024, i + 1) : logLines(2 * 1024 * 1024, i + 1));
  for (let i = 0; i < 300; i++) {
    write(`data/records/${String(i).padStart(3, '0')}.json`, JSON.stringify({ id: i, name: `record ${i}`, tags: ['alpha', 'beta', String(i % 7)], created: new Date(1_700_000_000_000 + i * 86_400_000).toISOString(), body: prose(400 + (i % 5) * 300, 1000 + i) }, null, 2));
  }
  let deep = 'project';
  for (let depth = 0; depth < 12; depth++) {
    deep += `/level-${depth}`;
    write(`${deep}/README.md`, prose(3000, 5000 + depth));
  }
  return { files, bytes };
}

function pseudoRandom(length: number, seed: string): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let offset = 0, counter = 0; offset < length; offset += 32, counter++) {
    createHash('sha256').update(`${seed}:${counter}`).digest().copy(out, offset);
  }
  return out;
}

const WORDS = (
  'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'
).split(' ');

/** A small deterministic generator of numbers in [0, 1): the corpus is the same on every run. */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

const LOG_TEMPLATES = [
  'INFO  http request method=GET path=/api/v1/items/{n} status=200 duration_ms={d}',
  'INFO  http request method=POST path=/api/v1/orders status=201 duration_ms={d}',
  'DEBUG cache hit key=user:{n}:profile ttl=300',
  'WARN  slow query table=orders rows={n} duration_ms={d}',
  'INFO  job finished name=thumbnail-worker id={n} duration_ms={d}',
  'ERROR upstream timeout service=payments attempt={a} request_id={n}',
];

/** Server-log-like text: timestamps and a few repeating templates, as most text on disks is. */
function logLines(length: number, seed: number): string {
  const next = xorshift(seed);
  const lines: string[] = [];
  let size = 0;
  let clock = 1_767_225_600_000 + seed * 3_600_000;
  while (size < length) {
    clock += Math.floor(next() * 900);
    const template = LOG_TEMPLATES[Math.floor(LOG_TEMPLATES.length * next() ** 1.5)]!;
    const line = `${new Date(clock).toISOString()} ${template.replace('{n}', String(Math.floor(next() * 50000))).replace('{d}', String(Math.floor(next() * 400))).replace('{a}', String(1 + Math.floor(next() * 3)))}\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join('').slice(0, length);
}

/** English-like text with numbers and punctuation: compresses like real notes and logs do. */
function prose(length: number, seed: number): string {
  const next = xorshift(seed);
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    const sentence: string[] = [];
    const words = 6 + Math.floor(next() * 14);
    for (let w = 0; w < words; w++) {
      // Zipf-ish: frequent words dominate, as in real text.
      const word = WORDS[Math.floor(WORDS.length * next() ** 2.2)]!;
      sentence.push(next() < 0.04 ? String(Math.floor(next() * 100000)) : word);
    }
    const text = `${sentence.join(' ')}${next() < 0.15 ? '.\n' : '. '}`;
    parts.push(text);
    size += text.length;
  }
  return parts.join('').slice(0, length);
}
