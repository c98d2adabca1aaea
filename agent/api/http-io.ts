import type { IncomingMessage, ServerResponse } from 'node:http';
import { isVmxferError, vmxError } from '../core/errors.js';
import { API } from './error-codes.js';
import { fieldError, fieldOf } from '../core/field-error.js';

/** docs/api.md: a submit body is a few hundred bytes; anything past this is refused unread. */
export const MAX_BODY_BYTES = 64 * 1024;
/** docs/api.md "Wave submit": a wave of up to 500 jobs; the request as a whole, read into memory once. */
export const MAX_WAVE_BYTES = 1024 * 1024;

const STATUS: Record<string, number> = {
  API_UNAUTHORIZED: 401,
  API_BAD_REQUEST: 400,
  API_OUTSIDE_ROOTS: 400,
  API_NOT_A_FILE: 400,
  API_NOT_FOUND: 404,
  API_METHOD_NOT_ALLOWED: 405,
  API_NOT_CANCELLABLE: 409,
  API_NOT_SYNC: 409,
  API_BODY_TOO_LARGE: 413,
  API_UNAVAILABLE: 503,
  // The shared job store's server is away (agent/fleet): the agent is fine, the fleet's state cannot be read now.
  FLEET_STORE_UNREACHABLE: 503,
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Any error as the API's JSON error; unexpected ones as a 500 with a generic message (details go to the log). */
export function sendError(res: ServerResponse, err: unknown): void {
  if (!isVmxferError(err)) {
    sendJson(res, 500, { error: { code: 'VMX_INTERNAL', category: 'internal', message: 'internal error' } });
    return;
  }
  const status = STATUS[err.code] ?? (err.category === 'usage' ? 400 : 500);
  const field = fieldOf(err);
  sendJson(res, status, { error: { code: err.code, category: err.category, message: err.message, ...(field ? { field } : {}) } });
}

/**
 * Reads a JSON body of at most `limit` bytes, larger ones refused without buffering them; with its size,
 * for a caller whose own limit depends on what the body is (one job or a wave).
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<{ value: unknown; bytes: number }> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return { value: parseJsonText(Buffer.concat(chunks).toString('utf8')), bytes: size };
}

function parseJsonText(text: string): unknown {
  if (text.trim() === '') throw fieldError(API.BAD_REQUEST, 'body', 'is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw fieldError(API.BAD_REQUEST, 'body', `is not valid JSON (${(err as Error).message})`);
  }
}

export function tooLarge(limit: number, what = 'the request body') {
  return vmxError(API.BODY_TOO_LARGE, `${what} exceeds ${limit} bytes`);
}
