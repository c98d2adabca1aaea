import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * RGW's own record of the requests it served: the beast frontend's access lines in
 * client.rgw.log (debug rgw 1, the default), e.g.
 *   beast: 0x..: 127.0.0.1 - user [date] "PUT /bucket/key?partNumber=1&uploadId=..&x-id=UploadPartCopy HTTP/1.1" 200 217 - "agent" - latency=..
 * The AWS SDK names the operation in `x-id` (but for CompleteMultipartUpload); the figure after the status is the bytes RGW logged for the request.
 */
export interface RgwLogEntry {
  method: string;
  path: string;
  query: URLSearchParams;
  operation: string | undefined;
  status: number;
  bytes: number;
}

const BEAST = /beast: \S+: \S+ - \S+ \[[^\]]+\] "(\w+) ([^ ?"]+)(?:\?([^ "]*))? HTTP\/[\d.]+" (\d+) (\d+)/;

export async function readRgwLog(stateDir: string): Promise<RgwLogEntry[]> {
  const text = await readFile(join(stateDir, 'log', 'client.rgw.log'), 'utf8');
  const out: RgwLogEntry[] = [];
  for (const line of text.split('\n')) {
    const m = BEAST.exec(line);
    if (!m) continue;
    const query = new URLSearchParams(m[3] ?? '');
    // The SDK sends CompleteMultipartUpload (POST ?uploadId) without an x-id.
    const operation = query.get('x-id') ?? (m[1] === 'POST' && query.has('uploadId') ? 'CompleteMultipartUpload' : undefined);
    out.push({ method: m[1]!, path: decodeURIComponent(m[2]!), query, operation, status: Number(m[4]), bytes: Number(m[5]) });
  }
  return out;
}

/** The log's entries for one upload id, once RGW has logged its CompleteMultipartUpload (the log is written asynchronously). */
export async function rgwUploadRequests(stateDir: string, uploadId: string, from = 0, timeoutMs = 15_000): Promise<RgwLogEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mine = (await readRgwLog(stateDir)).slice(from).filter((e) => e.query.get('uploadId') === uploadId);
    if (mine.some((e) => e.operation === 'CompleteMultipartUpload' && e.status === 200)) return mine;
    if (Date.now() > deadline) throw new Error(`RGW's log has no completed upload ${uploadId} after ${timeoutMs} ms (${mine.length} entries)`);
    await sleep(200);
  }
}

/** A cursor into the log after what RGW has logged so far (its log thread given a moment to catch up). */
export async function rgwLogCursor(stateDir: string): Promise<number> {
  await sleep(1000);
  return (await readRgwLog(stateDir)).length;
}
