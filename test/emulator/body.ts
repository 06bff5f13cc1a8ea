import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { ApiError, Errors } from './errors.js';

export interface UploadedFile {
  /** Index n from the part name `files[n]` (or the part's position). */
  index: number;
  fieldName: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface ParsedBody {
  json: unknown;
  files: UploadedFile[];
  multipart: boolean;
  bytes: number;
}

export interface BodyLimits {
  /** Whole request body; 413/40005 as soon as it is crossed. */
  maxRequestBytes: number;
  /** One file part; 413/40005 as soon as it is crossed. */
  maxFileBytes: number;
}

/** Stop feeding a request we already answered, but keep draining it so the client can read our answer. */
function drain(req: IncomingMessage): void {
  req.unpipe();
  req.removeAllListeners('data');
  req.on('data', () => {});
  req.resume();
}

/**
 * Reads a REST body: JSON, or multipart/form-data parsed as a stream with busboy (payload_json + files[n]).
 * Byte limits are enforced while reading, so a too-large upload is refused as soon as the limit is crossed.
 */
export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<ParsedBody> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return readMultipart(req, limits);
  return readJson(req, limits.maxRequestBytes);
}

function readJson(req: IncomingMessage, max: number): Promise<ParsedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      total += chunk.length;
      if (total > max) {
        failed = true;
        drain(req);
        reject(Errors.tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
      failed = true;
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({ json: {}, files: [], multipart: false, bytes: total });
      try {
        resolve({ json: JSON.parse(text), files: [], multipart: false, bytes: total });
      } catch {
        reject(Errors.invalidJson());
      }
    });
  });
}

function readMultipart(req: IncomingMessage, limits: BodyLimits): Promise<ParsedBody> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: { fieldSize: limits.maxRequestBytes, fields: 1000, parts: 2000 },
      });
    } catch {
      reject(new ApiError(400, 50035, 'Invalid Form Body'));
      return;
    }
    let total = 0;
    let done = false;
    const files: UploadedFile[] = [];
    const fields: Record<string, string> = {};
    let payloadJson: string | undefined;
    let pending = 0;
    let closed = false;

    const fail = (err: unknown): void => {
      if (done) return;
      done = true;
      drain(req);
      reject(err);
    };
    const finish = (): void => {
      if (done || !closed || pending > 0) return;
      done = true;
      let json: unknown = { ...fields };
      if (payloadJson !== undefined) {
        try {
          const parsed: unknown = JSON.parse(payloadJson);
          json = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { ...fields, ...parsed } : parsed;
        } catch {
          reject(Errors.invalidJson());
          return;
        }
      }
      files.sort((a, b) => a.index - b.index);
      resolve({ json, files, multipart: true, bytes: total });
    };

    req.on('data', (chunk: Buffer) => {
      if (done) return;
      total += chunk.length;
      if (total > limits.maxRequestBytes) fail(Errors.tooLarge());
    });
    req.on('error', (err) => fail(err));

    bb.on('field', (name, value) => {
      if (name === 'payload_json') payloadJson = value;
      else fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      pending++;
      const chunks: Buffer[] = [];
      let size = 0;
      const m = /^files?\[(\d+)\]$/.exec(name);
      const index = m ? Number(m[1]) : files.length + pending - 1;
      stream.on('data', (chunk: Buffer) => {
        if (done) return;
        size += chunk.length;
        if (size > limits.maxFileBytes) {
          stream.resume();
          fail(Errors.tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => {
        pending--;
        if (done) return;
        files.push({
          index,
          fieldName: name,
          filename: info.filename ?? `file${index}`,
          contentType: info.mimeType || 'application/octet-stream',
          data: Buffer.concat(chunks, size),
        });
        finish();
      });
    });
    bb.on('error', () => fail(new ApiError(400, 50035, 'Invalid Form Body')));
    bb.on('close', () => {
      closed = true;
      finish();
    });
    req.pipe(bb);
  });
}
