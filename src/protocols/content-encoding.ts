/**
 * A request body's Content-Encoding, undone before any protocol reads the body: gzip (Salesforce Connect's
 * "Compress Requests", and any vendor client that compresses uploads) is inflated within the server's body limit,
 * which then applies to the decompressed size — a small body that would expand to gigabytes costs the limit at
 * most; identity passes; anything else is refused (415) rather than read as if it were plain. The journal keeps the
 * decompressed body (what the client meant, not its compressed bytes).
 */
import { kMaxLength } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import type { Exchange } from '../engine/exchange.js';

/**
 * A gzip body inflated to at most `maxBytes`: zlib stops there. Throws an Error saying which: "the gzip body
 * expands beyond N bytes" or "the body is not valid gzip".
 */
export function gunzipBody(body: Buffer, maxBytes: number): Buffer {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`gunzipBody: maxBytes must be a positive integer, not ${maxBytes}`);
  try {
    return gunzipSync(body, { maxOutputLength: Math.min(maxBytes, kMaxLength) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`the gzip body expands beyond ${maxBytes} bytes`);
    throw new Error('the body is not valid gzip');
  }
}

export type EncodingRefusal = { status: 400 | 413 | 415; message: string };

/** The exchange's body with its Content-Encoding undone (also kept for the journal), or why it cannot be. */
export function decodedBody(exchange: Exchange, maxBytes: number): { body: Buffer | undefined } | EncodingRefusal {
  const body = exchange.body;
  const header = exchange.headers['content-encoding'];
  if (header === undefined || body === undefined || body.length === 0) return { body };
  const encoding = String(header).trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return { body };
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    return { status: 415, message: `Content-Encoding: ${encoding.slice(0, 40)} is not supported; send the body as is or gzip-compressed.` };
  }
  try {
    const inflated = gunzipBody(body, maxBytes);
    exchange.journalBody = inflated;
    return { body: inflated };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { status: /expands beyond/.test(message) ? 413 : 400, message: `Content-Encoding: gzip: ${message}.` };
  }
}
