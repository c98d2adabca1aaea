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
  /** When RGW started serving the request (the bracketed date, ms since the epoch; RGW's coarse clock). */
  startedMs: number;
  /** RGW's `latency=`: how long it served the request, in ms. */
  latencyMs: number;
}

const BEAST = /beast: \S+: \S+ - \S+ \[([^\]]+)\] "(\w+) ([^ ?"]+)(?:\?([^ "]*))? HTTP\/[\d.]+" (\d+) (\d+)/;

const LATENCY = / latency=([\d.]+)s/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The beast access line's date, `07/Dec/2026:20:43:37.687 +0000`, as ms since the epoch (NaN when it is not that shape). */
function beastDate(text: string): number {
  const d = /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))? ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!d) return NaN;
  const utc = Date.UTC(Number(d[3]), MONTHS.indexOf(d[2]!), Number(d[1]), Number(d[4]), Number(d[5]), Number(d[6]), Number((d[7] ?? '0').padEnd(3, '0')));
  const offsetMs = (Number(d[9]) * 60 + Number(d[10])) * 60_000;
  return d[8] === '+' ? utc - offsetMs : utc + offsetMs;
}

export async function readRgwLog(stateDir: string): Promise<RgwLogEntry[]> {
  const text = await readFile(join(stateDir, 'log', 'client.rgw.log'), 'utf8');
  const out: RgwLogEntry[] = [];
  for (const line of text.split('\n')) {
    const m = BEAST.exec(line);
    if (!m) continue;
    const query = new URLSearchParams(m[4] ?? '');
    // The SDK sends CompleteMultipartUpload (POST ?uploadId) without an x-id.
    const operation = query.get('x-id') ?? (m[2] === 'POST' && query.has('uploadId') ? 'CompleteMultipartUpload' : undefined);
    const latency = LATENCY.exec(line.slice(m.index + m[0].length));
    out.push({
      method: m[2]!, path: decodeURIComponent(m[3]!), query, operation, status: Number(m[5]), bytes: Number(m[6]),
      startedMs: beastDate(m[1]!), latencyMs: latency ? Number(latency[1]) * 1000 : NaN,
    });
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
